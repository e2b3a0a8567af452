// The HTTP API's routes (docs/reference.md, HTTP API): a request in, a reply out, over the same stores and the
// same JSON documents as the CLI (app/output.hpp). Knows nothing of sockets: the tests call handle() directly,
// HttpServer calls it for every request.
#pragma once

#include <filesystem>

#include "api/access.hpp"
#include "api/message.hpp"
#include "config.hpp"
#include "db/database.hpp"
#include "log.hpp"
#include "queue/task_store.hpp"
#include "util/random.hpp"
#include "util/time.hpp"

namespace oos::api {

// What the routes read: one database connection (the caller serialises the calls), the config, the clock,
// and the directories oos-health looks at.
struct Sources {
  db::Database& db;
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

  // The reply to `request`, with the security headers of every reply (nosniff, no-store, the CSP). The
  // request passes authorize() first (public: is_public_path(); a browser's write needs this Router's CSRF
  // token, 32 random bytes in hex, which GET /api/v1/csrf returns); a 200 to GET or HEAD carries an ETag of its body,
  // and is 304 without the body when If-None-Match names that tag; a write runs in one transaction with the event
  // "api.write" naming the role that did it (never the token; not for ?dry_run=true): both commit, or neither
  // does and the reply is the failure. Never throws: a failure becomes a problem document whose status http_status()
  // maps from the CLI's exit code, with the CLI's message; an unknown path is 404, a known path with another method 405
  // with Allow.
  Response handle(const Request& request);

 private:
  Response route(const Request& request);
  Response enqueue(const Request& request, const std::string& queue, queue::TaskStore& tasks);

  Sources m_sources;
  std::string m_csrf_token = util::random_token(32);  // one per process: a restart makes pages read it again
};

}  // namespace oos::api
