#include "cli/cli_support.hpp"

#include <SQLiteCpp/Database.h>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include "util/time.hpp"

namespace oos::test {

std::string binary_from_env(const char* var) {
  const char* path = std::getenv(var);
  if (!path || !*path) throw std::runtime_error(std::string(var) + " is not set; run the tests through ctest");
  return path;
}

CliFixture::CliFixture() {
  write_config("");
}

void CliFixture::write_config(const std::string& toml) {
  write_file(config_path(), toml);
}

util::RunResult CliFixture::retry(const std::vector<std::string>& args, const std::string& stdin_data) {
  std::vector<std::string> argv{binary_from_env("OOS_RETRY_BIN"), "--state-dir", state_dir().string(), "--config",
                                config_path().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, stdin_data);
}

util::RunResult CliFixture::queue(const std::vector<std::string>& args, const std::string& stdin_data) {
  std::vector<std::string> argv{binary_from_env("OOS_QUEUE_BIN"), "--state-dir", state_dir().string(), "--config",
                                config_path().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, stdin_data);
}

util::RunResult CliFixture::queue_at(const std::filesystem::path& state_dir, const std::vector<std::string>& args,
                                     const std::string& stdin_data) {
  std::vector<std::string> argv{binary_from_env("OOS_QUEUE_BIN"), "--state-dir", state_dir.string(), "--config",
                                config_path().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, stdin_data);
}

util::RunResult CliFixture::run(const std::vector<std::string>& argv, const std::string& stdin_data) {
  util::RunOptions options;
  options.stdin_data = stdin_data;
  return util::run_program(argv, options);
}

long long CliFixture::sql_int(const std::string& sql) {
  SQLite::Database db(db_path().string(), SQLite::OPEN_READONLY);
  return db.execAndGet(sql).getInt64();
}

std::string CliFixture::sql_text(const std::string& sql) {
  SQLite::Database db(db_path().string(), SQLite::OPEN_READONLY);
  return db.execAndGet(sql).getString();
}

void CliFixture::sql_exec(const std::string& sql) {
  SQLite::Database db(db_path().string(), SQLite::OPEN_READWRITE);
  db.exec(sql);
}

LibraryWorker::LibraryWorker(const std::filesystem::path& db_path, util::UnixMillis start, std::string name)
    : m_name(std::move(name)),
      m_clock(start),
      m_logger(log::Logger::discard()),
      m_db(
          std::make_unique<db::Database>(db::OpenOptions{db_path, config::Synchronous::full, std::chrono::seconds(5)})),
      m_store(std::make_unique<queue::TaskStore>(*m_db, m_config, m_clock, *m_logger)) {
  m_config.queue.backoff_seconds = {0};
  m_config.queue.backoff_jitter = 0;
}

queue::ClaimedTask LibraryWorker::claim(const std::string& queue) {
  std::vector<std::string> queues{queue};
  auto claimed = m_store->claim(queues, m_name);
  if (!claimed) throw std::runtime_error("nothing runnable in queue " + queue);
  return *claimed;
}

void LibraryWorker::complete(const queue::ClaimedTask& task, const std::string& result) {
  if (m_store->complete(task.lease, result) != queue::Fence::applied)
    throw std::runtime_error("completion of task " + std::to_string(task.task.id) + " was fenced off");
}

void LibraryWorker::fail(const queue::ClaimedTask& task, policy::FailureKind kind, const std::string& error,
                         std::optional<int> exit_code) {
  if (m_store->fail(task.lease, {kind, error, exit_code}).fence != queue::Fence::applied)
    throw std::runtime_error("failure of task " + std::to_string(task.task.id) + " was fenced off");
}

std::int64_t now_ms() {
  return util::SystemClock().now();
}

bool is_one_error_line(const std::string& err) {
  return err.starts_with("oos-queue: error: ") && err.ends_with('\n') && std::count(err.begin(), err.end(), '\n') == 1;
}

}  // namespace oos::test
