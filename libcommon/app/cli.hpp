// CLI11 glue shared by the tools: the common options and parsing with the error rules of docs/reference.md section 2
// (one line on stderr and exit 64, never the whole help text).
#pragma once

#include <CLI/CLI.hpp>

#include <optional>

#include "app/context.hpp"
#include "dry_run.hpp"

namespace oos::app {

// A count that must be at least 1, with a message a person can read.
extern const CLI::Validator k_at_least_one;
// A queue or type name, checked before anything is opened: "queue: invalid name 'a b': use ...".
extern const CLI::Validator k_name;
// A task id: a number too large for 64 bits is "task id '99999999999999999999' is out of range" instead
// of CLI11's silent clamp to the largest id.
extern const CLI::Validator k_task_id;

// Adds --config, --state-dir and --log-level to `app` (and --version).
void add_common_options(CLI::App& app, CommonOptions& options);

// Adds --dry-run to `app` (or a subcommand): given, it sets `dry_run` to DryRun::yes.
CLI::Option* add_dry_run_flag(CLI::App& app, DryRun& dry_run, const std::string& description);

// Parses argv. Returns an exit code when the process should stop now (help or version printed: 0;
// usage error printed as "TOOL: error: ...": 64), nullopt to go on. `TOOL --completion-spec` alone prints
// completion_spec(app) (app/completion.hpp) and returns 0.
std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv);

}  // namespace oos::app
