// Exit codes of docs/reference.md section 3 and the one exception type that carries them to run_main().
#pragma once

#include <stdexcept>
#include <string>

namespace oos {

// Process exit codes shared by every tool (docs/reference.md section 3).
enum class ExitCode : int {
  ok = 0,
  problem_reported = 1,  // ran, found a problem and reports it
  problem_unfixed = 2,   // found a problem it could not fix
  unknown = 3,           // oos-health: UNKNOWN
  usage = 64,            // bad flag, missing argument
  data_error = 65,       // malformed input data
  no_input = 66,         // no such task, queue or file
  unavailable = 69,      // breaker open, nothing to restore, database too new
  software = 70,         // internal error (a bug)
  io_error = 74,         // disk full, permission denied, corrupt database
  temp_fail = 75,        // busy past the timeout: try again
  config = 78,           // bad configuration
};

// A failure that ends the command: a one-line message naming the object and the cause, and the exit
// code it maps to. Thrown at layer boundaries, caught once by run_main().
class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& message) : std::runtime_error(message), m_code(code) {}
  ExitCode code() const noexcept { return m_code; }

 private:
  ExitCode m_code;
};

// A failure of the shared database that the same request may not meet again (75): the connection to
// PostgreSQL was lost (the server restarted), a serialization failure or deadlock. A command exits 75 with it;
// the worker logs it and tries the step again (worker/runner.hpp).
class TransientDatabaseError : public Error {
 public:
  explicit TransientDatabaseError(const std::string& message) : Error(ExitCode::temp_fail, message) {}
};

}  // namespace oos
