// Crash images for the power-loss suite: the files of a recorded directory (recording_vfs.hpp) as a power cut
// at a given point of the recording leaves them on disk.
//
// The model: what a file's last sync before the cut covered is durable; its writes and truncates after that
// sync are lost (Unsynced::lost, the pessimistic model) or each survives at random, sector by sector
// (Unsynced::some_kept: torn and reordered writes). The directory itself is taken as durable at once: a file
// exists in the image once it was opened and until it was deleted (SQLite syncs the directory after creating
// a WAL or a rollback journal; docs/reliability.md, "Power loss").
#pragma once

#include <cstddef>
#include <map>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "support/recording_vfs.hpp"

namespace oos::test {

// What a power cut does to the writes since a file's last sync.
enum class Unsynced {
  lost,       // all of them are lost
  some_kept,  // each 512-byte sector written, and each truncate, survives or not at random
};

// Walks a recording forward, one crash point after another (each image costs only the operations since the
// previous point, plus a copy of the files).
class CrashImages {
 public:
  // `ops` must outlive this object.
  explicit CrashImages(std::span<const FileOp> ops) : m_ops(ops) {}

  // Moves to the point where the first `position` operations have happened; never backwards (a position
  // before the current one, or past the end, throws std::logic_error).
  void advance_to(std::size_t position);
  std::size_t position() const { return m_position; }

  // The files (name -> content) after a power cut at the current position.
  std::map<std::string, std::string> image(Unsynced unsynced, std::mt19937& random) const;

 private:
  struct File {
    std::string durable;                  // as of its last sync
    std::vector<const FileOp*> unsynced;  // writes and truncates since
  };
  std::span<const FileOp> m_ops;
  std::size_t m_position = 0;
  std::map<std::string, File> m_files;
};

// Applies a write or a truncate to `content`.
void apply_op(const FileOp& op, std::string& content);

}  // namespace oos::test
