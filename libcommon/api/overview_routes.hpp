// The dashboard's read endpoints (docs/reference.md section 8.10): GET /api/v1/workers, GET /api/v1/activity
// [?queue=NAME] and GET /api/v1/search/quota, each answering with its document of app/output.hpp.
#pragma once

#include <optional>

#include "api/message.hpp"
#include "api/router.hpp"

namespace oos::api {

// The reply when `request` is one of the overview paths (405 with Allow for a method other than GET or HEAD);
// nullopt for any other path. Throws oos::Error as the other routes do (an unknown queue is 66).
std::optional<Response> overview_route(const Request& request, const Sources& sources);

}  // namespace oos::api
