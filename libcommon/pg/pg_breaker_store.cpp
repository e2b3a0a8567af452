#include "pg/pg_breaker_store.hpp"

#include <fmt/format.h>

#include "pg/events.hpp"
#include "pg/values.hpp"

namespace oos::pg {
namespace {

// The first key of the breakers' advisory locks (the second is a hash of kind/name): the two-key lock space,
// apart from the one-key locks of pg/schema.
constexpr int k_breaker_lock_class = 0x4f4f5342;  // "OOSB"

policy::BreakerRecord read_state(const Result& r, int row, int first_column) {
  policy::BreakerRecord b;
  b.state = policy::parse_breaker_state(r.text(row, first_column)).value_or(policy::BreakerState::closed);
  b.consecutive_failures = static_cast<int>(int_at(r, row, first_column + 1));
  b.opened_at = int_at(r, row, first_column + 2);
  b.cooldown_ms = int_at(r, row, first_column + 3);
  return b;
}

}  // namespace

bool PgBreakerStore::lock(std::string_view kind, std::string_view name, Wait wait) {
  const std::string sql = wait == Wait::yes ? "SELECT pg_advisory_xact_lock($1, hashtext($2))::text"
                                            : "SELECT pg_try_advisory_xact_lock($1, hashtext($2))";
  const Result r = m_connection.exec_params(sql, {param(k_breaker_lock_class), fmt::format("{}/{}", kind, name)});
  return wait == Wait::yes || r.text(0, 0) == "t";
}

policy::BreakerRecord PgBreakerStore::load(std::string_view kind, std::string_view name) {
  const Result r = m_connection.exec_params(
      "SELECT state, consecutive_failures, coalesce(opened_at, 0), cooldown_ms FROM breakers "
      "WHERE kind = $1 AND name = $2",
      {std::string(kind), std::string(name)});
  return r.rows() > 0 ? read_state(r, 0, 0) : policy::closed_breaker(m_settings);
}

std::vector<breaker::NamedBreaker> PgBreakerStore::load_not_closed(std::string_view kind) {
  const Result r = m_connection.exec_params(
      "SELECT name, state, consecutive_failures, coalesce(opened_at, 0), cooldown_ms FROM breakers "
      "WHERE kind = $1 AND state <> 'closed' ORDER BY name",
      {std::string(kind)});
  std::vector<breaker::NamedBreaker> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back({std::string(r.text(i, 0)), read_state(r, i, 1)});
  return out;
}

void PgBreakerStore::save(std::string_view kind, std::string_view name, const policy::BreakerRecord& before,
                          const policy::BreakerRecord& next, util::UnixMillis now) {
  if (before == next) return;
  m_connection.exec_params(
      "INSERT INTO breakers (kind, name, state, consecutive_failures, opened_at, cooldown_ms, updated_at) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (kind, name) DO UPDATE SET state = excluded.state, "
      "consecutive_failures = excluded.consecutive_failures, opened_at = excluded.opened_at, "
      "cooldown_ms = excluded.cooldown_ms, updated_at = excluded.updated_at",
      {std::string(kind), std::string(name), std::string(policy::to_string(next.state)),
       param(next.consecutive_failures), param(next.opened_at), param(next.cooldown_ms), param(now)});
  if (before.state == next.state) return;
  auto object = fmt::format("{}/{}", kind, name);
  auto detail = fmt::format("{} -> {} after {} consecutive failures; cooldown {}s", policy::to_string(before.state),
                            policy::to_string(next.state), next.consecutive_failures, next.cooldown_ms / 1000);
  record_event(m_connection, now, fmt::format("breaker.{}", policy::to_string(next.state)), object, detail);
  auto level = next.state == policy::BreakerState::open ? log::LogLevel::warn : log::LogLevel::info;
  m_logger.log(level, fmt::format("breaker {} {}", object, detail),
               {{"breaker", object}, {"state", std::string(policy::to_string(next.state))}});
}

template <typename Transition>
void PgBreakerStore::apply(std::string_view kind, std::string_view name, util::UnixMillis now, Transition transition) {
  lock(kind, name);
  auto before = load(kind, name);  // read under the lock: the last holder's change is committed
  save(kind, name, before, transition(before), now);
}

void PgBreakerStore::record_success(std::string_view kind, std::string_view name, util::UnixMillis now) {
  record_success(kind, name, now, load(kind, name));
}

void PgBreakerStore::record_success(std::string_view kind, std::string_view name, util::UnixMillis now,
                                    const policy::BreakerRecord& seen) {
  // Most completions find the breaker closed and without failures, which a success leaves as it is: they skip
  // the lock (a transaction that changes it concurrently is then ordered after this one).
  if (!success_changes(seen)) return;
  apply(kind, name, now, [&](const policy::BreakerRecord&) { return policy::on_success({}, m_settings); });
}

bool PgBreakerStore::success_changes(const policy::BreakerRecord& seen) const {
  return policy::on_success({}, m_settings) != seen;
}

policy::BreakerRecord PgBreakerStore::read_record(const Result& r, int row, int first_column) const {
  return r.is_null(row, first_column) ? policy::closed_breaker(m_settings) : read_state(r, row, first_column);
}

void PgBreakerStore::record_failure(std::string_view kind, std::string_view name, util::UnixMillis now) {
  apply(kind, name, now,
        [&](const policy::BreakerRecord& before) { return policy::on_failure(before, m_settings, now); });
}

void PgBreakerStore::record_neutral(std::string_view kind, std::string_view name, util::UnixMillis now) {
  auto seen = load(kind, name);
  if (policy::on_neutral(seen) == seen) return;
  apply(kind, name, now, [](const policy::BreakerRecord& before) { return policy::on_neutral(before); });
}

std::optional<util::UnixMillis> PgBreakerStore::changed_at(std::string_view kind, std::string_view name) {
  const Result r = m_connection.exec_params("SELECT updated_at FROM breakers WHERE kind = $1 AND name = $2",
                                            {std::string(kind), std::string(name)});
  if (r.rows() == 0) return std::nullopt;
  return int_at(r, 0, 0);
}

void PgBreakerStore::touch(std::string_view kind, std::string_view name, util::UnixMillis now) {
  m_connection.exec_params("UPDATE breakers SET updated_at = $1 WHERE kind = $2 AND name = $3",
                           {param(now), std::string(kind), std::string(name)});
}

policy::BreakerRecord PgBreakerStore::reset(std::string_view kind, std::string_view name, util::UnixMillis now) {
  Transaction tx(m_connection);
  lock(kind, name);
  auto before = load(kind, name);
  auto next = policy::closed_breaker(m_settings);
  save(kind, name, before, next, now);
  if (before != next)
    record_event(m_connection, now, "breaker.reset", fmt::format("{}/{}", kind, name), "closed by hand");
  tx.commit();
  return before;
}

}  // namespace oos::pg
