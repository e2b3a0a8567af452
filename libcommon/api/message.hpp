// An HTTP request and reply as plain values: what the router reads and returns, with no socket in sight.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace oos::api {

struct Request {
  std::string method;                          // "GET", "POST", ...
  std::string path;                            // decoded, without the query string
  std::map<std::string, std::string> query;    // ?name=value, decoded
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  bool peer_loopback = false;  // the peer is 127.0.0.0/8 or ::1
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

}  // namespace oos::api
