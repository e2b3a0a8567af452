#include "policy/health.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace oos::policy {
namespace {

using util::format_age;
using util::format_duration;
using util::Millis;

int rank(Health health) {
  switch (health) {
    case Health::ok: return 0;
    case Health::warning: return 1;
    case Health::unknown: return 2;
    case Health::critical: return 3;
  }
  return 3;
}

// Collects the problems of one object; the check ends up as bad as its worst problem.
struct Findings {
  Health status = Health::ok;
  std::vector<std::string> problems;
  void add(Health health, std::string problem) {
    if (rank(health) > rank(status)) status = health;
    problems.push_back(std::move(problem));
  }
  HealthCheck check(std::string name, std::string fine) const {
    return {std::move(name), status, problems.empty() ? std::move(fine) : fmt::format("{}", fmt::join(problems, "; "))};
  }
};

// A periodic result's age against its interval: WARNING past k_stale_warning_intervals intervals,
// CRITICAL past k_stale_critical_intervals.
Health age_verdict(Millis age, Millis interval) {
  if (age > interval * k_stale_critical_intervals) return Health::critical;
  if (age > interval * k_stale_warning_intervals) return Health::warning;
  return Health::ok;
}

HealthCheck integrity_check(const HealthInput& in) {
  auto interval = in.integrity_interval;
  if (!in.last_integrity_check)
    return {"integrity", Health::warning, "never checked: run 'oos-integrity check' (the daily timer does)"};
  auto age = Millis(in.now - *in.last_integrity_check);
  Findings f;
  if (auto verdict = age_verdict(age, interval); verdict != Health::ok)
    f.add(verdict, fmt::format("last check {} ago, integrity.interval is {}: is oos-integrity.timer running? "
                               "'systemctl list-timers oos-integrity.timer'",
                               format_age(age), format_duration(interval)));
  if (in.last_recovery && Millis(in.now - *in.last_recovery) <= interval)
    f.add(Health::warning,
          fmt::format("recovered from a backup {} ago; changes made after that backup may be lost: see "
                      "'journalctl -u oos-integrity'",
                      format_age(Millis(in.now - *in.last_recovery))));
  return f.check("integrity", fmt::format("last check ok, {} ago", format_age(age)));
}

HealthCheck backup_check(const HealthInput& in) {
  if (!in.last_backup)
    return {"backup", Health::warning,
            fmt::format("no backup in {}: run 'oos-backup create' (the timer runs it every {})", in.backup_dir,
                        format_duration(in.backup_interval))};
  auto age = Millis(in.now - *in.last_backup);
  auto verdict = age_verdict(age, in.backup_interval);
  if (verdict == Health::ok)
    return {"backup", Health::ok, fmt::format("newest {}, {} ago", in.last_backup_name, format_age(age))};
  return {"backup", verdict,
          fmt::format("newest {} is {} old, backup.interval is {}: is oos-backup.timer running? "
                      "'systemctl list-timers oos-backup.timer', or run 'oos-backup create'",
                      in.last_backup_name, format_age(age), format_duration(in.backup_interval))};
}

HealthCheck disk_check(const HealthInput& in, const DiskHealth& disk) {
  auto name = "disk " + disk.path;
  if (!disk.used_percent) return {name, Health::unknown, disk.problem};
  double used = *disk.used_percent;
  double critical = std::max<double>(k_disk_critical_percent, in.disk_threshold_percent);
  auto what = fmt::format("{:.0f}% used", used);
  if (used >= critical)
    return {name, Health::critical, what + ": free space now ('oos-cleanup --force', 'oos-backup prune')"};
  if (used >= in.disk_threshold_percent)
    return {name, Health::warning,
            fmt::format("{} (cleanup.threshold_percent {}): 'oos-cleanup --dry-run' shows what the rules would delete",
                        what, in.disk_threshold_percent)};
  return {name, Health::ok, what};
}

void judge_breaker(Findings& f, BreakerState state, util::UnixMillis opened_at, util::UnixMillis now,
                   std::string_view hint) {
  if (state == BreakerState::closed) return;
  auto open_for = Millis(now - opened_at);
  auto verdict = open_for > k_breaker_open_critical ? Health::critical : Health::warning;
  f.add(verdict, fmt::format("breaker {} for {}; it closes after a successful probe; {}", to_string(state),
                             format_age(open_for), hint));
}

HealthCheck queue_check(const HealthInput& in, const QueueHealth& q) {
  Findings f;
  judge_breaker(f, q.breaker, q.breaker_opened_at, in.now,
                fmt::format("the failures: 'oos-queue stats {}'; to close it by hand: 'oos-queue breaker {} --reset'",
                            q.name, q.name));
  if (q.runnable > q.depth_alert)
    f.add(Health::warning,
          fmt::format("{} runnable tasks, over queue.depth_alert {}: 'oos-scale --dry-run' says whether more "
                      "workers would run",
                      q.runnable, q.depth_alert));
  if (q.dead_recent > 0)
    f.add(Health::warning, fmt::format("{} {} dead-lettered in the last {} ({} dead in all): 'oos-retry list "
                                       "--queue {}'",
                                       q.dead_recent, q.dead_recent == 1 ? "task" : "tasks",
                                       format_duration(k_dead_recent), q.dead, q.name));
  return f.check("queue " + q.name,
                 fmt::format("{} runnable, {} dead{}", q.runnable, q.dead, q.paused ? ", paused" : ""));
}

HealthCheck workers_check(const HealthInput& in) {
  Findings f;
  int live = 0;
  bool work_waits = in.runnable_for_workers > 0;
  for (const auto& w : in.workers) {
    if (heartbeat_is_fresh(w.heartbeat_at, in.now)) {
      ++live;
      continue;
    }
    auto silent = Millis(in.now - w.heartbeat_at);
    auto process = !w.alive   ? ""
                   : *w.alive ? ", process alive: hung?"
                              : ", process gone; oos-cleanup forgets it after a day";
    f.add(work_waits ? Health::critical : Health::warning,
          fmt::format("worker {} (pid {}{}) silent for {}{}: 'systemctl status oos-worker@{}'", w.name, w.pid, process,
                      format_age(silent),
                      work_waits ? fmt::format(" while {} tasks are runnable", in.runnable_for_workers) : "", w.name));
  }
  if (live == 0 && work_waits)
    f.add(Health::critical, fmt::format("no worker is running and {} tasks are runnable: 'systemctl start oos.target'",
                                        in.runnable_for_workers));
  return f.check("workers", fmt::format("{} running, {} tasks runnable", live, in.runnable_for_workers));
}

std::vector<HealthCheck> provider_checks(const HealthInput& in) {
  std::vector<HealthCheck> out;
  std::size_t down = 0;
  for (const auto& p : in.providers) {
    Findings f;
    judge_breaker(f, p.breaker, p.breaker_opened_at, in.now,
                  fmt::format("'oos-search quota' shows every provider; to close it by hand: 'oos-search quota "
                              "--reset-breaker {}'",
                              p.name));
    if (p.spent)
      f.add(Health::warning,
            fmt::format("daily quota spent ({}) until {}; the chain falls back",
                        p.daily_quota > 0 ? fmt::format("{} of {} used", p.used, p.daily_quota)
                                          : fmt::format("the provider said so after {} requests", p.used),
                        util::format_iso8601(p.resets_at)));
    // One provider down is what the fallback chain is for: a warning, however long.
    if (f.status == Health::critical) f.status = Health::warning;
    if (f.status != Health::ok) ++down;
    auto quota = p.daily_quota > 0 ? fmt::format("{} of {} requests used today", p.used, p.daily_quota)
                                   : fmt::format("{} requests today", p.used);
    out.push_back(f.check("search " + p.name, quota));
  }
  if (!in.configured_providers.empty() && down >= in.configured_providers.size())
    for (auto& check : out) check.status = Health::critical;
  return out;
}

// "3f2a9c1b0d4e5f60 cooling down until 2027-01-15T09:00:00Z, 4 uses today, last used 2027-01-15T08:00:00Z".
std::string key_text(const RingKeyHealth& key, util::UnixMillis now) {
  return fmt::format("{} {}, {} {} today, {}", key.fingerprint,
                     is_cooling(key, now) ? "cooling down until " + util::format_iso8601(key.cooldown_until)
                                          : std::string("available"),
                     key.uses_today, key.uses_today == 1 ? "use" : "uses",
                     key.last_used_at ? "last used " + util::format_iso8601(*key.last_used_at) : "never used");
}

std::vector<HealthCheck> postgres_checks(const PostgresHealth& pg) {
  std::vector<HealthCheck> out;
  auto percent = pg.max_connections > 0
                     ? 100.0 * static_cast<double>(pg.connections) / static_cast<double>(pg.max_connections)
                     : 0.0;
  auto in_use = fmt::format("{} of {} connections in use ({:.0f}%)", pg.connections, pg.max_connections, percent);
  if (percent > k_connections_warning_percent)
    out.push_back({"postgres connections", Health::warning,
                   fmt::format("{}, over {}%: workers and tools will be refused; look for idle ones in "
                               "pg_stat_activity, or put PgBouncer in front",
                               in_use, k_connections_warning_percent)});
  else
    out.push_back({"postgres connections", Health::ok, in_use});
  if (!pg.oldest_transaction)
    out.push_back({"postgres transactions", Health::ok, "no other transaction open"});
  else if (*pg.oldest_transaction > pg.transaction_warning)
    out.push_back({"postgres transactions", Health::warning,
                   fmt::format("a transaction open for {} by {}, over db.transaction_warning {}: it holds back "
                               "vacuum; end it with pg_terminate_backend() if it is stuck",
                               format_age(*pg.oldest_transaction), pg.oldest_transaction_holder,
                               format_duration(pg.transaction_warning))});
  else
    out.push_back({"postgres transactions", Health::ok,
                   fmt::format("the oldest open transaction is {} old", format_age(*pg.oldest_transaction))});
  auto skew = pg.clock_skew.count() < 0 ? -pg.clock_skew : pg.clock_skew;
  auto side = pg.clock_skew.count() < 0 ? "behind" : "ahead of";
  if (skew > pg.clock_skew_warning)
    out.push_back({"postgres clock", Health::warning,
                   fmt::format("the server's clock is {} ms {} this host's, over db.clock_skew_warning {}: leases "
                               "compare times written by different hosts; check NTP ('timedatectl') on both",
                               skew.count(), side, format_duration(pg.clock_skew_warning))});
  else
    out.push_back(
        {"postgres clock", Health::ok, fmt::format("the server's clock is {} ms {} this host's", skew.count(), side)});
  return out;
}

}  // namespace

