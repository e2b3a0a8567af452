#include "app/job.hpp"

#include <SQLiteCpp/Exception.h>
#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "error.hpp"
#include "store/sqlite_event_log.hpp"
#include "util/time.hpp"

namespace oos::app {
namespace {

using metrics::Type;

struct History {
  std::optional<util::UnixMillis> last_success;
  std::optional<std::int64_t> succeeded;  // runs, from the events
  std::optional<std::int64_t> failed;
};

// Records the failure (unless empty) and reads the job's history from the events: those of `events`, or else of
// the state database opened for it. Best effort: a database that cannot be opened (what an integrity check may
// have just found) or read leaves the history out.
std::optional<History> record_and_read_history(Context& context, store::EventLog* events, const Job& job,
                                               const std::string& failure) {
  auto failed_event = fmt::format("{}.failed", job.name);
  try {
    std::unique_ptr<db::Database> db;
    std::optional<store::SqliteEventLog> opened;
    if (!events) {
      db = open_database(context);
      events = &opened.emplace(*db);
    }
    const std::optional<std::string> object = job.host.empty() ? std::nullopt : std::optional(host_object(job.host));
    if (!failure.empty())
      events->record(context.clock.now(), failed_event, object ? std::string_view(*object) : job.name, failure);
    return History{events->last_at(job.success_event, object), events->count(job.success_event, object),
                   events->count(failed_event, object)};
  } catch (const std::exception& e) {
    context.logger->warn(fmt::format("{}: run not recorded, counters left out of the metrics: {}", job.name, e.what()));
    return std::nullopt;
  }
}

void write_metrics(Context& context, const Job& job, metrics::Exposition& out, util::UnixMillis started, double seconds,
                   int code, const std::optional<History>& history) {
  auto name = [&](std::string_view what) { return fmt::format("oos_{}_{}", job.name, what); };
  out.add(name("last_run_timestamp_seconds"), Type::gauge, "When the last run started (Unix time)",
          static_cast<double>(started) / 1000);
  out.add(name("last_run_duration_seconds"), Type::gauge, "How long the last run took", seconds);
  out.add(name("last_run_exit_code"), Type::gauge, "The exit code of the last run (0: success)", code);
  if (history) {
    if (history->last_success)
      out.add(name("last_success_timestamp_seconds"), Type::gauge, "When the last successful run ended (Unix time)",
              static_cast<double>(*history->last_success) / 1000);
    if (history->succeeded)
      out.add(name("runs_succeeded_total"), Type::counter, "Successful runs recorded in the events",
              static_cast<double>(*history->succeeded));
    if (history->failed)
      out.add(name("runs_failed_total"), Type::counter, "Failed runs recorded in the events",
              static_cast<double>(*history->failed));
  }
  auto written = metrics::write_textfile(context.config.metrics.textfile_dir, job.name, out.text());
  if (!written) context.logger->warn(written.error());
}

int run_job_on(Context& context, store::EventLog* events, const Job& job,
               const std::function<int(metrics::Exposition&)>& body) {
  auto started = context.clock.now();
  double t0 = util::monotonic_seconds();
  metrics::Exposition own;
  int code = 0;
  std::string failure;
  bool corrupt = false;
  std::exception_ptr error;
  try {
    code = body(own);
    if (std::find(job.success_codes.begin(), job.success_codes.end(), code) == job.success_codes.end())
      failure = fmt::format("exit code {}", code);
  } catch (const SQLite::Exception& e) {
    error = std::current_exception();
    corrupt = db::is_corruption(e);
  } catch (const std::exception&) {
    error = std::current_exception();
  }
  if (error) {
    auto described = describe_failure(error, context.db_path());
    code = described.code;
    failure = fmt::format("exit code {}: {}", code, described.message);
  }
  double seconds = util::monotonic_seconds() - t0;
  std::optional<History> history;
  if (!job.success_event.empty())
    history = record_and_read_history(context, events, job, job.record_failures && !corrupt ? failure : "");
  else if (failure.empty())
    history = History{context.clock.now(), std::nullopt, std::nullopt};
  if (!context.config.metrics.textfile_dir.empty()) write_metrics(context, job, own, started, seconds, code, history);
  if (error) std::rethrow_exception(error);
  return code;
}

}  // namespace

int run_job(Context& context, const Job& job, const std::function<int(metrics::Exposition&)>& body) {
  return run_job_on(context, nullptr, job, body);
}

int run_job(Context& context, store::EventLog& events, const Job& job,
            const std::function<int(metrics::Exposition&)>& body) {
  return run_job_on(context, &events, job, body);
}

}  // namespace oos::app
