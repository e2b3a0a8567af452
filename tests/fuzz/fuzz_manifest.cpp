// A backup's manifest as read back from disk.
#include <string>

#include "backup/backup.hpp"
#include "fuzz/fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto text = std::string(oos::fuzz::text_of(data, size));
  if (auto manifest = oos::backup::parse_manifest(text)) (void)oos::backup::to_json(*manifest);
  (void)oos::backup::parse_backup_name(text);
  return 0;
}
