#include "support/fake_search_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <stdexcept>
#include <string_view>

namespace oos::test {
namespace {

struct Response {
  int status = 200;
  std::string body;
  bool retry_after = false;
};

std::string reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    default: return "Internal Server Error";
  }
}

// Google's error envelope, as the Custom Search JSON API sends it.
std::string google_error(int code, const std::string& status, const std::string& reason, const std::string& message) {
  return R"({"error":{"code":)" + std::to_string(code) + R"(,"message":")" + message + R"(","errors":[{"message":")" +
         message + R"(","domain":"global","reason":")" + reason + R"("}],"status":")" + status + R"("}})";
}

std::string google_items(int n) {
  std::string items;
  for (int i = 1; i <= n; ++i) {
    if (i > 1) items += ",";
    items += R"({"kind":"customsearch#result","title":"Google result )" + std::to_string(i) +
             R"(","htmlTitle":"Google <b>result</b>","link":"https://example.org/google/)" + std::to_string(i) +
             R"(","displayLink":"example.org","snippet":"Snippet )" + std::to_string(i) +
             R"( \nfrom Google.","htmlSnippet":"<b>Snippet</b> )" + std::to_string(i) +
             R"( <br>\nfrom Google.","formattedUrl":"https://example.org/"})";
  }
  return items;
}

Response google(Reply reply) {
  switch (reply) {
    case Reply::ok:
    case Reply::slow:
      return {
          200,
          R"({"kind":"customsearch#search","url":{"type":"application/json"},"queries":{"request":[{"title":"Google Custom Search","totalResults":"1230","count":3,"startIndex":1}],"nextPage":[{"title":"Google Custom Search","totalResults":"1230","count":3,"startIndex":4}]},"context":{"title":"oos"},"searchInformation":{"searchTime":0.21,"formattedSearchTime":"0.21","totalResults":"1230","formattedTotalResults":"1,230"},"items":[)" +
              google_items(3) + "]}"};
    case Reply::empty:
      return {
          200,
          R"({"kind":"customsearch#search","url":{"type":"application/json"},"queries":{"request":[{"title":"Google Custom Search","totalResults":"0","count":10,"startIndex":1}]},"context":{"title":"oos"},"searchInformation":{"searchTime":0.1,"formattedSearchTime":"0.10","totalResults":"0","formattedTotalResults":"0"}})"};
    case Reply::rate_limited:
    case Reply::rate_limited_retry_after:
      return {429,
              google_error(429, "RESOURCE_EXHAUSTED", "rateLimitExceeded",
                           "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute' of service "
                           "'customsearch.googleapis.com' for consumer 'project_number:123456'."),
              reply == Reply::rate_limited_retry_after};
    case Reply::permission_denied:
      return {403, google_error(403, "PERMISSION_DENIED", "forbidden",
                                "This project does not have the access to Custom Search JSON API.")};
    case Reply::daily_limit:
      return {403, google_error(403, "PERMISSION_DENIED", "dailyLimitExceeded",
                                "This API requires billing to be enabled on the project. Daily Limit Exceeded.")};
    case Reply::bad_request:
      return {400, google_error(400, "INVALID_ARGUMENT", "badRequest", "Request contains an invalid argument.")};
    case Reply::server_error:
      return {500, google_error(500, "INTERNAL", "backendError", "Internal error encountered.")};
    case Reply::malformed: return {200, R"({"kind":"customsearch#search","items":[{"title":)"};
  }
  return {500, ""};
}

Response searxng(Reply reply) {
  switch (reply) {
    case Reply::ok:
    case Reply::slow: {
      std::string results;
      for (int i = 1; i <= 12; ++i)
        results +=
            std::string(i > 1 ? "," : "") + R"({"url":"https://example.org/searxng/)" + std::to_string(i) +
            R"(","title":"SearXNG result )" + std::to_string(i) + R"(","content":"Content )" + std::to_string(i) +
            R"(.","engine":"duckduckgo","parsed_url":["https","example.org","/","","",""],"engines":["duckduckgo"],"positions":[1],"score":1.0,"category":"general"})";
      return {200, R"({"query":"q","number_of_results":0,"results":[)" + results +
                       R"(],"answers":[],"corrections":[],"infoboxes":[],"suggestions":[],"unresponsive_engines":[]})"};
    }
    case Reply::empty:
      return {
          200,
          R"({"query":"q","number_of_results":0,"results":[],"answers":[],"corrections":[],"infoboxes":[],"suggestions":[],"unresponsive_engines":[]})"};
    case Reply::rate_limited:
    case Reply::rate_limited_retry_after: return {429, "Too Many Requests", reply == Reply::rate_limited_retry_after};
    case Reply::permission_denied:
    case Reply::daily_limit: return {403, "Forbidden"};
    case Reply::bad_request: return {400, "Bad Request"};
    case Reply::server_error: return {500, "Internal Server Error"};
    case Reply::malformed: return {200, "<!DOCTYPE html><html><body>SearXNG</body></html>"};
  }
  return {500, ""};
}

