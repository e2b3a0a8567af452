#include "support/recording_dir.hpp"

#include <dlfcn.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace oos::test {
namespace {

namespace fs = std::filesystem;

std::atomic<DirRecorder*> g_active{nullptr};

std::optional<std::uint64_t> inode_of(const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return std::nullopt;
  return static_cast<std::uint64_t>(st.st_ino);
}

std::map<std::string, std::uint64_t> entries_of(const fs::path& dir) {
  std::map<std::string, std::uint64_t> entries;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (auto inode = inode_of(entry.path())) entries[entry.path().filename().string()] = *inode;
  return entries;
}

std::string content_of(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

fs::path canonical_parent(const char* path) {
  std::error_code ec;
  auto full = fs::weakly_canonical(fs::absolute(path), ec);
  return full.parent_path();
}

template <typename Function>
Function real(const char* name) {
  auto* symbol = ::dlsym(RTLD_NEXT, name);
  if (!symbol) std::abort();  // no libc below us: nothing sensible to do
  return reinterpret_cast<Function>(symbol);
}

}  // namespace

DirRecorder::DirRecorder(fs::path dir) : m_dir(fs::canonical(dir)) {
  DirEvent start;
  start.entries = entries_of(m_dir);
  for (const auto& [name, inode] : start.entries) start.contents[inode] = content_of(m_dir / name);
  m_events.push_back(std::move(start));
  DirRecorder* none = nullptr;
  if (!g_active.compare_exchange_strong(none, this)) throw std::logic_error("a DirRecorder is already recording");
}

DirRecorder::~DirRecorder() {
  g_active.store(nullptr);
}

std::vector<DirEvent> DirRecorder::events() const {
  std::lock_guard lock(m_mutex);
  return m_events;
}

void DirRecorder::synced(int fd) {
  std::error_code ec;
  auto path = fs::read_symlink("/proc/self/fd/" + std::to_string(fd), ec);
  if (ec) return;
  if (path == m_dir) {
    add(DirEvent::Kind::sync_dir, ".", std::nullopt);
  } else if (path.parent_path() == m_dir) {
    struct stat st {};
    if (::fstat(fd, &st) == 0) add(DirEvent::Kind::sync_file, path.filename().string(), st.st_ino);
  }
}

void DirRecorder::renamed(const char* from, const char* to) {
  if (canonical_parent(from) == m_dir || canonical_parent(to) == m_dir)
    add(DirEvent::Kind::rename, fs::path(from).filename().string() + " -> " + fs::path(to).filename().string(),
        std::nullopt);
}

void DirRecorder::add(DirEvent::Kind kind, std::string what, std::optional<std::uint64_t> synced_inode) {
  DirEvent event{kind, std::move(what), entries_of(m_dir), {}};
  if (synced_inode)
    for (const auto& [name, inode] : event.entries)
      if (inode == *synced_inode) event.contents[inode] = content_of(m_dir / name);
  std::lock_guard lock(m_mutex);
  m_events.push_back(std::move(event));
}

std::size_t first_possible_entries(const std::vector<DirEvent>& events, std::size_t crash) {
  for (std::size_t i = crash; i > 0; --i)
    if (events[i].kind == DirEvent::Kind::sync_dir) return i;
  return 0;
}

std::map<std::string, std::string> dir_image(const std::vector<DirEvent>& events, std::size_t entries,
                                             std::size_t crash) {
  std::map<std::string, std::string> files;
  for (const auto& [name, inode] : events.at(entries).entries) {
    auto& content = files[name];
    for (std::size_t i = 0; i <= crash; ++i)
      if (auto found = events[i].contents.find(inode); found != events[i].contents.end()) content = found->second;
  }
  return files;
}

}  // namespace oos::test

// The interposed calls: this definition is the one the test binary links (liboos, SQLite and libstdc++ are
// linked statically), and it calls the C library's.
extern "C" {

int fsync(int fd) {
  static auto* real_fsync = oos::test::real<int (*)(int)>("fsync");
  int rc = real_fsync(fd);
  if (auto* recorder = oos::test::g_active.load(); rc == 0 && recorder) recorder->synced(fd);
  return rc;
}

int fdatasync(int fd) {
  static auto* real_fdatasync = oos::test::real<int (*)(int)>("fdatasync");
  int rc = real_fdatasync(fd);
  if (auto* recorder = oos::test::g_active.load(); rc == 0 && recorder) recorder->synced(fd);
  return rc;
}

int rename(const char* from, const char* to) noexcept {
  static auto* real_rename = oos::test::real<int (*)(const char*, const char*)>("rename");
  int rc = real_rename(from, to);
  if (auto* recorder = oos::test::g_active.load(); rc == 0 && recorder) recorder->renamed(from, to);
  return rc;
}
}
