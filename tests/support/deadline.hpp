// Running a piece of test code in a forked child with a deadline, so that a bug that hangs (a deadlock, an
// endless loop) fails its test instead of hanging the whole suite.
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace oos::test {

// Runs `body` in a child process killed after `seconds`; returns the string it produced, or nullopt when
// it did not finish in time (or crashed).
std::optional<std::string> run_with_deadline(const std::function<std::string()>& body, unsigned seconds);

}  // namespace oos::test
