#include "pg/pg_sample_store.hpp"

#include "pg/values.hpp"

namespace oos::pg {
namespace {

#define OOS_PG_SAMPLE_COLUMNS "at, load1, memory_available_percent, psi_some_avg10, runnable"

// How much older than this host's cutoff another host's samples are kept (prune()).
constexpr util::UnixMillis k_other_hosts_kept = 24 * 60 * 60 * 1000;

// A row of "SELECT " OOS_PG_SAMPLE_COLUMNS.
store::Sample read_row(const Result& r, int row) {
  store::Sample s;
  s.at = int_at(r, row, 0);
  s.load1 = double_at(r, row, 1);
  s.memory_available_percent = double_at(r, row, 2);
  if (!r.is_null(row, 3)) s.psi_some_avg10 = double_at(r, row, 3);
  s.runnable = int_at(r, row, 4);
  return s;
}

}  // namespace

void PgSampleStore::record(const store::Sample& sample) {
  m_connection.exec_params(
      "INSERT INTO samples (host, " OOS_PG_SAMPLE_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6)",
      {m_host, param(sample.at), param_real(sample.load1), param_real(sample.memory_available_percent),
       sample.psi_some_avg10 ? Param(param_real(*sample.psi_some_avg10)) : Param(std::nullopt),
       param(sample.runnable)});
}

std::vector<store::Sample> PgSampleStore::since(util::UnixMillis from) {
  const Result r = m_connection.exec_params("SELECT " OOS_PG_SAMPLE_COLUMNS
                                            " FROM samples WHERE host = $1 AND at >= $2 ORDER BY at, id",
                                            {m_host, param(from)});
  std::vector<store::Sample> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_row(r, i));
  return out;
}

std::optional<store::Sample> PgSampleStore::latest_before(util::UnixMillis at) {
  const Result r = m_connection.exec_params(
      "SELECT " OOS_PG_SAMPLE_COLUMNS " FROM samples WHERE host = $1 AND at <= $2 ORDER BY at DESC, id DESC LIMIT 1",
      {m_host, param(at)});
  if (r.rows() == 0) return std::nullopt;
  return read_row(r, 0);
}

std::int64_t PgSampleStore::prune(util::UnixMillis older_than) {
  // Another host's samples go once they are a day older than this host's: by then that host has stopped (every
  // load window is far shorter), and nothing else would ever delete them (docs/decisions.md).
  const Result r = m_connection.exec_params("DELETE FROM samples WHERE at < $2 AND (host = $1 OR at < $3)",
                                            {m_host, param(older_than), param(older_than - k_other_hosts_kept)});
  return r.affected_rows();
}

}  // namespace oos::pg
