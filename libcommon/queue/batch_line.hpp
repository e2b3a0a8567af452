// One line of `oos-queue enqueue --batch`: a JSON object naming the task, as a producer writes it.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "queue/task.hpp"

namespace oos::queue {

// The task `line` describes, for `queue`: {"type":..,"data":..,"priority":..,"delay":"5s","max_attempts":..,
// "unique_key":..}, "type" required. Throws oos::Error (data_error, 65) naming "stdin line NUMBER" and the
// field for anything else: not an object, an unknown field, a wrong type, a bad name, a delay over
// k_max_delay, nesting deeper than util::k_max_json_depth below "data" (refused before parsing).
NewTask parse_batch_line(std::string_view line, int number, const std::string& queue);

// parse_batch_line() for one object that came another way (an item of oos-api's POST body): the errors name
// `where` ("item 2") instead of a stdin line.
NewTask parse_batch_item(std::string_view text, const std::string& where, const std::string& queue);

// parse_batch_item() for a value already parsed (oos-api's POST body, parsed once): the same checks but depth,
// which the caller bounded on the text.
NewTask batch_item_from_json(const nlohmann::json& doc, const std::string& where, const std::string& queue);

}  // namespace oos::queue
