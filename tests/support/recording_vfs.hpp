// A recording SQLite VFS for the power-loss suite: it wraps the default (unix) VFS and notes, in one global
// sequence, every open, write, truncate, sync and delete of the files SQLite keeps in one directory (the
// database, its -wal and -journal). The -shm file is not seen: SQLite maps it as memory, and it is rebuilt from
// the WAL after a power cut. crash_image.hpp builds the disk as a power cut at any point of the sequence
// leaves it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

struct sqlite3_vfs;

namespace oos::test {

// One operation on a file of the recorded directory.
struct FileOp {
  enum class Kind { open, write, truncate, sync, remove };
  Kind kind = Kind::open;
  std::string file;         // its name in the directory: oos.db, oos.db-wal, oos.db-journal
  std::int64_t offset = 0;  // write: where the bytes go; truncate: the new size
  std::string bytes;        // write: what was written
};

// While it lives, the default VFS of this process (every connection opened without a VFS name, as
// db::Database opens them, goes through it); the destructor makes the previous default the default again.
// It records the files directly in `dir`; other files (elsewhere, SQLite's temporary files) pass through
// unrecorded. A sync is recorded but not passed on: the recorded run does not wait for the disk, since what
// the tests check is the images built from the record. One at a time per process.
class RecordingVfs {
 public:
  explicit RecordingVfs(std::filesystem::path dir);
  ~RecordingVfs();
  RecordingVfs(const RecordingVfs&) = delete;
  RecordingVfs& operator=(const RecordingVfs&) = delete;

  // How many operations were recorded so far: a position in the sequence (the operations [0, position)
  // happened before it).
  std::size_t position() const;
  // The operations recorded so far, in order.
  std::vector<FileOp> ops() const;

  // For the VFS callbacks: the name of `path` in the recorded directory, or empty when it is elsewhere.
  std::string recorded_name(const char* path) const;
  void record(FileOp op);
  // The VFS it wraps.
  sqlite3_vfs* previous() const { return m_previous; }

 private:
  std::string m_prefix;  // "<dir>/"
  sqlite3_vfs* m_previous = nullptr;
  std::unique_ptr<sqlite3_vfs> m_vfs;
  mutable std::mutex m_mutex;
  std::vector<FileOp> m_ops;
};

}  // namespace oos::test
