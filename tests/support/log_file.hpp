// A logger writing JSON lines to a file of the test's own, and that file's text: for the tests that check what a
// store or client logged.
#pragma once

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "config.hpp"
#include "log.hpp"

namespace oos::test {

// A logger named "oos-test" at level info, writing JSON lines to `file`.
inline std::unique_ptr<log::Logger> json_file_logger(const std::filesystem::path& file) {
  config::LogSettings settings;
  settings.file = file.string();
  return std::make_unique<log::Logger>("oos-test", config::LogLevel::info, config::LogFormat::json, settings);
}

// What `file` holds ("" when it does not exist).
inline std::string file_text(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace oos::test
