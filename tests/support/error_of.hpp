// The oos::Error an action throws, for the tests that check its code and message.
#pragma once

#include <boost/test/unit_test.hpp>

#include "error.hpp"

namespace oos::test {

// Runs `action`, which must throw oos::Error, and returns it (fails the test when it throws none).
template <typename Action>
Error error_of(Action action) {
  try {
    action();
  } catch (const Error& e) {
    return e;
  }
  BOOST_FAIL("no oos::Error thrown");
  return Error(ExitCode::ok, "");
}

}  // namespace oos::test
