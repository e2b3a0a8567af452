#include "worker/worker.hpp"

#include "db/database.hpp"

#include <SQLiteCpp/Exception.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <system_error>

#include "error.hpp"
#include "keys/key_ring.hpp"
#include "secrets.hpp"
#include "util/child_process.hpp"

namespace oos::worker {
namespace {

double seconds(util::Millis ms) {
  return static_cast<double>(ms.count()) / 1000.0;
}

}  // namespace

struct Worker::Run {
  queue::ClaimedTask claimed;
  std::shared_ptr<const std::map<std::string, config::HandlerConfig>> handlers;  // keeps `handler` alive
  const config::HandlerConfig* handler = nullptr;
  std::vector<std::string> secrets;                 // the values given to the handler, scrubbed from what it prints
  std::vector<GivenKey> keys;                       // one key of each of the handler's key rings
  std::optional<util::UnixMillis> keys_cool_until;  // the handler reported them exhausted: cool down until then
  std::unique_ptr<RunningProcess> child;
  const InProcessHandler* builtin = nullptr;  // instead of a child
  double started = 0;                         // m_clock.monotonic() seconds, like every deadline here
  double timeout_at = 0;
  double renew_at = 0;
  double renew_every = 0;
  double lease_until = 0;         // when the lease expires as last renewed
  std::optional<double> kill_at;  // SIGKILL due after a SIGTERM
  bool timed_out = false;
  bool release = false;     // the shutdown grace ran out: hand the task back
  bool lease_lost = false;  // another worker reclaimed it: record nothing
  // How the run ended, once known; written to the store by finish() (retried if the database was busy).
  std::optional<RunOutcome> ending;
  // Writes of `ending` that failed for the storage, and when to try again (record_retry.hpp).
  std::optional<RecordFailures> failed_writes;
  double record_at = 0;
};

Worker::Worker(store::Backend& backend, const config::Config& config, const util::Clock& clock, log::Logger& logger,
               WorkerOptions options, HandlerInputs inputs, std::unique_ptr<ProcessLauncher> launcher)
    : m_backend(backend),
      m_config(config),
      m_clock(clock),
      m_logger(logger),
      m_store(backend.tasks()),
      m_options(std::move(options)),
      m_inputs(std::move(inputs)),
      m_launcher(std::move(launcher)),
      // Not owned: the config outlives the worker, and until a reload the worker runs with its handlers.
      m_handlers(std::shared_ptr<const std::map<std::string, config::HandlerConfig>>(), &config.handlers) {
  util::Millis shortest = m_config.queue.lease;
  for (const auto& queue : m_options.queues) shortest = std::min(shortest, m_config.queue_settings(queue).lease);
  m_reclaim_every = seconds(shortest) / 3;
}

Worker::~Worker() = default;

void Worker::add_builtin(std::string type, InProcessHandler handler) {
  m_builtins[std::move(type)] = std::move(handler);
}

void Worker::replace_handlers(std::map<std::string, config::HandlerConfig> handlers) {
  m_handlers = std::make_shared<const std::map<std::string, config::HandlerConfig>>(std::move(handlers));
}

void Worker::log_task(log::LogLevel level, const queue::Task& task, const std::string& message) {
  if (!m_logger.enabled(level)) return;
  m_logger.log(level, fmt::format("task {}: {}", task.id, message),
               {{"task_id", std::to_string(task.id)},
                {"queue", task.queue},
                {"type", task.type},
                {"attempt", std::to_string(task.attempts)},
                {"worker", m_options.name}});
}

Step Worker::step() {
  if (!m_run) return claim_next();
  if (!m_run->ending) return step_running();
  return m_run->failed_writes ? retry_record() : finish();
}

void Worker::request_stop() {
  if (stopping()) return;
  m_stop_deadline = m_clock.monotonic() + seconds(m_config.worker.shutdown_grace);
  m_logger.info(m_run ? fmt::format("stopping: task {} gets {} to finish", m_run->claimed.task.id,
                                    util::format_duration(m_config.worker.shutdown_grace))
                      : std::string("stopping"),
                {{"worker", m_options.name}});
}

Step Worker::claim_next() {
  if (!may_claim()) return Step::done;
  reclaim_if_due();
  auto claimed = m_store.claim(m_options.queues, m_options.name);
  if (!claimed) return m_options.drain && drained() ? Step::done : Step::idle;
  start(std::move(*claimed));
  return m_run->ending ? finish() : Step::claimed;
}

bool Worker::drained() {
  auto next = m_store.next_run_at(m_options.queues);
  return !next || *next > m_clock.now() + k_drain_horizon.count();
}

void Worker::start(queue::ClaimedTask claimed) {
  auto run = std::make_unique<Run>();
  run->claimed = std::move(claimed);
  run->started = m_clock.monotonic();
  run->renew_every = seconds(m_config.queue_settings(run->claimed.task.queue).lease) / 3;
  run->renew_at = run->started + run->renew_every;
  run->lease_until = run->started + run->renew_every * 3;
  const auto& task = run->claimed.task;
  ++m_counters.started;
  log_task(log::LogLevel::info, task,
           fmt::format("started (type '{}', attempt {}/{}{})", task.type, task.attempts, task.max_attempts,
                       run->claimed.probe ? ", breaker probe" : ""));
  m_run = std::move(run);
  auto& r = *m_run;
  auto fail = [&](policy::FailureKind kind, std::string error) {
    r.ending = RunOutcome{Verdict::fail, {}, {kind, std::move(error), std::nullopt}, {}, {}};
  };

  if (auto builtin = m_builtins.find(task.type); builtin != m_builtins.end()) {
    r.builtin = &builtin->second;  // run by the next step, so that a step runs at most one handler
    return;
  }
  r.handlers = m_handlers;
  auto handler = r.handlers->find(task.type);
  if (handler == r.handlers->end()) {
    fail(policy::FailureKind::permanent, fmt::format("no handler for type '{}'", task.type));
    return;
  }
  r.handler = &handler->second;
  auto env = handler_environment(task.type, *r.handler, task, m_inputs.env_names, m_inputs.env, m_inputs.secrets);
  if (!env) {
    m_logger.error(env.error() + "; fix the configuration or the credentials, then requeue");
    fail(policy::FailureKind::retryable, env.error());
    return;
  }
  for (const auto& key : r.handler->env_keys)
    if (auto value = m_inputs.secrets(key)) r.secrets.push_back(*value);
  if (!r.handler->key_rings.empty() && !hand_out_keys(r, *env)) return;
  r.timeout_at = r.started + seconds(r.handler->timeout);
  try {
    r.child = m_launcher->launch(util::ChildSpec{r.handler->command, std::move(*env), task.payload});
  } catch (const std::exception& e) {
    fail(policy::FailureKind::retryable, fmt::format("handler '{}': {}", task.type, e.what()));
  }
}

bool Worker::hand_out_keys(Run& run, std::vector<std::string>& env) {
  const auto& task = run.claimed.task;
  auto fail = [&](std::string error) {
    m_logger.error(error + "; fix the configuration or the credentials, then requeue");
    run.ending =
        RunOutcome{Verdict::fail, {}, {policy::FailureKind::retryable, std::move(error), std::nullopt}, {}, {}};
    return false;
  };
  auto wait_for = [&](const std::string& ring, util::UnixMillis until) {
    // Handed back until the first key is back: no attempt counted, no busy loop over the cooling ring.
    log_task(log::LogLevel::warn, task,
             fmt::format("every key of ring {} cools down; the task waits until {}, when the first is back", ring,
                         util::format_iso8601(until)));
    run.ending = RunOutcome{Verdict::release, {}, {}, {}, until};
    return false;
  };
  try {
    if (!m_fingerprint_key) m_fingerprint_key = m_backend.key_rings().fingerprint_key();
    const auto& rings = run.handler->key_rings;
    std::vector<std::vector<std::string>> ring_keys;
    for (const auto& ring : rings) {
      ring_keys.push_back(keys::parse_ring(m_inputs.secrets(ring).value_or("")).keys);
      if (ring_keys.back().empty())
        return fail(
            fmt::format("handler '{}': key ring '{}' named in key_rings is not set or holds no key", task.type, ring));
    }
    auto& store = m_backend.key_rings();
    // Of several rings, one whose every key cools down sends the task back before any key is taken: taking marks
    // a key used, and the run would not happen (docs/decisions.md).
    if (rings.size() > 1)
      for (std::size_t i = 0; i < rings.size(); ++i) {
        auto states = keys::sync_ring(store.keys(rings[i]), keys::fingerprints(*m_fingerprint_key, ring_keys[i]));
        if (auto until = keys::choose_key(states.states, m_clock.now()).wait_until) return wait_for(rings[i], *until);
      }
    for (std::size_t i = 0; i < rings.size(); ++i) {
      auto taken = store.take(rings[i], ring_keys[i], *m_fingerprint_key, m_clock.now());
      if (!taken) return wait_for(rings[i], taken.error());
      env.push_back(keys::key_variable(rings[i]) + "=" + taken->value);
      run.secrets.push_back(taken->value);
      run.keys.push_back({rings[i], taken->fingerprint});
    }
  } catch (const std::exception& e) {
    // The database refused the pick (busy, gone): the task goes back at once, as if never started.
    log_task(log::LogLevel::warn, task, fmt::format("cannot hand out a key: {}; the task goes back", e.what()));
    run.ending = RunOutcome{Verdict::release, {}, {}, {}, {}};
    return false;
  }
  return true;
}

Step Worker::step_running() {
  auto& run = *m_run;
  if (run.builtin) {
    run_builtin(run);
    return finish();
  }
  double now = m_clock.monotonic();
  double next = std::min(run.kill_at.value_or(run.timed_out ? run.renew_at : run.timeout_at), run.renew_at);
  if (m_stop_deadline && !run.release) next = std::min(next, *m_stop_deadline);
  // Rounded up: a wait cut short by rounding would leave the deadline a fraction of a millisecond away.
  int wait_ms = static_cast<int>(std::ceil(std::clamp((next - now) * 1000.0, 0.0, 100.0)));
  if (run.child->step(wait_ms)) {
    end_of_child(run);
    return finish();
  }
  enforce_deadlines(run, m_clock.monotonic());
  return Step::running;
}

void Worker::run_builtin(Run& run) {
  const auto& task = run.claimed.task;
  auto fail = [&](std::string error) {
    run.ending =
        RunOutcome{Verdict::fail, {}, {policy::FailureKind::retryable, std::move(error), std::nullopt}, {}, {}};
  };
  if (stopping()) {
    run.ending = RunOutcome{Verdict::release, {}, {}, {}, {}};  // claimed but not started: hand it back
    return;
  }
  try {
    auto result = (*run.builtin)(task);
    if (result.succeeded)
      run.ending = RunOutcome{Verdict::complete, std::move(result.result), {}, {}, {}};
    else
      run.ending = RunOutcome{Verdict::fail, {}, std::move(result.failure), {}, {}};
  } catch (const std::exception& e) {
    fail(fmt::format("built-in handler '{}' failed: {}", task.type, e.what()));
  } catch (...) {
    fail(fmt::format("built-in handler '{}' failed", task.type));
  }
}

void Worker::enforce_deadlines(Run& run, double now) {
  const auto& task = run.claimed.task;
  auto stop_group = [&](int signal) {
    run.child->signal_group(signal);
    run.kill_at = signal == SIGTERM ? std::optional(now + seconds(k_kill_grace)) : std::nullopt;
  };
  if (!run.timed_out && now >= run.timeout_at) {
    run.timed_out = true;
    log_task(
        log::LogLevel::warn, task,
        fmt::format("timed out after {}; stopping its process group", util::format_duration(run.handler->timeout)));
    stop_group(SIGTERM);
  }
  if (m_stop_deadline && !run.release && now >= *m_stop_deadline) {
    run.release = true;
    log_task(log::LogLevel::warn, task,
             "still running at the end of the shutdown grace; stopping it, the task will be retried");
    if (!run.kill_at) stop_group(SIGTERM);
  }
  if (run.kill_at && now >= *run.kill_at) stop_group(SIGKILL);
  if (!run.lease_lost && now >= run.renew_at && !renew_lease(run, now)) {
    run.lease_lost = true;
    log_task(
        log::LogLevel::error, task,
        "lease lost (it expired and the task was reclaimed); killing the handler, its result will not be recorded");
    stop_group(SIGKILL);
  }
}

bool Worker::renew_lease(Run& run, double now) {
  if (!m_store.renew(run.claimed.lease, run.claimed.task.queue)) return false;
  run.renew_at = now + run.renew_every;
  run.lease_until = now + run.renew_every * 3;
  return true;
}

void Worker::end_of_child(Run& run) {
  // What the handler printed, with the secrets it was given redacted, also where the kept excerpts were cut.
  RunEnd end{run.child->result(), run.timed_out, run.release, stop_requested(), run.lease_lost, m_clock.now()};
  auto& exit = end.exit;
  if (exit.output_held)
    log_task(log::LogLevel::warn, run.claimed.task,
             exit.held_killed > 0
                 ? fmt::format("left {} process(es) outside its process group holding its output open; they were "
                               "killed, the run did not wait for them",
                               exit.held_killed)
                 : std::string("left processes outside its process group holding its output open; they could not be "
                               "killed and were abandoned, the run did not wait for them"));
  bool err_cut = exit.err_tail.size() >= util::ChildSpec{}.stderr_tail;
  std::size_t out_kept = exit.out.size();
  exit.out = secrets::scrub_excerpt(std::move(exit.out), run.secrets, false, exit.out_truncated);
  exit.err_tail = secrets::scrub_excerpt(std::move(exit.err_tail), run.secrets, err_cut, false);
  run.ending = classify_run(end, *run.handler);
  if (run.ending->key_exhausted && !run.keys.empty())
    run.keys_cool_until =
        end.ended_at + run.ending->key_exhausted->retry_after.value_or(run.handler->key_cooldown).count();
  if (run.ending->verdict == Verdict::complete && exit.out_truncated) {
    // The kept result says where it was cut, and the log says so too (docs/decisions.md).
    run.ending->result += truncation_marker(out_kept, exit.out_bytes);
    log_task(log::LogLevel::warn, run.claimed.task,
             fmt::format("printed {} bytes; its result keeps the first {} and ends with a marker of the cut",
                         exit.out_bytes, out_kept));
  }
  run.child.reset();
}

Step Worker::finish() {
  auto& run = *m_run;
  const auto& task = run.claimed.task;
  auto took = fmt::format("{:.3f}s", m_clock.monotonic() - run.started);
  std::optional<queue::ClaimedTask> next;
  try {
    write_outcome(run, next, took);
  } catch (const SQLite::Exception& e) {
    if (!db::is_storage_failure(e) || !keep_for_retry(run, e)) throw;
    return Step::recording;
  }
  if (run.failed_writes)
    log_task(log::LogLevel::warn, task,
             fmt::format("outcome recorded after {} failed writes", run.failed_writes->failures));
  m_run.reset();
  if (next) start(std::move(*next));
  return Step::finished;
}

void Worker::write_outcome(Run& run, std::optional<queue::ClaimedTask>& next, const std::string& took) {
  const auto& task = run.claimed.task;
  const auto& ending = *run.ending;
  switch (ending.verdict) {
    case Verdict::complete:
    case Verdict::fail: {
      queue::RunRecord record{ending.verdict == Verdict::complete, ending.result, ending.failure};
      queue::FailOutcome recorded;
      if (may_claim()) {
        // The outcome and the next claim share one transaction (see TaskStore::record_and_claim).
        reclaim_if_due();
        auto both = m_store.record_and_claim(run.claimed.lease, record, m_options.queues, m_options.name);
        recorded = both.recorded;
        next = std::move(both.next);
      } else if (record.succeeded) {
        recorded = {m_store.complete(run.claimed.lease, record.result), queue::TaskStatus::succeeded, 0};
      } else {
        recorded = m_store.fail(run.claimed.lease, record.failure);
      }
      log_recorded(task, record, recorded, took);
      break;
    }
    case Verdict::release:
      if (run.keys_cool_until) cool_down_keys(run);
      if (m_store.release(run.claimed.lease, ending.release_until.value_or(0)) == queue::Fence::applied) {
        ++m_counters.released;
        log_task(log::LogLevel::warn, task,
                 ending.release_until ? fmt::format("released: pending again at {}, this attempt not counted",
                                                    util::format_iso8601(*ending.release_until))
                                      : std::string("released: pending again, this attempt not counted"));
      }
      break;
    case Verdict::abandon: ++m_counters.lost; break;
  }
}

void Worker::cool_down_keys(Run& run) {
  for (const auto& given : run.keys) {
    m_backend.key_rings().cool_down(given.ring, given.fingerprint, *run.keys_cool_until);
    log_task(log::LogLevel::warn, run.claimed.task,
             fmt::format("key {} of ring {} reported exhausted; not handed out until {}", given.fingerprint, given.ring,
                         util::format_iso8601(*run.keys_cool_until)));
  }
}

namespace {

const char* outcome_name(const RunOutcome& ending) {
  switch (ending.verdict) {
    case Verdict::complete: return "succeeded";
    case Verdict::fail: return "failed";
    case Verdict::release: return "released";
    case Verdict::abandon: break;
  }
  return "abandoned";
}

// What to do about an outcome that cannot be written for the storage.
std::string storage_advice(const std::filesystem::path& db_path) {
  return "free space on, or repair, the file system of '" + db_path.string() + "'";
}

}  // namespace

bool Worker::keep_for_retry(Run& run, const SQLite::Exception& e) {
  const auto& task = run.claimed.task;
  double now = m_clock.monotonic();
  ++m_counters.record_failures;
  if (!run.failed_writes) run.failed_writes = RecordFailures{now, 0, 0, run.renew_every * 3, std::nullopt};
  auto& failures = *run.failed_writes;
  ++failures.failures;
  failures.lease_until = run.lease_until;
  failures.stop_deadline = m_stop_deadline;
  auto plan = plan_record_retry(failures, now);
  if (plan.give_up) {
    log_task(log::LogLevel::critical, task,
             fmt::format("its outcome ({}) could not be written in {} tries over {:.1f}s: {}; giving up, the worker "
                         "exits and the task is run again once its lease expires: {}",
                         outcome_name(*run.ending), failures.failures, now - failures.first_failed, e.what(),
                         storage_advice(m_backend.describe())));
    return false;
  }
  run.record_at = plan.retry_at;
  if (failures.failures == 1)
    log_task(log::LogLevel::critical, task,
             fmt::format("its outcome ({}) cannot be written: {}; it is kept in memory and written again for up to "
                         "{:.1f}s (while the lease lasts): {}",
                         outcome_name(*run.ending), e.what(), record_deadline(failures) - now,
                         storage_advice(m_backend.describe())));
  else
    log_task(log::LogLevel::warn, task,
             fmt::format("its outcome still cannot be written (try {}): {}", failures.failures, e.what()));
  return true;
}

Step Worker::retry_record() {
  auto& run = *m_run;
  const auto& task = run.claimed.task;
  double now = m_clock.monotonic();
  if (m_stop_deadline) run.record_at = std::min(run.record_at, *m_stop_deadline);
  if (now >= run.record_at) return finish();
  if (!run.lease_lost && now >= run.renew_at) {
    bool renewed = true;
    try {
      renewed = renew_lease(run, now);
    } catch (const SQLite::Exception& e) {
      if (!db::is_storage_failure(e)) throw;
      run.renew_at = run.record_at;  // tried again with the outcome
    }
    if (renewed) return Step::recording;
    // Reclaimed by another worker: whatever this run found, the task is that worker's now.
    log_task(log::LogLevel::error, task,
             "lease lost while its outcome waited to be written; the task was reclaimed, this result is dropped");
    run.ending = RunOutcome{Verdict::abandon, {}, {}, {}, {}};
    run.failed_writes.reset();
    return finish();
  }
  double wait = std::min(run.record_at - now, 0.1);
  m_clock.sleep_for(static_cast<std::int64_t>(std::ceil(wait * 1000.0)));
  return Step::recording;
}

void Worker::log_recorded(const queue::Task& task, const queue::RunRecord& record, const queue::FailOutcome& recorded,
                          const std::string& took) {
  if (recorded.fence != queue::Fence::applied) return;  // the store has warned about the stale lease
  if (record.succeeded) {
    ++m_counters.succeeded;
    log_task(log::LogLevel::info, task, "succeeded in " + took);
    return;
  }
  ++m_counters.failed;
  if (recorded.status == queue::TaskStatus::dead)
    log_task(log::LogLevel::error, task,
             fmt::format("dead after attempt {}/{}: {}", task.attempts, task.max_attempts, record.failure.error));
  else
    log_task(log::LogLevel::warn, task,
             fmt::format("failed (attempt {}/{}), retry at {}: {}", task.attempts, task.max_attempts,
                         util::format_iso8601(recorded.retry_at), record.failure.error));
}

bool Worker::stop_requested() const {
  return stopping() || (m_stop_flag && *m_stop_flag);  // also a signal the loop has not passed on yet
}

bool Worker::may_claim() const {
  return !stop_requested() && !(m_options.max_tasks && m_counters.started >= *m_options.max_tasks);
}

void Worker::reclaim_if_due() {
  double now = m_clock.monotonic();
  if (m_next_reclaim && now < *m_next_reclaim) return;
  // A database restored under us (oos-integrity recovery): this connection still writes to the old file.
  if (auto* db = m_backend.sqlite(); db && db->replaced_on_disk())
    throw Error(ExitCode::temp_fail, fmt::format("database '{}' was replaced on disk (restored from a backup?); "
                                                 "the worker exits so that its restart opens the new one",
                                                 db->path().string()));
  m_store.reclaim_expired();
  m_next_reclaim = now + m_reclaim_every;
}

std::string Worker::status() const {
  if (m_run && m_run->failed_writes) {
    const auto& task = m_run->claimed.task;
    return fmt::format("writing the outcome of task {} ({}, queue {}): {} writes failed, trying again", task.id,
                       task.type, task.queue, m_run->failed_writes->failures);
  }
  if (m_run) {
    const auto& task = m_run->claimed.task;
    return fmt::format("{}task {} ({}, queue {}, attempt {}/{})", stopping() ? "stopping, finishing " : "running ",
                       task.id, task.type, task.queue, task.attempts, task.max_attempts);
  }
  if (stopping()) return "stopping";
  std::string queues;
  for (const auto& q : m_options.queues) queues += (queues.empty() ? "" : ", ") + q;
  return fmt::format("idle on {}; {} tasks run ({} succeeded, {} failed)", queues, m_counters.started,
                     m_counters.succeeded, m_counters.failed);
}

}  // namespace oos::worker
