// oos-api as a process for the black-box tests: an HTTP client over libcurl and a CliFixture that starts
// oos-api on a free loopback port against its state directory. Shared by the tests/cli/test_api*.cpp suites.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/cli_support.hpp"

namespace oos::test {

// The Authorization header of the admin token the tests configure as OOS_API_TOKEN=admin-token-123456.
inline const std::string k_admin = "Authorization: Bearer admin-token-123456";

struct HttpReply {
  long status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

// One request; `body` sent as it is (with a Content-Length) when not empty, `headers` as "Name: value".
HttpReply http(const std::string& method, const std::string& url, const std::string& body = "",
               const std::vector<std::string>& headers = {});

// Waits for oos-api's "listening on 127.0.0.1:PORT" line on `api`'s stdout (failing the test when it does not come);
// returns "http://127.0.0.1:PORT".
std::string listening_base(BackgroundProcess& api);

// A CliFixture with oos-api serving its state directory on a free loopback port.
struct ApiFixture : CliFixture {
  std::unique_ptr<BackgroundProcess> api;
  std::string base;  // "http://127.0.0.1:PORT"

  ApiFixture() { create_database(); }

  // Starts oos-api --listen 127.0.0.1:0 with `env` and waits for its "listening on" line.
  void start_api(const std::vector<std::string>& env = {});
  HttpReply get(const std::string& path) { return http("GET", base + path); }
};

// The CLI's JSON lines as one array.
nlohmann::json lines_array(const std::string& out);

// The message of a CLI failure, without "TOOL: error: " and the newline.
std::string cli_message(const std::string& err);

}  // namespace oos::test
