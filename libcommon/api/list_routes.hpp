// The API's listings and bulk operations (docs/reference.md section 8.10): the tasks of a queue and its dead letter
// queue a page at a time (keyset pagination: an opaque cursor, the next page named by a Link header), the retry of
// every dead task a filter selects, and the queues' metrics. Each answers as its CLI command does, through the same
// library call and the same document (app/output.hpp, metrics/queue_metrics.hpp).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "api/message.hpp"
#include "queue/queue_store.hpp"
#include "queue/task_store.hpp"
#include "store/backend.hpp"
#include "util/time.hpp"

namespace oos::api {

// The Content-Type of GET /metrics: Prometheus' text exposition format 0.0.4.
inline constexpr std::string_view k_metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

// The id a page continues below, from `?cursor=`: a whole number from 1 (the last id of the page before, as the
// Link header gives it; clients treat it as opaque). Anything else throws oos::Error 64 naming the cursor. Pure.
queue::TaskId parse_cursor(std::string_view text);

// `text` percent-encoded for a URL (RFC 3986): every byte but the unreserved ones (letters, digits, - . _ ~) and
// those in `keep` as %XX. Pure.
std::string percent_encode(std::string_view text, std::string_view keep = "");

// The Link header's value for the page after the one that ended with task `last`: `<PATH?QUERY>; rel="next"`, QUERY
// being every parameter of `query` (as the client sent them, encoded again) with cursor set to `last`. Pure.
std::string next_link(std::string_view path, const std::map<std::string, std::string>& query, queue::TaskId last);

// GET /api/v1/queue/NAME/tasks[?status=S][&limit=N][&cursor=C]: the lines of `oos-queue list NAME [--status S]
// --json` as one array, newest first, at most N (1 to the largest int, default 50, as the CLI), with a Link to
// the next page when there is one. Throws oos::Error 66 for an unknown queue, 64 for a bad status, limit or cursor.
Response list_tasks(const Request& r, const std::string& queue, queue::QueueStore& queues, queue::TaskStore& tasks);

// GET /api/v1/queue/NAME/dead-letter[?type=T][&error=TEXT][&limit=N][&cursor=C]: the lines of `oos-retry list
// --queue NAME [--type T] [--error-match TEXT] --json` as one array (limit 1-1000000, default 100, as the CLI),
// paginated as list_tasks(). Throws oos::Error 66 for an unknown queue, 64 for a bad parameter.
Response list_dead_letter(const Request& r, const std::string& queue, queue::QueueStore& queues,
                          queue::TaskStore& tasks);

// POST /api/v1/queue/NAME/dead-letter/retry[?dry_run=true]: body empty, {} or {"type": T, "error": TEXT} (both
// optional, no other field). Does what `oos-retry requeue --all --queue NAME [--type T] [--error-match TEXT]
// [--dry-run] --json` does (TaskStore::requeue, its batches nested in the request's transaction: all or nothing)
// and answers its document. Throws oos::Error 66 for an unknown queue, 64 or 65 for a bad parameter or body, and
// requeue()'s 1 (refused whole, nothing changed).
Response retry_dead_letter(const Request& r, const std::string& queue, queue::QueueStore& queues,
                           queue::TaskStore& tasks);

// GET /metrics: the text `oos-queue metrics` prints (metrics::queue_metrics on `backend` at `now`).
Response metrics_text(store::Backend& backend, util::UnixMillis now);

}  // namespace oos::api
