// Whether a destructive step acts or only reports what it would do. One type for every layer above util/
// (the stores, backups, cleanup, scaling and the tools' --dry-run), so that a yes/no never travels as a bool.
#pragma once

namespace oos {

// DryRun::yes goes through the same steps and reports the same results, and changes nothing.
enum class DryRun { no, yes };

}  // namespace oos
