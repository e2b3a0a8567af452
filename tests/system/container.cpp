#include "system/container.hpp"

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

#ifndef OOS_SOURCE_DIR
#error "OOS_SOURCE_DIR must name the source tree"
#endif
#ifndef OOS_BUILD_DIR
#error "OOS_BUILD_DIR must name the build tree"
#endif

namespace oos::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* k_source_inside = "/opt/oos-src";
constexpr const char* k_build_inside = "/opt/oos-build";
const std::vector<std::string> k_clean_env{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                           "LANG=C.UTF-8", "SYSTEMD_PAGER=", "SYSTEMD_COLORS=0"};

std::string read_all(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// "Key:\tvalue" from /proc/PID/status ("" when the process is gone).
std::string status_field(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + ":", 0) == 0) return line.substr(key.size() + 1);
  return {};
}

bool descends_from(pid_t pid, pid_t ancestor) {
  for (int hops = 0; pid > 1 && hops < 64; ++hops) {
    if (pid == ancestor) return true;
    auto parent = status_field(pid, "PPid");
    if (parent.empty()) return false;
    pid = static_cast<pid_t>(std::stol(parent));
  }
  return false;
}

// The cgroup hierarchies a process must be moved into: both halves of the hybrid layout, or the single
// unified one.
std::vector<fs::path> cgroup_roots() {
  std::vector<fs::path> roots;
  for (const char* root : {"/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"})
    if (fs::exists(fs::path(root) / "cgroup.procs")) roots.emplace_back(root);
  if (roots.empty()) roots.emplace_back("/sys/fs/cgroup");
  return roots;
}

bool cgroup_empty(const fs::path& dir) {
  if (!fs::exists(dir)) return true;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (entry.path().filename() == "cgroup.procs" && !read_all(entry.path()).empty()) return false;
  return read_all(dir / "cgroup.procs").empty();
}

void kill_cgroup(const fs::path& dir) {
  if (!fs::exists(dir)) return;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.path().filename() != "cgroup.procs") continue;
    std::istringstream pids(read_all(entry.path()));
    for (pid_t pid; pids >> pid;) ::kill(pid, SIGKILL);
  }
  std::istringstream pids(read_all(dir / "cgroup.procs"));
  for (pid_t pid; pids >> pid;) ::kill(pid, SIGKILL);
}

// rmdir depth-first: a cgroup directory goes only when its children have gone.
void remove_cgroup(const fs::path& dir) {
  if (!fs::exists(dir)) return;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_directory()) remove_cgroup(entry.path());
  ::rmdir(dir.c_str());
}

std::string quote(const std::string& text) {
  std::string out = "'";
  for (char ch : text) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
}

}  // namespace

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(100ms);
  }
}

Container::Container(const std::string& name, ContainerRoot boot_root)
    : m_name("oos-" + name + "-" + std::to_string(::getpid())), m_root(std::move(boot_root)) {
  if (::geteuid() != 0) throw std::runtime_error("the system tests boot systemd with systemd-nspawn: run them as root");
  for (const auto& root : cgroup_roots()) m_cgroups.push_back(root / m_name);
  try {
    boot();
  } catch (...) {
    power_off();
    throw;
  }
}

Container::~Container() {
  power_off();
}

void Container::boot() {
  // The launching shell moves itself into the container's own cgroups before it becomes nspawn, so that
  // nspawn leaves nothing at the host's cgroup root.
  std::string script;
  for (const auto& cgroup : m_cgroups)
    script += "mkdir -p " + quote(cgroup) + " && echo $$ > " + quote(cgroup / "cgroup.procs") + " && ";
  script += "exec systemd-nspawn --quiet --register=no --keep-unit --private-network --console=read-only --directory=" +
            quote(m_root.directory) + " --volatile=" + quote(m_root.volatile_mode) + " -M " + m_name +
            " --bind-ro=" + quote(OOS_SOURCE_DIR) + ":" + k_source_inside + " --bind-ro=" + quote(OOS_BUILD_DIR) + ":" +
            k_build_inside;
  for (const auto& bind : m_root.binds) script += " --bind=" + quote(bind);
  script += " --boot -- systemd.firstboot=off >" + quote(m_dir / "console.log") + " 2>&1";
  util::ChildSpec spec;
  spec.argv = {"/bin/sh", "-c", script};
  spec.env = k_clean_env;
  m_nspawn = std::make_unique<util::ChildProcess>(spec);
  find_leader();
  auto private_socket = host_path("/run/systemd/private");
  if (!wait_until([&] { return fs::exists(private_socket); }, 30s))
    throw std::runtime_error("container " + m_name + ": systemd did not start; console:\n" + console_tail());
  auto running = sh("timeout 60 systemctl is-system-running --wait");
  if (running.out.find("running") == std::string::npos && running.out.find("degraded") == std::string::npos)
    throw std::runtime_error("container " + m_name + " did not finish booting (" + running.out + "); console:\n" +
                             console_tail());
}

