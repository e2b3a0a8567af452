// Runs a fuzz target over files and directories of inputs, once each: the regression run of `make test`
// (a crash, a sanitizer report or an unexpected exception fails it) and the way to replay one finding.
//   fuzz-TARGET PATH...   (a directory: every regular file in it, in name order)
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/fuzz.hpp"

namespace {

std::vector<std::filesystem::path> inputs_of(const std::filesystem::path& path) {
  if (!std::filesystem::is_directory(path)) return {path};
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(path))
    if (entry.is_regular_file()) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
    return 64;
  }
  std::size_t count = 0;
  for (int i = 1; i < argc; ++i) {
    if (!std::filesystem::exists(argv[i])) {
      std::fprintf(stderr, "%s: error: '%s' does not exist\n", argv[0], argv[i]);
      return 66;
    }
    for (const auto& file : inputs_of(argv[i])) {
      std::ifstream in(file, std::ios::binary);
      std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (in.bad() || !in.is_open()) {
        std::fprintf(stderr, "%s: error: cannot read '%s': %s\n", argv[0], file.c_str(), std::strerror(errno));
        return 66;
      }
      LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
      ++count;
    }
  }
  if (count == 0) {
    // An empty corpus would make the regression run pass without running anything.
    std::fprintf(stderr, "%s: error: no input files in the paths given: a corpus needs at least one seed\n", argv[0]);
    return 1;
  }
  std::printf("%zu inputs run without a crash\n", count);
  return 0;
}