std::string brave_error(int status, const std::string& code, const std::string& detail) {
  return R"({"type":"ErrorResponse","error":{"id":"5f0c3b2e-1d2a-4b6c-9e8f-0a1b2c3d4e5f","status":)" +
         std::to_string(status) + R"(,"code":")" + code + R"(","detail":")" + detail +
         R"(","meta":{"plan":"Free","rate_limit":1,"rate_current":2,"quota_limit":2000,"quota_current":2000}},"time":1764000000})";
}

Response brave(Reply reply) {
  switch (reply) {
    case Reply::ok:
    case Reply::slow:
      return {
          200,
          R"({"type":"search","query":{"original":"q","more_results_available":true},"mixed":{"type":"mixed","main":[{"type":"web","index":0,"all":false}]},"web":{"type":"search","results":[{"title":"Brave result 1","url":"https://example.org/brave/1","is_source_local":false,"description":"<strong>Description</strong> 1.","age":"2 days ago","language":"en","family_friendly":true},{"title":"Brave result 2 &amp; more","url":"https://example.org/brave/2","description":"Description&nbsp;2."}],"family_friendly":true}})"};
    case Reply::empty: return {200, R"({"type":"search","query":{"original":"q","more_results_available":false}})"};
    case Reply::rate_limited:
    case Reply::rate_limited_retry_after:
      return {429, brave_error(429, "RATE_LIMITED", "Request rate limit exceeded for plan."),
              reply == Reply::rate_limited_retry_after};
    case Reply::permission_denied:
      return {403, brave_error(403, "SUBSCRIPTION_TOKEN_INVALID", "The provided subscription token is invalid.")};
    case Reply::daily_limit: return {429, brave_error(429, "QUOTA_LIMITED", "Request quota limit exceeded for plan.")};
    case Reply::bad_request: return {422, brave_error(422, "VALIDATION", "Unable to validate request parameter(s).")};
    case Reply::server_error: return {500, brave_error(500, "INTERNAL_ERROR", "Internal server error.")};
    case Reply::malformed: return {200, R"({"type":"search","web":)"};
  }
  return {500, ""};
}

std::string provider_of(std::string_view target) {
  auto path = target.substr(0, target.find('?'));
  if (path == "/customsearch/v1") return "google";
  if (path == "/search") return "searxng";
  if (path == "/res/v1/web/search") return "brave";
  return "";
}

bool write_all(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    auto n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

FakeSearchServer::FakeSearchServer(int port) {
  m_listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (m_listen_fd < 0) throw std::runtime_error("fake search server: socket failed");
  int on = 1;
  ::setsockopt(m_listen_fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::bind(m_listen_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(m_listen_fd, 128) != 0)
    throw std::runtime_error("fake search server: cannot listen on 127.0.0.1");
  socklen_t length = sizeof address;
  ::getsockname(m_listen_fd, reinterpret_cast<sockaddr*>(&address), &length);
  m_port = ntohs(address.sin_port);
  m_acceptor = std::thread([this] { accept_loop(); });
}

FakeSearchServer::~FakeSearchServer() {
  m_stopping = true;
  m_acceptor.join();
  ::close(m_listen_fd);
  std::vector<std::thread> connections;
  {
    std::lock_guard lock(m_mutex);
    connections.swap(m_connections);
  }
  for (auto& t : connections) t.join();
}

std::string FakeSearchServer::base_url() const {
  return "http://127.0.0.1:" + std::to_string(m_port);
}

void FakeSearchServer::script(const std::string& provider, std::vector<Reply> replies) {
  std::lock_guard lock(m_mutex);
  m_scripts[provider] = std::move(replies);
  m_served[provider] = 0;
}

int FakeSearchServer::requests(const std::string& provider) const {
  std::lock_guard lock(m_mutex);
  return static_cast<int>(std::count_if(m_received.begin(), m_received.end(),
                                        [&](const ReceivedRequest& r) { return r.provider == provider; }));
}

std::vector<ReceivedRequest> FakeSearchServer::received() const {
  std::lock_guard lock(m_mutex);
  return m_received;
}

Reply FakeSearchServer::next_reply(const std::string& provider) {
  std::lock_guard lock(m_mutex);
  auto it = m_scripts.find(provider);
  if (it == m_scripts.end() || it->second.empty()) return Reply::ok;
  auto index = std::min<std::size_t>(static_cast<std::size_t>(m_served[provider]++), it->second.size() - 1);
  return it->second[index];
}

void FakeSearchServer::accept_loop() {
  while (!m_stopping) {
    pollfd p{m_listen_fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept4(m_listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard lock(m_mutex);
    m_connections.emplace_back([this, fd] { serve(fd); });
  }
}

void FakeSearchServer::serve(int fd) {
  std::string request;
  char buffer[4096];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (request.find("\r\n\r\n") == std::string::npos && std::chrono::steady_clock::now() < deadline && !m_stopping) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    auto n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    request.append(buffer, static_cast<std::size_t>(n));
  }
  ReceivedRequest received;
  auto line_end = request.find("\r\n");
  auto line = request.substr(0, line_end);
  auto first = line.find(' '), second = line.rfind(' ');
  if (first != std::string::npos && second > first) received.target = line.substr(first + 1, second - first - 1);
  for (auto at = line_end; at != std::string::npos && at + 2 < request.size();) {
    auto end = request.find("\r\n", at + 2);
    auto header = request.substr(at + 2, end == std::string::npos ? std::string::npos : end - at - 2);
    if (header.empty()) break;
    if (auto colon = header.find(':'); colon != std::string::npos) {
      auto name = header.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      auto value = header.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      received.headers[name] = value;
    }
    at = end;
  }
  received.provider = provider_of(received.target);
  {
    std::lock_guard lock(m_mutex);
    m_received.push_back(received);
  }
  Response response{404, R"({"error":"not found"})"};
  if (!received.provider.empty()) {
    auto reply = next_reply(received.provider);
    if (reply == Reply::slow) {
      auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(slow_ms.load());
      while (std::chrono::steady_clock::now() < until && !m_stopping)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    response = received.provider == "google"    ? google(reply)
               : received.provider == "searxng" ? searxng(reply)
                                                : brave(reply);
  }
  std::string head =
      "HTTP/1.1 " + std::to_string(response.status) + " " + reason_phrase(response.status) +
      "\r\nContent-Type: application/json; charset=UTF-8\r\nContent-Length: " + std::to_string(response.body.size()) +
      "\r\nConnection: close\r\n";
  if (response.retry_after) head += "Retry-After: " + std::to_string(retry_after_seconds.load()) + "\r\n";
  write_all(fd, head + "\r\n" + response.body);
  ::shutdown(fd, SHUT_WR);
  ::close(fd);
}

}  // namespace oos::test
