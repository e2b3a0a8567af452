// The Debian package (issue 18, docs/packaging.md) in a fresh minimal Debian 12: a debootstrap root
// (tests/system/debian-root, made once and kept), booted with systemd-nspawn over a tmpfs overlay so that every run
// starts from the same fresh system. The .deb is the one `make deb` built into the build tree's deb/ folder; its
// dependencies come from the Debian mirror (downloaded on the host, since the container has no network).
// apt installs it, nothing starts, the operator starts oos.target, a task runs, oos-health is OK; apt purge then
// leaves none of the package's files, units or processes, and keeps /var/lib/oos.
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "support/text.hpp"
#include "system/container.hpp"
#include "system/oos_container.hpp"
#include "util/subprocess.hpp"

using namespace oos;
using namespace oos::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// Where the package test keeps its Debian root and downloaded packages between runs (outside any checkout).
const fs::path k_cache = "/var/cache/oos-tests/debian-12";

fs::path built_deb() {
  const fs::path dir = fs::path(OOS_BUILD_DIR) / "deb";
  if (fs::exists(dir))
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.path().filename().string().starts_with("oos_") && entry.path().extension() == ".deb")
        return entry.path();
  BOOST_FAIL("no .deb in " + dir.string() + ": run 'make deb' first ('make test' does)");
  return {};
}

std::string host_must(const std::vector<std::string>& argv) {
  auto r = util::run_program(argv);
  if (r.exit_code != 0) BOOST_FAIL(argv[0] + " " + argv[1] + " exited " + std::to_string(r.exit_code) + ": " + r.err);
  return r.out;
}

// The processes of user oos, as "PID NAME" lines (a minimal Debian has no procps).
std::string oos_processes(Container& c) {
  return c
      .sh("for p in /proc/[0-9]*; do [ \"$(stat -c %U $p 2>/dev/null)\" = oos ] && "
          "echo \"${p#/proc/} $(cat $p/comm 2>/dev/null)\"; done; true")
      .out;
}

const std::string k_apt = "DEBIAN_FRONTEND=noninteractive apt-get -y -qq -o Dpkg::Use-Pty=0 ";

}  // namespace

BOOST_AUTO_TEST_SUITE(deb_package)

BOOST_AUTO_TEST_CASE(installs_starts_runs_a_task_and_purges_clean_on_a_fresh_debian) {
  const auto deb = built_deb();
  const std::string script = std::string(OOS_SOURCE_DIR) + "/tests/system/debian-root";
  const fs::path root = lines_of(host_must({script, "root", k_cache.string()})).back();
  host_must({script, "fetch", k_cache.string(), deb.string()});

  ContainerRoot debian;
  debian.directory = root;
  debian.volatile_mode = "overlay";
  debian.binds = {(k_cache / "archives").string() + ":/var/cache/apt/archives",
                  deb.parent_path().string() + ":/opt/deb"};
  Container c("deb", debian);
  const std::string package = "/opt/deb/" + deb.filename().string();

  // Installed: the user, the conffile, the units; nothing enabled, nothing started.
  c.must(k_apt + "install " + package);  // its dependencies are in the archives already
  BOOST_TEST(c.sh("id oos").exit_code == 0);
  BOOST_TEST(c.must("dpkg-query -W -f='${Conffiles}' oos").find("/etc/oos/oos.toml") != std::string::npos);
  BOOST_TEST(c.must("stat -c '%a %U %G' /etc/oos /var/lib/oos") == "750 root oos\n750 oos oos\n");
  for (const auto* unit : {"oos.target", "oos-worker@1.service", "oos-api.socket", "oos-backup.timer"}) {
    BOOST_TEST(c.sh(std::string("systemctl is-enabled ") + unit).out != "enabled\n", unit);
    BOOST_TEST(c.sh(std::string("systemctl is-active ") + unit).out == "inactive\n", unit);
  }
  BOOST_TEST(oos_processes(c).empty(), oos_processes(c));
  BOOST_TEST(c.sh("test -f /usr/share/man/man1/oos-queue.1.gz").exit_code == 0);

  // The operator adds a handler and starts the suite; a task runs; a backup and a check run; oos-health is OK.
  c.must("printf '\\n[handlers.ok]\\ncommand = [\"/bin/true\"]\\n' >> /etc/oos/oos.toml");
  c.must("systemctl enable --now oos.target");
  BOOST_TEST(c.sh("systemctl is-active oos-worker@1.service").out == "active\n",
             c.sh("journalctl -u oos-worker@1 --no-pager").out);
  const auto id = lines_of(c.must(k_as_oos + "oos-queue enqueue default ok")).at(0);
  const bool ran = wait_until(
      [&] {
        return c.sh(k_as_oos + "oos-queue show " + id + " --json").out.find("\"succeeded\"") != std::string::npos;
      },
      30s);
  BOOST_TEST(ran, c.sh(k_as_oos + "oos-queue show " + id).out + c.sh("journalctl -u oos-worker@1 --no-pager").out);
  c.must("systemctl start oos-backup.service oos-integrity.service");
  auto health = c.sh(k_as_oos + "oos-health");
  BOOST_TEST(health.exit_code == 0, health.out + health.err);

  // Purged: no file of the package, no unit (enabled links included), no process; the data stays.
  const auto files = lines_of(c.must("dpkg-query -L oos"));
  c.must("systemctl enable oos-worker@2.service");
  c.must(k_apt + "purge oos");
  std::string left;
  for (const auto& path : files)
    if (c.sh("test -f '" + path + "' || { test -L '" + path + "' && ! test -d '" + path + "'; }").exit_code == 0)
      left += path + "\n";
  BOOST_TEST(left.empty(), "left behind:\n" + left);
  for (const auto* dir : {"/etc/oos", "/usr/share/doc/oos", "/usr/lib/oos"})
    BOOST_TEST(c.sh(std::string("test -e ") + dir).exit_code != 0, dir);
  BOOST_TEST(c.sh("find /etc/systemd /lib/systemd/system /usr/lib/systemd/system -name 'oos*'").out.empty());
  // systemd unloads the units whose files went away in its event loop, after the daemon-reload has returned.
  std::string units;
  BOOST_TEST(
      wait_until([&] { return (units = c.sh("systemctl list-units --all --no-legend 'oos*'").out).empty(); }, 10s),
      units);
  BOOST_TEST(oos_processes(c).empty(), oos_processes(c));
  BOOST_TEST(c.sh("test -f /var/lib/oos/oos.db").exit_code == 0);
}

BOOST_AUTO_TEST_SUITE_END()
