#include "store/sqlite_sample_store.hpp"

namespace oos::store {
namespace {

// A row of "SELECT at, load1, memory_available_percent, psi_some_avg10, runnable".
Sample read_row(const SQLite::Statement& q) {
  Sample s;
  s.at = q.getColumn(0).getInt64();
  s.load1 = q.getColumn(1).getDouble();
  s.memory_available_percent = q.getColumn(2).getDouble();
  if (!q.getColumn(3).isNull()) s.psi_some_avg10 = q.getColumn(3).getDouble();
  s.runnable = q.getColumn(4).getInt64();
  return s;
}

}  // namespace

void SqliteSampleStore::record(const Sample& sample) {
  db::WriteTransaction tx(m_db);
  {
    auto q = m_db.query(
        "INSERT INTO samples (at, load1, memory_available_percent, psi_some_avg10, runnable) "
        "VALUES (?, ?, ?, ?, ?)");
    q->bind(1, static_cast<std::int64_t>(sample.at));
    q->bind(2, sample.load1);
    q->bind(3, sample.memory_available_percent);
    if (sample.psi_some_avg10)
      q->bind(4, *sample.psi_some_avg10);
    else
      q->bind(4);
    q->bind(5, static_cast<std::int64_t>(sample.runnable));
    q->exec();
  }
  tx.commit();
}

std::vector<Sample> SqliteSampleStore::since(util::UnixMillis from) {
  auto q = m_db.query(
      "SELECT at, load1, memory_available_percent, psi_some_avg10, runnable FROM samples WHERE at >= ? "
      "ORDER BY at, id");
  q->bind(1, static_cast<std::int64_t>(from));
  std::vector<Sample> out;
  while (q->executeStep()) out.push_back(read_row(*q));
  return out;
}

std::optional<Sample> SqliteSampleStore::latest_before(util::UnixMillis at) {
  auto q = m_db.query(
      "SELECT at, load1, memory_available_percent, psi_some_avg10, runnable FROM samples WHERE at <= ? "
      "ORDER BY at DESC, id DESC LIMIT 1");
  q->bind(1, static_cast<std::int64_t>(at));
  if (!q->executeStep()) return std::nullopt;
  return read_row(*q);
}

std::int64_t SqliteSampleStore::prune(util::UnixMillis older_than) {
  db::WriteTransaction tx(m_db);
  std::int64_t deleted = 0;
  {
    auto q = m_db.query("DELETE FROM samples WHERE at < ?");
    q->bind(1, static_cast<std::int64_t>(older_than));
    deleted = q->exec();
  }
  tx.commit();
  return deleted;
}

}  // namespace oos::store
