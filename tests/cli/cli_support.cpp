#include "cli/cli_support.hpp"

#include <signal.h>
#include <unistd.h>

#include <SQLiteCpp/Database.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <limits>
#include <random>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "pg/pg_task_store.hpp"
#include "pg/schema.hpp"
#include "queue/sqlite_task_store.hpp"
#include "util/time.hpp"

extern char** environ;

namespace oos::test {
namespace {

using namespace std::chrono_literals;

util::ChildSpec background_spec(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  util::ChildSpec spec;
  spec.argv = argv;
  spec.env = env;
  spec.stdout_cap = std::numeric_limits<std::size_t>::max();
  spec.stderr_tail = std::numeric_limits<std::size_t>::max();
  return spec;
}

// The state letter and the process group of /proc/PID/stat ("pid (comm) S ppid pgrp ...").
std::optional<std::pair<char, pid_t>> proc_state(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/stat");
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(line.substr(close + 1));
  char state = 0;
  pid_t ppid = 0, pgrp = 0;
  if (!(fields >> state >> ppid >> pgrp)) return std::nullopt;
  return std::pair{state, pgrp};
}

bool living(char state) {
  return state != 'Z' && state != 'X' && state != 'x';
}

double time_scale_from_environment() {
  if (const char* text = std::getenv("OOS_TEST_TIME_SCALE"); text && *text) {
    char* end = nullptr;
    double scale = std::strtod(text, &end);
    if (*end != '\0' || !std::isfinite(scale) || scale < 1.0)
      throw std::runtime_error(std::string("OOS_TEST_TIME_SCALE must be a number >= 1, not '") + text + "'");
    return scale;
  }
  return k_address_sanitizer ? 3.0 : 1.0;
}

// "2026-11-28T16:11:52.014Z" (or without the milliseconds when they are 0) as Unix milliseconds.
std::optional<std::int64_t> parse_iso8601(const std::string& text) {
  std::tm tm{};
  int millis = 0, used = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &used) != 6)
    return std::nullopt;
  auto rest = text.substr(static_cast<std::size_t>(used));
  if (rest != "Z" && (std::sscanf(rest.c_str(), ".%3dZ", &millis) != 1 || rest.size() != 5)) return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<std::int64_t>(::timegm(&tm)) * 1000 + millis;
}

// SQLite's group_concat(X) and group_concat(X, 'SEP') in PostgreSQL's words.
std::string postgresql_dialect(const std::string& sql) {
  static const std::regex group_concat(R"(group_concat\(([^,()]+)(, *('[^']*'))?\))");
  std::string out;
  auto last = sql.cbegin();
  for (std::sregex_iterator it(sql.begin(), sql.end(), group_concat), end; it != end; ++it) {
    const std::smatch& match = *it;
    out.append(last, match[0].first);
    out += "string_agg(CAST(" + match[1].str() + " AS text), " + (match[3].matched ? match[3].str() : "','") + ")";
    last = match[0].second;
  }
  out.append(last, sql.cend());
  return out;
}

// The single value of `sql` on the test's schema, as SQLite would hand it to the test: booleans 1 or 0.
std::string pg_value(const std::string& conninfo, const std::string& sql) {
  pg::Connection connection(conninfo);
  const pg::Result result = connection.exec_params(postgresql_dialect(sql));
  if (result.rows() != 1)
    throw std::runtime_error("expected one row, got " + std::to_string(result.rows()) + ": " + sql);
  return std::string(result.text(0, 0));
}

}  // namespace

TestBackend test_backend() {
  const char* name = std::getenv("OOS_TEST_BACKEND");
  if (!name || !*name || std::string_view(name) == "sqlite") return TestBackend::sqlite;
  if (std::string_view(name) == "pg") return TestBackend::pg;
  throw std::runtime_error(std::string("OOS_TEST_BACKEND must be sqlite or pg, not '") + name + "'");
}

