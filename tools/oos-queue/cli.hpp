// The command line of oos-queue: every verb of docs/reference.md section 8.1 parsed into one plain struct.
#pragma once

#include <optional>
#include <string>

#include "app/context.hpp"
#include "queue/list_limits.hpp"

namespace oos::tools::queue {

enum class Verb {
  enqueue,
  status,
  stats,
  list,
  show,
  cancel,
  pause,
  resume,
  breaker,
  metrics,
  claim,
  complete,
  fail,
  renew,
  complete_words  // the hidden `__complete queues|ids [PREFIX]` of the shell completion
};

struct Command {
  Verb verb = Verb::status;
  app::CommonOptions common;
  std::string queue;
  std::string type;
  std::optional<std::string> data;  // JSON, @FILE or - (stdin)
  int priority = 0;
  std::optional<std::string> delay;  // a duration
  std::optional<int> max_attempts;
  std::optional<std::string> unique_key;
  bool batch = false;
  bool json = false;
  std::optional<std::string> status;  // list --status
  int limit = static_cast<int>(oos::queue::k_default_task_limit);
  std::int64_t id = 0;
  bool reset = false;     // breaker --reset
  bool textfile = false;  // metrics --textfile
  // claim, complete, fail, renew (external workers)
  std::optional<std::string> lease;   // --lease, a duration
  std::optional<std::string> worker;  // claim --worker
  std::string token;                  // --token
  std::optional<std::string> result;  // complete --result: JSON or @FILE
  std::string error;                  // fail --error
  bool permanent = false;             // fail --permanent
  // __complete (completion/oos.bash): which words, and what was typed of the word; --status is `status` above
  std::string complete_what;
  std::string prefix;
};

// Parses argv into `command`. Returns an exit code when the process should stop (help, version, usage
// error), nullopt to go on.
std::optional<int> parse(int argc, char** argv, Command& command);

// How `command` uses the database: read-only for the commands that only read (status, stats, list, show, breaker
// without --reset, metrics, __complete).
db::Access access(const Command& command);

}  // namespace oos::tools::queue
