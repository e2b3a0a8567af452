#include "store/sample_store.hpp"

namespace oos::store {

std::vector<Sample> SampleStore::history(util::UnixMillis from) {
  std::vector<Sample> out;
  if (auto anchor = latest_before(from)) out.push_back(*anchor);
  // Other samples taken at exactly `from` come before the anchor (by id), so what follows it is strictly later.
  auto later = since(from + 1);
  out.insert(out.end(), later.begin(), later.end());
  return out;
}

}  // namespace oos::store
