// The HTTP API's routes (docs/reference.md, HTTP API): a request in, a reply out, over the same stores and the
// same JSON documents as the CLI (app/output.hpp). Knows nothing of sockets: the tests call handle() directly,
// HttpServer calls it for every request.
#pragma once

#include <filesystem>

#include "api/access.hpp"
#include "api/message.hpp"
#include "config.hpp"
#include "log.hpp"
#include "queue/task_store.hpp"
#include "store/backend.hpp"
#include "util/random.hpp"
#include "util/time.hpp"

namespace oos::api {

// What the routes read: the stores of one open backend, SQLite's or PostgreSQL's (one connection: the caller
// serialises the calls), the config, the clock, and the directories oos-health looks at.
struct Sources {
  store::Backend& backend;
  const config::Config& config;
  const util::Clock& clock;
  log::Logger& logger;
  std::filesystem::path state_dir;
  std::filesystem::path backup_dir;
  AccessSettings access;  // tokens and allowed hosts
};

// The routes; handle() is not reentrant (one database connection).
class Router {
 public:
  explicit Router(Sources sources) : m_sources(std::move(sources)) {}

  // The reply to `request`; never throws. Access first (authorize()), then the route; a write commits with its
  // "api.write" event or not at all; a 200 to GET or HEAD carries an ETag (304 on If-None-Match); a failure is a
  // problem document with the CLI's message (http_status()). Every reply has the security headers.
  Response handle(const Request& request);

 private:
  Response route(const Request& request);
  Response enqueue(const Request& request, const std::string& queue, queue::TaskStore& tasks);

  Sources m_sources;
  std::string m_csrf_token = util::random_token(32);  // one per process: a restart makes pages read it again
};

}  // namespace oos::api
