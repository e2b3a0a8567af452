#include "cli/api_support.hpp"

#include <curl/curl.h>

#include <boost/test/unit_test.hpp>

#include <cctype>
#include <sstream>
#include <stdexcept>

namespace oos::test {
namespace {

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* out) {
  std::string line(data, size * count);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    (*static_cast<std::map<std::string, std::string>*>(out))[name] = value;
  }
  return size * count;
}

}  // namespace

HttpReply http(const std::string& method, const std::string& url, const std::string& body,
               const std::vector<std::string>& headers) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> list(nullptr, &curl_slist_free_all);
  for (const auto& h : headers) list.reset(curl_slist_append(list.release(), h.c_str()));
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, list.get());
  HttpReply reply;
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_NOPROXY, "*");
  curl_easy_setopt(curl.get(), CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "HEAD") curl_easy_setopt(curl.get(), CURLOPT_NOBODY, 1L);
  if (!body.empty()) {
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &reply.headers);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(scaled(std::chrono::seconds(10)).count()));
  auto rc = curl_easy_perform(curl.get());
  if (rc != CURLE_OK) throw std::runtime_error(url + ": " + curl_easy_strerror(rc));
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &reply.status);
  return reply;
}

std::string listening_base(BackgroundProcess& api) {
  const std::string marker = "listening on ";
  BOOST_REQUIRE_MESSAGE(
      eventually([&] { return api.out().find('\n') != std::string::npos; }, scaled(std::chrono::seconds(10)), {&api}),
      "oos-api did not start: " << api.err());
  auto line = api.out().substr(0, api.out().find('\n'));
  BOOST_REQUIRE(line.starts_with(marker + "127.0.0.1:"));
  return "http://" + line.substr(marker.size());
}

void ApiFixture::start_api(const std::vector<std::string>& env) {
  api = start("OOS_API_BIN", {"--listen", "127.0.0.1:0"}, env);
  base = listening_base(*api);
}

nlohmann::json lines_array(const std::string& out) {
  auto list = nlohmann::json::array();
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) list.push_back(nlohmann::json::parse(line));
  return list;
}

std::string cli_message(const std::string& err) {
  auto start = err.find(": error: ");
  auto message = err.substr(start + 9);
  if (!message.empty() && message.back() == '\n') message.pop_back();
  return message;
}

}  // namespace oos::test
