// health/validate: secrets, directories and installed units, on real files.
#include <boost/test/unit_test.hpp>

#include <set>
#include <string>

#include "health/validate.hpp"
#include "support/printers.hpp"
#include "support/temp_dir.hpp"

using namespace oos;
using oos::test::TempDir;
using oos::test::write_file;
using policy::Health;
namespace fs = std::filesystem;

BOOST_AUTO_TEST_SUITE(validate)

namespace {

const policy::HealthCheck* find(const health::Validation& v, const std::string& name) {
  for (const auto& c : v.checks)
    if (c.name == name) return &c;
  return nullptr;
}

// A config with one handler that needs the secret `key`, and no search provider.
config::Config handler_needing(const std::string& key) {
  config::Config config;
  config.handlers["mail"].command = {"/bin/true"};
  config.handlers["mail"].env_keys = {key};
  config.search.providers.clear();
  return config;
}

struct Fixture {
  TempDir dir;
  TempDir credentials;
  fs::path empty_root = dir / "root";
  Fixture() { fs::create_directories(empty_root); }
  health::Validation run(const config::Config& config, fs::path root = {}) {
    secrets::SecretStore store(credentials.path());
    return health::validate(
        {config, store, dir / "state", dir / "state" / "backups", root.empty() ? empty_root : root});
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(the_unit_list_is_what_the_repository_installs) {
  std::set<std::string> shipped;
  for (const auto& entry : fs::directory_iterator(fs::path(OOS_SOURCE_DIR) / "units"))
    if (entry.is_regular_file() && entry.path().filename() != "README.md") shipped.insert(entry.path().filename());
  std::set<std::string> listed(health::k_installed_units.begin(), health::k_installed_units.end());
  BOOST_TEST(listed == shipped, boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(a_handler_secret_that_is_absent_is_a_config_error, Fixture) {
  auto v = run(handler_needing("OOS_VALIDATE_TEST_TOKEN"));
  const auto* check = find(v, "secret OOS_VALIDATE_TEST_TOKEN");
  BOOST_TEST_REQUIRE(check != nullptr);
  BOOST_TEST(check->status == Health::critical);
  BOOST_TEST(check->message.find("handler mail cannot run without it") != std::string::npos, check->message);
  BOOST_TEST(v.exit_code == 78);
}

BOOST_FIXTURE_TEST_CASE(a_key_ring_is_counted_and_warned_about_for_duplicates_and_a_single_key, Fixture) {
  auto config = handler_needing("OOS_VALIDATE_TEST_TOKEN");
  config.handlers["mail"].env_keys.clear();
  config.handlers["mail"].key_rings = {"OOS_VALIDATE_A_KEYS", "OOS_VALIDATE_B_KEYS", "OOS_VALIDATE_C_KEYS",
                                       "OOS_VALIDATE_D_KEYS"};
  write_file(credentials / "OOS_VALIDATE_A_KEYS", "test-key-aaaa-0001, test-key-bbbb-0002\n");
  write_file(credentials / "OOS_VALIDATE_B_KEYS", "test-key-aaaa-0001,test-key-bbbb-0002,test-key-aaaa-0001\n");
  write_file(credentials / "OOS_VALIDATE_C_KEYS", "test-key-cccc-0003\n");
  auto v = run(config);
  const auto* two = find(v, "key ring OOS_VALIDATE_A_KEYS");
  const auto* duplicate = find(v, "key ring OOS_VALIDATE_B_KEYS");
  const auto* one = find(v, "key ring OOS_VALIDATE_C_KEYS");
  BOOST_TEST_REQUIRE((two && duplicate && one));
  BOOST_TEST(two->status == Health::ok);
  BOOST_TEST(two->message == "2 keys");
  BOOST_TEST(duplicate->status == Health::warning);
  BOOST_TEST(duplicate->message.find("1 more given twice") != std::string::npos, duplicate->message);
  BOOST_TEST(one->status == Health::warning);
  BOOST_TEST(one->message.starts_with("1 key"), one->message);
  // An absent ring is a required secret the handler cannot run without; no key is ever shown.
  BOOST_TEST(find(v, "secret OOS_VALIDATE_D_KEYS")->status == Health::critical);
  for (const auto& check : v.checks) BOOST_TEST(check.message.find("test-key-") == std::string::npos, check.message);
  BOOST_TEST(v.exit_code == 78);
}

BOOST_FIXTURE_TEST_CASE(a_present_secret_is_reported_without_its_value, Fixture) {
  const std::string value = "tok-0123456789-abcdefWXYZ";
  write_file(credentials / "OOS_VALIDATE_TEST_TOKEN", value + "\n");
  auto v = run(handler_needing("OOS_VALIDATE_TEST_TOKEN"));
  const auto* check = find(v, "secret OOS_VALIDATE_TEST_TOKEN");
  BOOST_TEST_REQUIRE(check != nullptr);
  BOOST_TEST(check->status == Health::ok);
  BOOST_TEST(check->message.starts_with("present"), check->message);
  BOOST_TEST(check->message.find(value.substr(0, value.size() - 4)) == std::string::npos, check->message);
  BOOST_TEST(v.exit_code == 0);
}

BOOST_FIXTURE_TEST_CASE(a_secret_too_short_to_be_redacted_is_a_warning_that_does_not_show_it, Fixture) {
  write_file(credentials / "OOS_VALIDATE_TEST_TOKEN", "Zq7\n");
  write_file(credentials / "GOOGLE_SEARCH_ENGINE_ID", "Zq\n");
  auto config = handler_needing("OOS_VALIDATE_TEST_TOKEN");
  config.search.providers = {"google"};
  auto v = run(config);
  for (const auto* name : {"secret OOS_VALIDATE_TEST_TOKEN", "secret GOOGLE_SEARCH_ENGINE_ID"}) {
    const auto* check = find(v, name);
    BOOST_TEST_REQUIRE(check != nullptr, name);
    BOOST_TEST(check->status == Health::warning, name);
    BOOST_TEST(check->message.starts_with("present but shorter than 8 characters"), check->message);
    BOOST_TEST(check->message.find("Zq") == std::string::npos, check->message);
  }
  BOOST_TEST(v.exit_code == 0);  // present: it runs, only its messages are not scrubbed of it
}

BOOST_FIXTURE_TEST_CASE(a_search_provider_without_its_key_only_warns, Fixture) {
  config::Config config;
  config.search.providers = {"brave", "searxng"};
  auto v = run(config);
  const auto* check = find(v, "secret BRAVE_SEARCH_API_KEY");
  BOOST_TEST_REQUIRE(check != nullptr);
  BOOST_TEST(check->status == Health::warning);
  BOOST_TEST(check->message.find("search provider brave is skipped") != std::string::npos, check->message);
  BOOST_TEST(v.exit_code == 0);
  for (const auto& c : v.checks) BOOST_TEST(c.name.find("SEARXNG") == std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(a_state_dir_that_is_a_file_is_an_io_error, Fixture) {
  write_file(dir / "state", "not a directory");
  auto v = run(config::Config{});
  const auto* check = find(v, "state dir");
  BOOST_TEST_REQUIRE(check != nullptr);
  BOOST_TEST(check->status == Health::critical);
  BOOST_TEST(check->message.find("is not a directory") != std::string::npos, check->message);
  BOOST_TEST(v.exit_code == 74);
}

BOOST_FIXTURE_TEST_CASE(a_missing_state_dir_that_can_be_created_is_fine, Fixture) {
  auto v = run(config::Config{});
  const auto* check = find(v, "state dir");
  BOOST_TEST_REQUIRE(check != nullptr);
  BOOST_TEST(check->status == Health::ok);
  BOOST_TEST(check->message.find("will be created") != std::string::npos, check->message);
  BOOST_TEST(!fs::exists(dir / "state"));  // validate creates nothing
}

BOOST_FIXTURE_TEST_CASE(no_installed_units_is_nothing_to_check, Fixture) {
  auto v = run(config::Config{});
  const auto* check = find(v, "units");
  BOOST_TEST_REQUIRE(check != nullptr);
  BOOST_TEST(check->status == Health::ok);
  BOOST_TEST(check->message.find("not installed") != std::string::npos, check->message);
}

BOOST_FIXTURE_TEST_CASE(a_partial_install_names_the_missing_units, Fixture) {
  fs::create_directories(empty_root / "etc/systemd/system");
  write_file(empty_root / "etc/systemd/system/oos.target", "[Unit]\nDescription=OOS\n");
  auto v = run(config::Config{});
  const auto* check = find(v, "units");
  BOOST_TEST_REQUIRE(check != nullptr);
  BOOST_TEST(check->status == Health::critical);
  BOOST_TEST(check->message.find("1 of 12 installed; missing oos-worker@.service") != std::string::npos,
             check->message);
  BOOST_TEST(v.exit_code == 2);
}

BOOST_FIXTURE_TEST_CASE(a_config_error_outranks_a_directory_error, Fixture) {
  write_file(dir / "state", "not a directory");
  auto v = run(handler_needing("OOS_VALIDATE_TEST_TOKEN"));
  BOOST_TEST(v.exit_code == 78);
}

BOOST_AUTO_TEST_SUITE_END()
