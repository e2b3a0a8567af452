// An HTTP/1.1 server on 127.0.0.1 that speaks the wire formats of the search providers (Google's Custom
// Search JSON API, SearXNG's JSON API, Brave's Web Search API): their result documents and their error
// envelopes. A test scripts each provider's replies and reads back the requests it received. One thread per
// connection, so concurrent clients (20 oos-search processes) are served at once.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace oos::test {

enum class Reply {
  ok,                        // 200 with results
  empty,                     // 200 with no results (Google: no "items")
  rate_limited,              // 429 without Retry-After (Google: RESOURCE_EXHAUSTED / rateLimitExceeded)
  rate_limited_retry_after,  // 429 with Retry-After: retry_after_seconds
  permission_denied,         // 403 PERMISSION_DENIED, "This project does not have the access to ..."
  daily_limit,               // 403 dailyLimitExceeded (Brave: 429 QUOTA_LIMITED)
  bad_request,               // 400 INVALID_ARGUMENT
  server_error,              // 500 INTERNAL
  slow,                      // 200, but only after slow_ms
  malformed,                 // 200 with a body that is not JSON
};

struct ReceivedRequest {
  std::string provider;                        // "google", "searxng", "brave", or "" for an unknown path
  std::string target;                          // path and query, as sent
  std::map<std::string, std::string> headers;  // names in lower case
};

class FakeSearchServer {
 public:
  // Listens on 127.0.0.1:`port` (0: a free port).
  explicit FakeSearchServer(int port = 0);
  ~FakeSearchServer();
  FakeSearchServer(const FakeSearchServer&) = delete;
  FakeSearchServer& operator=(const FakeSearchServer&) = delete;

  std::string base_url() const;
  // The endpoint each provider's config takes.
  std::string google_endpoint() const { return base_url() + "/customsearch/v1"; }
  std::string searxng_endpoint() const { return base_url(); }
  std::string brave_endpoint() const { return base_url(); }

  // The replies to the provider's next requests, in order; the last one repeats. Default: ok.
  void script(const std::string& provider, std::vector<Reply> replies);
  // Requests the provider has received.
  int requests(const std::string& provider) const;
  std::vector<ReceivedRequest> received() const;

  std::atomic<int> retry_after_seconds{1};
  std::atomic<int> slow_ms{3000};

 private:
  void accept_loop();
  void serve(int fd);
  Reply next_reply(const std::string& provider);

  int m_listen_fd = -1;
  int m_port = 0;
  std::atomic<bool> m_stopping{false};
  std::thread m_acceptor;
  mutable std::mutex m_mutex;
  std::vector<std::thread> m_connections;
  std::map<std::string, std::vector<Reply>> m_scripts;
  std::map<std::string, int> m_served;
  std::vector<ReceivedRequest> m_received;
};

}  // namespace oos::test
