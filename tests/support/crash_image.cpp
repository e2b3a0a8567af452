#include "support/crash_image.hpp"

#include <algorithm>
#include <stdexcept>

namespace oos::test {
namespace {

constexpr std::int64_t k_sector = 512;

// The part of `write` that falls in the sector starting at `sector`, as a write of its own.
FileOp sector_of(const FileOp& write, std::int64_t sector) {
  auto begin = std::max(sector, write.offset);
  auto end = std::min(sector + k_sector, write.offset + static_cast<std::int64_t>(write.bytes.size()));
  return {FileOp::Kind::write, write.file, begin,
          write.bytes.substr(static_cast<std::size_t>(begin - write.offset), static_cast<std::size_t>(end - begin))};
}

// Applies each sector of `op` (or the truncate) with probability 1/2.
void apply_some(const FileOp& op, std::string& content, std::mt19937& random) {
  std::bernoulli_distribution kept(0.5);
  if (op.kind != FileOp::Kind::write) {
    if (kept(random)) apply_op(op, content);
    return;
  }
  auto end = op.offset + static_cast<std::int64_t>(op.bytes.size());
  for (auto sector = op.offset / k_sector * k_sector; sector < end; sector += k_sector)
    if (kept(random)) apply_op(sector_of(op, sector), content);
}

}  // namespace

void apply_op(const FileOp& op, std::string& content) {
  if (op.kind == FileOp::Kind::truncate) {
    content.resize(static_cast<std::size_t>(op.offset));
  } else if (op.kind == FileOp::Kind::write) {
    auto end = static_cast<std::size_t>(op.offset) + op.bytes.size();
    if (content.size() < end) content.resize(end);
    std::copy(op.bytes.begin(), op.bytes.end(), content.begin() + op.offset);
  }
}

void CrashImages::advance_to(std::size_t position) {
  if (position < m_position || position > m_ops.size()) throw std::logic_error("crash point out of order");
  for (; m_position < position; ++m_position) {
    const auto& op = m_ops[m_position];
    switch (op.kind) {
      case FileOp::Kind::open: m_files.try_emplace(op.file); break;
      case FileOp::Kind::remove: m_files.erase(op.file); break;
      case FileOp::Kind::write:
      case FileOp::Kind::truncate: m_files[op.file].unsynced.push_back(&op); break;
      case FileOp::Kind::sync: {
        auto& file = m_files[op.file];
        for (const auto* pending : file.unsynced) apply_op(*pending, file.durable);
        file.unsynced.clear();
        break;
      }
    }
  }
}

std::map<std::string, std::string> CrashImages::image(Unsynced unsynced, std::mt19937& random) const {
  std::map<std::string, std::string> files;
  for (const auto& [name, file] : m_files) {
    auto& content = files[name] = file.durable;
    if (unsynced == Unsynced::some_kept)
      for (const auto* pending : file.unsynced) apply_some(*pending, content, random);
  }
  return files;
}

}  // namespace oos::test
