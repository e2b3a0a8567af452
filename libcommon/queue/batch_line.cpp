#include "queue/batch_line.hpp"

#include <fmt/format.h>

#include <climits>
#include <nlohmann/json.hpp>

#include "error.hpp"
#include "util/json.hpp"

namespace oos::queue {
namespace {

using nlohmann::json;

// Whether a JSON integer lies in [min, INT_MAX].
bool fits_int(const json& value, long long min) {
  if (value.is_number_unsigned() && value.get<unsigned long long>() > static_cast<unsigned long long>(INT_MAX))
    return false;
  auto v = value.get<long long>();
  return v >= min && v <= INT_MAX;
}

}  // namespace

NewTask parse_batch_line(std::string_view line, int number, const std::string& queue) {
  return parse_batch_item(line, fmt::format("stdin line {}", number), queue);
}

NewTask parse_batch_item(std::string_view line, const std::string& where, const std::string& queue) {
  // The envelope adds one level to the payload's: deeper lines are refused before parsing (and the dump of
  // "data" below, which recurses once per level).
  if (!util::json_depth_within(line, util::k_max_json_depth + 1))
    throw Error(ExitCode::data_error,
                fmt::format("{}: payload is nested deeper than {} levels", where, util::k_max_json_depth));
  // A NUL byte ends the input for nlohmann's lexer: what follows it would be ignored, not refused.
  auto doc = line.find('\0') == std::string::npos ? json::parse(line, nullptr, false) : json(json::value_t::discarded);
  return batch_item_from_json(doc, where, queue);
}

NewTask batch_item_from_json(const json& doc, const std::string& where, const std::string& queue) {
  if (doc.is_discarded() || !doc.is_object())
    throw Error(ExitCode::data_error, where + ": expected a JSON object such as {\"type\":\"t\",\"data\":{}}");
  NewTask task;
  task.queue = queue;
  auto bad = [&](const std::string& key, const std::string& expected) {
    return Error(ExitCode::data_error, fmt::format("{}: field '{}' must be {}", where, key, expected));
  };
  for (const auto& [key, value] : doc.items()) {
    if (key == "type") {
      if (!value.is_string()) throw bad(key, "a string");
      task.type = value.get<std::string>();
    } else if (key == "data") {
      task.payload = value.dump();
    } else if (key == "priority") {
      if (!value.is_number_integer() || !fits_int(value, INT_MIN)) throw bad(key, "an integer that fits 32 bits");
      task.priority = value.get<int>();
    } else if (key == "delay") {
      auto delay = value.is_string() ? util::parse_duration(value.get<std::string>())
                                     : std::unexpected<std::string>("not a string");
      if (!delay || *delay > k_max_delay)
        throw bad(key, "a duration string such as \"30s\", at most " + util::format_duration(k_max_delay));
      task.delay = *delay;
    } else if (key == "max_attempts") {
      if (!value.is_number_integer() || !fits_int(value, 1)) throw bad(key, "an integer of at least 1");
      task.max_attempts = value.get<int>();
    } else if (key == "unique_key") {
      if (!value.is_string()) throw bad(key, "a string");
      task.unique_key = value.get<std::string>();
    } else {
      throw Error(ExitCode::data_error, fmt::format("{}: unknown field '{}'", where, key));
    }
  }
  if (task.type.empty()) throw Error(ExitCode::data_error, where + ": missing field 'type'");
  if (auto ok = check_name("type", task.type); !ok) throw Error(ExitCode::data_error, where + ": " + ok.error());
  return task;
}

}  // namespace oos::queue