namespace {

boost::unit_test::precondition skipped_on_pg(std::string why) {
  return boost::unit_test::precondition([why = std::move(why)](boost::unit_test::test_unit_id) {
    boost::test_tools::assertion_result on_sqlite(test_backend() == TestBackend::sqlite);
    on_sqlite.message() << why;
    return on_sqlite;
  });
}

}  // namespace

boost::unit_test::precondition sqlite_only(std::string reason) {
  return skipped_on_pg("SQLite only: " + reason);
}

boost::unit_test::precondition known_pg_defect(std::string defect) {
  return skipped_on_pg("PostgreSQL defect: " + defect);
}

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env)
    : m_child(background_spec(argv, env)) {}

bool BackgroundProcess::pump(int wait_ms) {
  if (!m_exited) m_exited = m_child.step(wait_ms);
  return m_exited;
}

int BackgroundProcess::wait(std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (!pump(20))
    if (std::chrono::steady_clock::now() >= until) return -1;
  const auto& exit = m_child.result();
  return exit.exit_code ? *exit.exit_code : 128 + exit.signal.value_or(0);
}

void BackgroundProcess::signal(int signal) {
  if (!m_exited) ::kill(m_child.pid(), signal);
}

std::string handler_toml(const std::string& type, const std::filesystem::path& program, const std::string& extra) {
  return "[handlers." + type + "]\ncommand = [\"" + program.string() + "\"]\n" + extra + "\n";
}

