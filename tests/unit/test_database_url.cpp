// store::resolve_database_url: which database the tools use, and the URLs it refuses (docs/reference.md section 19).
#include <boost/test/unit_test.hpp>

#include <string>

#include "error.hpp"
#include "store/database_url.hpp"
#include "support/printers.hpp"

namespace oos {
namespace {

// The error resolve_database_url() throws for `configured` and `env`.
Error refusal(const std::string& configured, const char* env) {
  try {
    store::resolve_database_url(configured, env);
  } catch (const Error& e) {
    return e;
  }
  BOOST_FAIL("no oos::Error thrown");
  return Error(ExitCode::ok, "");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(database_url)

BOOST_AUTO_TEST_CASE(no_url_anywhere_means_sqlite) {
  BOOST_TEST(!store::resolve_database_url("", nullptr).has_value());
  BOOST_TEST(!store::resolve_database_url("", "").has_value());
}

BOOST_AUTO_TEST_CASE(the_environment_wins_over_the_config) {
  BOOST_TEST(store::resolve_database_url("postgresql://a@h/db", "postgres://b@h/db").value() == "postgres://b@h/db");
  BOOST_TEST(store::resolve_database_url("postgresql://a@h/db", "").value() == "postgresql://a@h/db");
  BOOST_TEST(store::resolve_database_url("", "postgresql:///oos?host=/run/postgresql").value() ==
             "postgresql:///oos?host=/run/postgresql");
}

BOOST_AUTO_TEST_CASE(a_url_that_is_not_postgresql_is_78_naming_where_it_came_from) {
  auto from_config = refusal("mysql://a@h/db", nullptr);
  BOOST_TEST(from_config.code() == ExitCode::config);
  BOOST_TEST(std::string(from_config.what()).starts_with("db.url: not a PostgreSQL URL"), from_config.what());
  auto from_env = refusal("", "host=db dbname=oos");
  BOOST_TEST(std::string(from_env.what()).starts_with("OOS_DATABASE_URL: not a PostgreSQL URL"), from_env.what());
}

BOOST_AUTO_TEST_CASE(a_password_in_the_url_is_78_naming_the_secret_and_never_echoed) {
  for (const char* url :
       {"postgresql://oos:hunter2-secret@db/oos", "postgresql://db/oos?sslmode=require&PASSWORD=hunter2-secret",
        "postgres://db/oos?password=hunter2-secret", "postgresql://oos:hunter2-secret@/oos?host=/run"}) {
    auto e = refusal(url, nullptr);
    BOOST_TEST(e.code() == ExitCode::config, url);
    BOOST_TEST(std::string(e.what()).find("OOS_DATABASE_PASSWORD") != std::string::npos, e.what());
    BOOST_TEST(std::string(e.what()).find("hunter2") == std::string::npos, e.what());
  }
}

BOOST_AUTO_TEST_CASE(a_user_without_a_password_and_an_at_sign_after_the_host_are_accepted) {
  BOOST_TEST(store::resolve_database_url("postgresql://oos@db:5432/oos", nullptr).has_value());
  BOOST_TEST(store::resolve_database_url("postgresql://db/oos?application_name=a:b@c", nullptr).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace oos