std::string_view to_string(Health health) {
  static constexpr std::array<std::string_view, 4> k_names{"OK", "WARNING", "CRITICAL", "UNKNOWN"};
  return k_names.at(static_cast<std::size_t>(health));
}

std::vector<HealthCheck> assess(const HealthInput& in) {
  std::vector<HealthCheck> out;
  if (in.database_problem)
    out.push_back({"database", in.database_problem_status, *in.database_problem});
  else
    out.push_back(
        {"database", Health::ok,
         fmt::format("{} {}, schema v{}", in.database, in.on_postgresql ? "connected" : "opened", in.schema_version)});
  if (in.on_postgresql) {
    if (in.postgres)
      for (auto& check : postgres_checks(*in.postgres)) out.push_back(std::move(check));
  } else {
    if (!in.database_problem) out.push_back(integrity_check(in));
    out.push_back(backup_check(in));
  }
  for (const auto& disk : in.disks) out.push_back(disk_check(in, disk));
  if (in.database_problem) return out;
  for (const auto& q : in.queues) out.push_back(queue_check(in, q));
  out.push_back(workers_check(in));
  for (auto& check : provider_checks(in)) out.push_back(std::move(check));
  for (const auto& ring : in.key_rings) out.push_back(key_ring_check(ring, in.now));
  return out;
}