void Container::find_leader() {
  auto nspawn = m_nspawn->pid();
  bool found = wait_until(
      [&] {
        if (m_nspawn->step(0)) return true;  // nspawn ended: give up below
        for (const auto& entry : fs::directory_iterator("/proc")) {
          auto name = entry.path().filename().string();
          if (name.find_first_not_of("0123456789") != std::string::npos) continue;
          auto pid = static_cast<pid_t>(std::stol(name));
          std::istringstream ns(status_field(pid, "NSpid"));
          std::vector<std::string> ids{std::istream_iterator<std::string>(ns), {}};
          if (ids.size() > 1 && ids.back() == "1" && descends_from(pid, nspawn)) {
            m_leader = pid;
            return true;
          }
        }
        return false;
      },
      30s);
  if (!found || m_leader < 0)
    throw std::runtime_error("container " + m_name + ": systemd-nspawn started no init; console:\n" + console_tail());
}

void Container::power_off() {
  if (m_nspawn) {
    ::kill(m_nspawn->pid(), SIGTERM);  // nspawn asks the container's systemd to power off
    bool ended = wait_until([&] { return m_nspawn->step(0); }, 20s);
    if (!ended) {
      ::kill(m_nspawn->pid(), SIGKILL);
      wait_until([&] { return m_nspawn->step(0); }, 5s);
    }
  }
  for (const auto& cgroup : m_cgroups) {
    if (!wait_until([&] { return cgroup_empty(cgroup); }, 5s)) kill_cgroup(cgroup);
    wait_until([&] { return cgroup_empty(cgroup); }, 5s);
    remove_cgroup(cgroup);
  }
  m_nspawn.reset();
}

util::RunResult Container::sh(const std::string& script, const std::string& stdin_data) {
  util::RunOptions options;
  options.env = k_clean_env;
  options.stdin_data = stdin_data;
  return util::run_program({"nsenter", "-t", std::to_string(m_leader), "-a", "/bin/sh", "-c", script}, options);
}

std::string Container::must(const std::string& script, const std::string& stdin_data) {
  auto result = sh(script, stdin_data);
  if (result.exit_code != 0)
    throw std::runtime_error("in container " + m_name + ": '" + script + "' exited " +
                             std::to_string(result.exit_code) + ": " + result.err + result.out);
  return result.out;
}

std::string Container::property(const std::string& unit, const std::string& name) {
  auto out = must("systemctl show -P " + quote(name) + " " + quote(unit));
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

void Container::install_oos(const std::string& config_toml) {
  must(std::string("BUILD_DIR=") + k_build_inside +
       " PREFIX=/opt/oos UNITDIR=/etc/systemd/system SYSUSERSDIR=/etc/sysusers.d TMPFILESDIR=/etc/tmpfiles.d " +
       k_source_inside + "/scripts/install install");
  must("cat > /etc/oos/oos.toml", config_toml);
}

fs::path Container::host_path(const fs::path& inside) const {
  return fs::path("/proc") / std::to_string(m_leader) / "root" / inside.relative_path();
}

std::string Container::console_tail() const {
  auto text = read_all(m_dir.path() / "console.log");
  return text.size() > 3000 ? text.substr(text.size() - 3000) : text;
}

}  // namespace oos::test