std::vector<std::string> test_environment(const std::vector<std::string>& extra) {
  auto name_of = [](const std::string& entry) { return entry.substr(0, entry.find('=')); };
  std::vector<std::string> removed{"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "CREDENTIALS_DIRECTORY"};
  for (const auto& entry : extra) removed.push_back(name_of(entry));
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    if (std::find(removed.begin(), removed.end(), name_of(entry)) == removed.end()) env.push_back(entry);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

double time_scale() {
  static const double scale = time_scale_from_environment();
  return scale;
}

std::chrono::milliseconds scaled(std::chrono::milliseconds duration) {
  return std::chrono::milliseconds(std::llround(static_cast<double>(duration.count()) * time_scale()));
}

std::string log_line(const std::string& log, std::string_view text) {
  auto at = log.find(text);
  if (at == std::string::npos) return "";
  auto start = log.rfind('\n', at);
  start = start == std::string::npos ? 0 : start + 1;
  return log.substr(start, log.find('\n', at) - start);
}

std::optional<std::int64_t> log_time(const std::string& err, std::string_view text) {
  std::istringstream lines(err);
  for (std::string line; std::getline(lines, line);) {
    auto record = nlohmann::json::parse(line, nullptr, false);
    if (!record.is_object() || !record.contains("msg") || !record.contains("ts") || !record["msg"].is_string() ||
        !record["ts"].is_string())
      continue;
    if (record["msg"].get<std::string>().find(text) != std::string::npos)
      return parse_iso8601(record["ts"].get<std::string>());
  }
  return std::nullopt;
}

std::string wait_for_gate(const std::filesystem::path& gate) {
  return "while [ ! -e '" + gate.string() + "' ]; do sleep 0.05; done\n";
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                const std::vector<BackgroundProcess*>& pumped) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (true) {
    for (auto* p : pumped) p->pump();
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

bool process_alive(pid_t pid) {
  auto state = proc_state(std::to_string(pid));
  return state && living(state->first);
}

bool group_alive(pid_t pgid) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    auto name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    auto state = proc_state(name);
    if (state && state->second == pgid && living(state->first)) return true;
  }
  return false;
}

std::optional<pid_t> read_pid(const std::filesystem::path& path) {
  auto text = read_file(path);
  if (text.empty() || text.back() != '\n') return std::nullopt;
  try {
    auto pid = std::stol(text);
    return pid > 1 ? std::optional<pid_t>(static_cast<pid_t>(pid)) : std::nullopt;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

KillAtExit::~KillAtExit() {
  auto pid = read_pid(m_pid_file);
  if (!pid) return;
  bool group = m_target == Target::group;
  if (group ? group_alive(*pid) : process_alive(*pid)) ::kill(group ? -*pid : *pid, SIGKILL);
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

std::string binary_from_env(const char* var) {
  const char* path = std::getenv(var);
  if (!path || !*path) throw std::runtime_error(std::string(var) + " is not set; run the tests through ctest");
  return path;
}

CliFixture::CliFixture(TestBackend backend) {
  write_config("");
  if (backend == TestBackend::pg) {
    // new: PgSchema cannot move, and fresh_schema()'s prvalue initialises it in place.
    m_schema.reset(new PgSchema(PgCluster::instance().fresh_schema()));
    m_url = m_schema->url();
    ::setenv("OOS_DATABASE_URL", m_url.c_str(), 1);
  }
}

CliFixture::~CliFixture() {
  if (m_schema) ::unsetenv("OOS_DATABASE_URL");
}

void CliFixture::write_config(const std::string& toml) {
  write_file(config_path(), toml);
}

util::RunResult CliFixture::retry(const std::vector<std::string>& args, const std::string& stdin_data) {
  return run(tool_argv("OOS_RETRY_BIN", state_dir(), args), stdin_data);
}

util::RunResult CliFixture::queue(const std::vector<std::string>& args, const std::string& stdin_data) {
  return run(tool_argv("OOS_QUEUE_BIN", state_dir(), args), stdin_data);
}

util::RunResult CliFixture::worker(const std::vector<std::string>& args, const std::vector<std::string>& extra_env,
                                   std::chrono::milliseconds timeout) {
  timeout = scaled(timeout);
  auto process = start_worker(args, extra_env);
  util::RunResult result;
  result.exit_code = process->wait(timeout);
  bool hung = result.exit_code < 0;
  if (hung) {
    process->signal(SIGKILL);
    result.exit_code = process->wait(std::chrono::seconds(10));
  }
  result.out = process->out();
  result.err = process->err();
  if (hung) result.err += "[test: the worker was still running after " + std::to_string(timeout.count()) + " ms]\n";
  return result;
}

std::unique_ptr<BackgroundProcess> CliFixture::start_worker(const std::vector<std::string>& args,
                                                            const std::vector<std::string>& extra_env) {
  return start("OOS_WORKER_BIN", args, extra_env);
}

std::unique_ptr<BackgroundProcess> CliFixture::start(const char* binary_env, const std::vector<std::string>& args,
                                                     const std::vector<std::string>& extra_env) {
  return std::make_unique<BackgroundProcess>(tool_argv(binary_env, state_dir(), args), test_environment(extra_env));
}

long long CliFixture::enqueue(const std::string& queue, const std::string& type,
                              const std::vector<std::string>& options) {
  std::vector<std::string> args{"enqueue", queue, type};
  args.insert(args.end(), options.begin(), options.end());
  auto r = this->queue(args);
  if (r.exit_code != 0) throw std::runtime_error("oos-queue enqueue failed: " + r.err);
  return std::stoll(r.out);
}

std::filesystem::path CliFixture::write_script(const std::string& name, const std::string& body) {
  auto path = m_dir / name;
  write_file(path, "#!/bin/sh\n" + body);
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  return path;
}

util::RunResult CliFixture::queue_at(const std::filesystem::path& state_dir, const std::vector<std::string>& args,
                                     const std::string& stdin_data) {
  return run(tool_argv("OOS_QUEUE_BIN", state_dir, args), stdin_data);
}

util::RunResult CliFixture::backup(const std::vector<std::string>& args) {
  return run(tool_argv("OOS_BACKUP_BIN", state_dir(), args));
}

util::RunResult CliFixture::integrity(const std::vector<std::string>& args) {
  return run(tool_argv("OOS_INTEGRITY_BIN", state_dir(), args));
}

util::RunResult CliFixture::cleanup(const std::vector<std::string>& args) {
  return run(tool_argv("OOS_CLEANUP_BIN", state_dir(), args));
}

util::RunResult CliFixture::run_tool(const char* binary_env, const std::vector<std::string>& args,
                                     const std::vector<std::string>& extra_env) {
  util::RunOptions options;
  options.env = test_environment(extra_env);
  return util::run_program(tool_argv(binary_env, state_dir(), args), options);
}

std::vector<std::string> CliFixture::tool_argv(const char* binary_env, const std::filesystem::path& state_dir,
                                               const std::vector<std::string>& args) const {
  std::vector<std::string> argv{binary_from_env(binary_env), "--state-dir", state_dir.string(), "--config",
                                config_path().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

util::RunResult CliFixture::run(const std::vector<std::string>& argv, const std::string& stdin_data) {
  util::RunOptions options;
  options.stdin_data = stdin_data;
  return util::run_program(argv, options);
}

long long CliFixture::sql_int(const std::string& sql) {
  if (m_schema) {
    const std::string value = pg_value(m_schema->conninfo(), sql);
    if (value == "t" || value == "f") return value == "t" ? 1 : 0;
    return value.empty() ? 0 : std::stoll(value);
  }
  SQLite::Database db(db_path().string(), SQLite::OPEN_READONLY, static_cast<int>(scaled(10s).count()));
  return db.execAndGet(sql).getInt64();
}

std::string CliFixture::sql_text(const std::string& sql) {
  if (m_schema) return pg_value(m_schema->conninfo(), sql);
  SQLite::Database db(db_path().string(), SQLite::OPEN_READONLY, static_cast<int>(scaled(10s).count()));
  return db.execAndGet(sql).getString();
}

void CliFixture::create_database() {
  std::filesystem::create_directories(state_dir());
  if (m_schema) {
    pg::Connection connection(m_schema->conninfo());
    pg::migrate(connection);
    return;
  }
  db::Database created({db_path()});
}

void CliFixture::sql_exec(const std::string& sql) {
  if (m_schema) {
    pg::Connection(m_schema->conninfo()).exec_params(postgresql_dialect(sql));
    return;
  }
  SQLite::Database db(db_path().string(), SQLite::OPEN_READWRITE, static_cast<int>(scaled(10s).count()));
  db.exec(sql);
}

LibraryWorker::LibraryWorker(const std::filesystem::path& db_path, util::UnixMillis start, std::string name)
    : m_name(std::move(name)), m_clock(start), m_logger(log::Logger::discard()) {
  m_config.queue.backoff_seconds = {0};
  m_config.queue.backoff_jitter = 0;
  if (test_backend() == TestBackend::pg) {
    const char* url = std::getenv("OOS_DATABASE_URL");
    if (!url || !*url)
      throw std::runtime_error("LibraryWorker on PostgreSQL: OOS_DATABASE_URL is not set (no CliFixture?)");
    m_connection = std::make_unique<pg::Connection>(url);
    pg::migrate(*m_connection);
    m_store = std::make_unique<pg::PgTaskStore>(*m_connection, m_config, m_clock, *m_logger);
  } else {
    m_db = std::make_unique<db::Database>(db::OpenOptions{db_path, config::Synchronous::full, std::chrono::seconds(5)});
    m_store = std::make_unique<queue::SqliteTaskStore>(*m_db, m_config, m_clock, *m_logger);
  }
}

LibraryWorker::~LibraryWorker() = default;

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
  return is_one_error_line(err, "oos-queue");
}

bool is_one_error_line(const std::string& err, std::string_view tool) {
  return err.starts_with(std::string(tool) + ": error: ") && err.ends_with('\n') &&
         std::count(err.begin(), err.end(), '\n') == 1;
}

void corrupt_pages(const std::filesystem::path& file) {
  auto size = std::filesystem::file_size(file);
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(size / 2 / 4096 * 4096));
  std::mt19937 random(42);
  std::string noise(4 * 4096, '\0');
  for (auto& c : noise) c = static_cast<char>(random());
  f.write(noise.data(), static_cast<std::streamsize>(noise.size()));
}

}  // namespace oos::test
