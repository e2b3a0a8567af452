// A recording of one directory for the power-loss suite's backup part: every fsync(2)/fdatasync(2) of the
// directory or of a file in it, and every rename(2) into or out of it, by any code of this process (our file
// helpers, std::filesystem, SQLite). This test binary defines fsync, fdatasync and rename itself: they note
// the call while a DirRecorder lives and always do the real call (found with dlsym(RTLD_NEXT)).
//
// The model (docs/reliability.md, "Power loss"): a file's content is durable as of its last sync (a file never
// synced is empty); the directory's entries are durable as of its last sync, and the changes since then
// survive in order, so any state the directory passed through since its last sync may be what is found.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace oos::test {

// A moment of the recording, with the directory's entries as they were then.
struct DirEvent {
  enum class Kind { start, sync_file, sync_dir, rename };
  Kind kind = Kind::start;
  std::string what;                               // the file synced, or "from -> to"
  std::map<std::string, std::uint64_t> entries;   // name -> inode, after the event
  std::map<std::uint64_t, std::string> contents;  // inode -> content: every file at start, the one synced
};

// While it lives, the recorder of `dir` (one at a time per process). The start event holds every file
// already in `dir`, taken as durable.
class DirRecorder {
 public:
  explicit DirRecorder(std::filesystem::path dir);
  ~DirRecorder();
  DirRecorder(const DirRecorder&) = delete;
  DirRecorder& operator=(const DirRecorder&) = delete;

  std::vector<DirEvent> events() const;

  // For the interposed calls: after a successful sync of `fd` and rename of `from` to `to`.
  void synced(int fd);
  void renamed(const char* from, const char* to);

 private:
  void add(DirEvent::Kind kind, std::string what, std::optional<std::uint64_t> synced_inode);
  std::filesystem::path m_dir;  // canonical
  mutable std::mutex m_mutex;
  std::vector<DirEvent> m_events;
};

// The directory (name -> content) after a power cut following event `crash`, with its entries as they were
// at event `entries`. A power cut may find the entries of any event from the last directory sync up to
// `crash` and, since the entry changes just before an event have happened by then, the next event's too:
// `entries` in [last sync or start at or before `crash`, crash + 1]. Each file's content is that of its
// last sync at or before `crash`, or empty.
std::map<std::string, std::string> dir_image(const std::vector<DirEvent>& events, std::size_t entries,
                                             std::size_t crash);

// The first event whose entries a power cut after `crash` may find (the last directory sync or the start).
std::size_t first_possible_entries(const std::vector<DirEvent>& events, std::size_t crash);

}  // namespace oos::test
