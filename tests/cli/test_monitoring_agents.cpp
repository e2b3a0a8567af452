// The monitoring agents an operator points at OOS, run for real (docs/reference.md section 13 and 8.9): Debian's
// prometheus-node-exporter reading the textfiles the tools write, and oos-health read by the Nagios plugin
// conventions (monitoring-plugins-basic's negate maps its exit codes to states; Monitoring::Plugin, the plugin
// library's own parser, reads its performance data).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/api_support.hpp"
#include "cli/cli_support.hpp"

using oos::test::CliFixture;
using oos::test::handler_toml;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::string k_node_exporter = "/usr/bin/prometheus-node-exporter";
const std::string k_negate = "/usr/lib/nagios/plugins/negate";

// A loopback port nobody listens on now (the kernel's choice for port 0; free again once closed).
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  BOOST_TEST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  BOOST_TEST_REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  ::close(fd);
  return ntohs(address.sin_port);
}

// The metric names of the samples of a textfile (the name before its labels or value), comments skipped.
std::set<std::string> sample_names(const std::string& text) {
  std::set<std::string> names;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty() && line[0] != '#') names.insert(line.substr(0, line.find_first_of("{ ")));
  return names;
}

// The lines of `text` that start with `prefix`.
std::string lines_starting(const std::string& text, const std::string& prefix) {
  std::string out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (line.starts_with(prefix)) out += line + "\n";
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(monitoring_agents)

BOOST_FIXTURE_TEST_CASE(node_exporter_scrapes_every_textfile_the_tools_write, CliFixture) {
  auto metrics = dir() / "metrics";
  fs::create_directories(metrics);
  write_config("[metrics]\ntextfile_dir = \"" + metrics.string() + "\"\n\n" +
               handler_toml("ok", write_script("ok.sh", "exit 0\n")));
  enqueue("default", "ok");
  BOOST_TEST_REQUIRE(worker({"--drain", "--name", "7"}).exit_code == 0);
  BOOST_TEST_REQUIRE(backup({}).exit_code == 0);
  BOOST_TEST_REQUIRE(integrity({}).exit_code == 0);
  BOOST_TEST_REQUIRE(cleanup({}).exit_code == 0);
  BOOST_TEST_REQUIRE(queue({"metrics", "--textfile"}).exit_code == 0);
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(metrics)) files.push_back(entry.path());
  BOOST_TEST_REQUIRE(files.size() >= 5u);  // oos_backup, oos_integrity, oos_cleanup, oos_queue, oos_worker_7

  // A free port may be taken by another test between our check and the exporter's bind: then the exporter exits,
  // or another server answers, and the next port is tried.
  oos::test::HttpReply scraped;
  std::string exporter_err;
  for (int attempt = 0; attempt < 5 && scraped.body.find("node_textfile_scrape_error") == std::string::npos;
       ++attempt) {
    const auto port = std::to_string(free_port());
    oos::test::BackgroundProcess exporter(
        {k_node_exporter, "--web.listen-address=127.0.0.1:" + port, "--collector.disable-defaults",
         "--collector.textfile", "--collector.textfile.directory=" + metrics.string()},
        {});
    scraped = {};
    for (auto until = std::chrono::steady_clock::now() + oos::test::scaled(10s);
         scraped.status != 200 && std::chrono::steady_clock::now() < until && !exporter.pump(100);) {
      try {
        scraped = oos::test::http("GET", "http://127.0.0.1:" + port + "/metrics");
      } catch (const std::runtime_error&) {  // not listening yet
      }
    }
    exporter_err = exporter.err();
  }
  BOOST_TEST_REQUIRE(scraped.body.find("node_textfile_scrape_error") != std::string::npos, exporter_err);
  // The collector read every file without an error, and serves every series of each.
  BOOST_TEST(scraped.body.find("\nnode_textfile_scrape_error 0\n") != std::string::npos,
             lines_starting(scraped.body, "node_textfile"));
  for (const auto& file : files) {
    BOOST_TEST(
        lines_starting(scraped.body, "node_textfile_mtime_seconds").find(file.filename().string()) != std::string::npos,
        file);
    for (const auto& name : sample_names(oos::test::read_file(file)))
      BOOST_TEST(scraped.body.find("\n" + name) != std::string::npos, name << " of " << file);
  }
  BOOST_TEST(scraped.body.find("\noos_backup_runs_succeeded_total 1\n") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(oos_health_exit_codes_and_perfdata_are_read_as_a_nagios_plugin, CliFixture) {
  // A missing database: CRITICAL (2); negate, as a monitoring system's wrapper, reads 2 as CRITICAL and turns
  // it into OK, and OK into CRITICAL: the exit codes are the plugin states.
  const std::vector<std::string> health = {std::getenv("OOS_HEALTH_BIN"), "--state-dir", state_dir().string(),
                                           "--config", config_path().string()};
  auto negated = [&] {
    auto argv = health;
    argv.insert(argv.begin(), k_negate);
    return run(argv);
  };
  auto critical = negated();
  BOOST_TEST(critical.exit_code == 0, critical.out << critical.err);
  BOOST_TEST(critical.out.starts_with("OOS CRITICAL - "), critical.out);

  auto id = enqueue("default", "job");
  BOOST_TEST_REQUIRE(queue({"cancel", std::to_string(id)}).exit_code == 0);
  BOOST_TEST_REQUIRE(integrity({}).exit_code == 0);
  BOOST_TEST_REQUIRE(backup({}).exit_code == 0);
  auto ok = run(health);
  BOOST_TEST_REQUIRE(ok.exit_code == 0, ok.out);
  auto negated_ok = negated();
  BOOST_TEST(negated_ok.exit_code == 2, negated_ok.out);

  // The performance data after " | " on the first line, parsed by Monitoring::Plugin::Performance: every label
  // and value read back, with its unit.
  auto first = ok.out.substr(0, ok.out.find('\n'));
  auto bar = first.find(" | ");
  BOOST_TEST_REQUIRE(bar != std::string::npos, first);
  auto perfdata = first.substr(bar + 3);
  auto parsed = run({"perl", "-MMonitoring::Plugin::Performance", "-e",
                     "my @p = Monitoring::Plugin::Performance->parse_perfstring($ARGV[0]); "
                     "print join(\"\\n\", map { $_->label . '=' . $_->value . $_->uom } @p), \"\\n\"",
                     perfdata});
  BOOST_TEST_REQUIRE(parsed.exit_code == 0, parsed.err);
  // What the guidelines define: 'label'=value[UOM];[warn];[crit];[min];[max], space-separated, a label quoted
  // when it holds a space.
  static const std::regex k_item("(?:'([^']*)'|([^ '=]+))=([^ ;]+)[^ ]*");
  std::string expected, items;
  for (std::sregex_iterator it(perfdata.begin(), perfdata.end(), k_item), end; it != end; ++it) {
    expected += ((*it)[1].matched ? (*it)[1].str() : (*it)[2].str()) + "=" + (*it)[3].str() + "\n";
    items += (items.empty() ? "" : " ") + it->str();
  }
  BOOST_TEST_REQUIRE(!expected.empty(), perfdata);
  BOOST_TEST(items == perfdata);  // nothing but such items, one space apart (an unquoted space would be left out)
  BOOST_TEST(parsed.out == expected, "perfdata: " << perfdata);
  BOOST_TEST(parsed.out.find("runnable=") != std::string::npos, parsed.out);
}

BOOST_AUTO_TEST_SUITE_END()
