#include "breaker/sqlite_breaker_store.hpp"

#include <fmt/format.h>

#include "db/events.hpp"

namespace oos::breaker {
namespace {

policy::BreakerRecord read_record(SQLite::Statement& q, int first_column) {
  policy::BreakerRecord r;
  r.state = policy::parse_breaker_state(q.getColumn(first_column).getString()).value_or(policy::BreakerState::closed);
  r.consecutive_failures = q.getColumn(first_column + 1).getInt();
  r.opened_at = q.getColumn(first_column + 2).getInt64();
  r.cooldown_ms = q.getColumn(first_column + 3).getInt64();
  return r;
}

}  // namespace

policy::BreakerRecord SqliteBreakerStore::load(std::string_view kind, std::string_view name) {
  auto q = m_db.query(
      "SELECT state, consecutive_failures, coalesce(opened_at, 0), cooldown_ms FROM breakers "
      "WHERE kind = ? AND name = ?");
  q->bind(1, std::string(kind));
  q->bind(2, std::string(name));
  return q->executeStep() ? read_record(*q, 0) : policy::closed_breaker(m_settings);
}

std::vector<NamedBreaker> SqliteBreakerStore::load_not_closed(std::string_view kind) {
  auto q = m_db.query(
      "SELECT name, state, consecutive_failures, coalesce(opened_at, 0), cooldown_ms FROM breakers "
      "WHERE kind = ? AND state != 'closed'");
  q->bind(1, std::string(kind));
  std::vector<NamedBreaker> out;
  while (q->executeStep()) out.push_back({q->getColumn(0).getString(), read_record(*q, 1)});
  return out;
}

void SqliteBreakerStore::save(std::string_view kind, std::string_view name, const policy::BreakerRecord& before,
                              const policy::BreakerRecord& next, util::UnixMillis now) {
  if (before == next) return;
  auto q = m_db.query(
      "INSERT INTO breakers (kind, name, state, consecutive_failures, opened_at, cooldown_ms, updated_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (kind, name) DO UPDATE SET state = ?3, "
      "consecutive_failures = ?4, opened_at = ?5, cooldown_ms = ?6, updated_at = ?7");
  q->bind(1, std::string(kind));
  q->bind(2, std::string(name));
  q->bind(3, std::string(policy::to_string(next.state)));
  q->bind(4, next.consecutive_failures);
  q->bind(5, static_cast<std::int64_t>(next.opened_at));
  q->bind(6, next.cooldown_ms);
  q->bind(7, static_cast<std::int64_t>(now));
  q->exec();
  if (before.state == next.state) return;
  auto object = fmt::format("{}/{}", kind, name);
  auto detail = fmt::format("{} -> {} after {} consecutive failures; cooldown {}s", policy::to_string(before.state),
                            policy::to_string(next.state), next.consecutive_failures, next.cooldown_ms / 1000);
  db::record_event(m_db, now, fmt::format("breaker.{}", policy::to_string(next.state)), object, detail);
  auto level = next.state == policy::BreakerState::open ? log::LogLevel::warn : log::LogLevel::info;
  m_logger.log(level, fmt::format("breaker {} {}", object, detail),
               {{"breaker", object}, {"state", std::string(policy::to_string(next.state))}});
}

void SqliteBreakerStore::record_success(std::string_view kind, std::string_view name, util::UnixMillis now) {
  auto before = load(kind, name);
  save(kind, name, before, policy::on_success(before, m_settings), now);
}

void SqliteBreakerStore::record_failure(std::string_view kind, std::string_view name, util::UnixMillis now) {
  auto before = load(kind, name);
  save(kind, name, before, policy::on_failure(before, m_settings, now), now);
}

void SqliteBreakerStore::record_neutral(std::string_view kind, std::string_view name, util::UnixMillis now) {
  auto before = load(kind, name);
  save(kind, name, before, policy::on_neutral(before), now);
}

std::optional<util::UnixMillis> SqliteBreakerStore::changed_at(std::string_view kind, std::string_view name) {
  auto q = m_db.query("SELECT updated_at FROM breakers WHERE kind = ? AND name = ?");
  q->bind(1, std::string(kind));
  q->bind(2, std::string(name));
  if (!q->executeStep()) return std::nullopt;
  return q->getColumn(0).getInt64();
}

void SqliteBreakerStore::touch(std::string_view kind, std::string_view name, util::UnixMillis now) {
  auto q = m_db.query("UPDATE breakers SET updated_at = ? WHERE kind = ? AND name = ?");
  q->bind(1, static_cast<std::int64_t>(now));
  q->bind(2, std::string(kind));
  q->bind(3, std::string(name));
  q->exec();
}

policy::BreakerRecord SqliteBreakerStore::reset(std::string_view kind, std::string_view name, util::UnixMillis now) {
  db::WriteTransaction tx(m_db);
  auto before = load(kind, name);
  auto next = policy::closed_breaker(m_settings);
  save(kind, name, before, next, now);
  if (before != next) db::record_event(m_db, now, "breaker.reset", fmt::format("{}/{}", kind, name), "closed by hand");
  tx.commit();
  return before;
}

}  // namespace oos::breaker
