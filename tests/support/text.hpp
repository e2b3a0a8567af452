// Text helpers the tests share.
#pragma once

#include <sstream>
#include <string>
#include <vector>

namespace oos::test {

// The lines of `text`, without their '\n' (no empty last line for a text that ends with one).
inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace oos::test
