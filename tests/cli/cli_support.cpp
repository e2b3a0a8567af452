#include "cli/cli_support.hpp"

#include <SQLiteCpp/Database.h>

#include <cstdlib>
#include <stdexcept>

namespace oos::test {

std::string binary_from_env(const char* var) {
  const char* path = std::getenv(var);
  if (!path || !*path) throw std::runtime_error(std::string(var) + " is not set; run the tests through ctest");
  return path;
}

CliFixture::CliFixture() { write_config(""); }

void CliFixture::write_config(const std::string& toml) { write_file(config_path(), toml); }

util::RunResult CliFixture::queue(const std::vector<std::string>& args, const std::string& stdin_data) {
  std::vector<std::string> argv{binary_from_env("OOS_QUEUE_BIN"), "--state-dir", state_dir().string(), "--config",
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
  SQLite::Database db((state_dir() / "oos.db").string(), SQLite::OPEN_READONLY);
  return db.execAndGet(sql).getInt64();
}

}  // namespace oos::test
