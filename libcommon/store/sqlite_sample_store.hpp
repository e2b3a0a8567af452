// SampleStore on the state directory's SQLite file: the file is the host's own, so every sample in it is this
// host's.
#pragma once

#include "db/database.hpp"
#include "store/sample_store.hpp"

namespace oos::store {

class SqliteSampleStore final : public SampleStore {
 public:
  explicit SqliteSampleStore(db::Database& db) : m_db(db) {}

  void record(const Sample& sample) override;
  std::vector<Sample> since(util::UnixMillis from) override;
  std::optional<Sample> latest_before(util::UnixMillis at) override;
  std::int64_t prune(util::UnixMillis older_than) override;

 private:
  db::Database& m_db;
};

}  // namespace oos::store