HealthCheck key_ring_check(const KeyRingHealth& ring, util::UnixMillis now) {
  auto name = "key ring " + ring.name;
  if (ring.keys.empty())
    return {name, Health::ok, "no key handed out yet: the keys are known once a run of its handlers took one"};
  std::vector<std::string> keys;
  std::optional<util::UnixMillis> first_back;
  std::size_t available = 0;
  for (const auto& key : ring.keys) {
    keys.push_back(key_text(key, now));
    if (!is_cooling(key, now))
      ++available;
    else if (!first_back || key.cooldown_until < *first_back)
      first_back = key.cooldown_until;
  }
  if (available > 0)
    return {name, Health::ok,
            fmt::format("{} of {} keys available: {}", available, ring.keys.size(), fmt::join(keys, "; "))};
  return {name, Health::warning,
          fmt::format("every key cools down; the first is back at {} (in {}): tasks of {} {} wait until then; "
                      "add a key to the secret {} (the next run takes it) or wait: {}",
                      util::format_iso8601(*first_back), format_age(Millis(*first_back - now)),
                      ring.handlers.size() == 1 ? "handler" : "handlers", fmt::join(ring.handlers, ", "), ring.name,
                      fmt::join(keys, "; "))};
}

Health overall(const std::vector<HealthCheck>& checks) {
  Health worst = Health::ok;
  for (const auto& c : checks)
    if (rank(c.status) > rank(worst)) worst = c.status;
  return worst;
}

std::string summary_line(const std::vector<HealthCheck>& checks) {
  auto status = overall(checks);
  if (status == Health::ok) return fmt::format("OOS OK - {} checks ok", checks.size());
  std::vector<const HealthCheck*> bad;
  for (const auto& c : checks)
    if (c.status != Health::ok) bad.push_back(&c);
  std::stable_sort(bad.begin(), bad.end(), [](auto* a, auto* b) { return rank(a->status) > rank(b->status); });
  std::vector<std::string> parts;
  for (const auto* c : bad) parts.push_back(c->name + ": " + c->message);
  return fmt::format("OOS {} - {}", to_string(status), fmt::join(parts, "; "));
}

std::string perfdata(const HealthInput& in) {
  std::vector<std::string> out;
  if (!in.database_problem) {
    std::int64_t dead = 0;
    for (const auto& q : in.queues) dead += q.dead;
    int live = 0;
    for (const auto& w : in.workers) live += heartbeat_is_fresh(w.heartbeat_at, in.now) ? 1 : 0;
    out.push_back(fmt::format("runnable={}", in.runnable_for_workers));
    out.push_back(fmt::format("dead={}", dead));
    out.push_back(fmt::format("workers={}", live));
    if (in.last_integrity_check)
      out.push_back(fmt::format("integrity_age={}s", (in.now - *in.last_integrity_check) / 1000));
  }
  if (in.last_backup) out.push_back(fmt::format("backup_age={}s", (in.now - *in.last_backup) / 1000));
  for (const auto& d : in.disks)
    if (d.used_percent) out.push_back(fmt::format("'disk {}'={:.0f}%", d.path, *d.used_percent));
  return fmt::format("{}", fmt::join(out, " "));
}

}  // namespace oos::policy
