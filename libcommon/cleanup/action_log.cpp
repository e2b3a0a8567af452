#include "cleanup/action_log.hpp"

#include <cerrno>
#include <cstring>

#include "error.hpp"
#include "util/files.hpp"

namespace oos::cleanup {

ActionLog::ActionLog(const std::filesystem::path& dir, util::UnixMillis now, DryRun dry_run) : m_dry_run(dry_run) {
  if (auto made = util::ensure_directory(dir); !made) throw Error(ExitCode::io_error, "cleanup log: " + made.error());
  m_path = dir / ("cleanup-" + util::format_iso8601(now).substr(0, 10) + ".jsonl");
  if (auto created = util::create_private(m_path); !created)
    throw Error(ExitCode::io_error, "cleanup log: " + created.error());
  m_out.open(m_path, std::ios::app);
  if (!m_out)
    throw Error(ExitCode::io_error,
                "cleanup log '" + m_path.string() + "': cannot open for appending: " + std::strerror(errno));
}

void ActionLog::write(nlohmann::json entry, util::UnixMillis now) {
  entry["time"] = util::format_iso8601(now);
  entry["dry_run"] = m_dry_run == DryRun::yes;
  // Paths need not be UTF-8: invalid bytes become U+FFFD rather than an exception.
  m_out << entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  m_out.flush();
}

}  // namespace oos::cleanup
