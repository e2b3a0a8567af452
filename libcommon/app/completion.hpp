// The command line of a tool as its shell completion reads it (completion/oos.bash, docs/reference.md section 21):
// every visible subcommand, option and positional of the CLI11 App that --help prints, so that the completion
// cannot drift from --help.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <string_view>

namespace oos::app {

// The hidden first argument that prints completion_spec() instead of running the tool: `TOOL --completion-spec`.
inline constexpr std::string_view k_completion_spec_flag = "--completion-spec";

// One line per word a user may type, fields separated by one space, top-level scope "-":
//   sub - VERB                     a subcommand
//   opt SCOPE --NAME KIND          an option of SCOPE (a verb or -); KIND "-" for a flag
//   pos SCOPE NAME KIND MAX        a positional; MAX 1, or n for one that takes several
// KIND says what completes a value: queue (an option or positional named queue), id (checked by k_task_id),
// file and dir (type names FILE and DIR), choice:A,B,C (a CLI::IsMember set), else any. Hidden subcommands and
// options (empty group) are left out, as --help leaves them out.
std::string completion_spec(const CLI::App& app);

}  // namespace oos::app
