#include "support/recording_vfs.hpp"

#include <sqlite3.h>

#include <new>
#include <stdexcept>

namespace oos::test {
namespace {

// What SQLite allocates for each open file (szOsFile bytes): this header, then the wrapped VFS's own file.
struct RecordedFile {
  sqlite3_file base;  // first: SQLite sees this
  RecordingVfs* owner = nullptr;
  std::string name;  // empty: not recorded
  sqlite3_file* real = nullptr;
};

constexpr std::size_t k_header_size = (sizeof(RecordedFile) + 15) / 16 * 16;

RecordedFile* of(sqlite3_file* file) {
  return reinterpret_cast<RecordedFile*>(file);
}
RecordingVfs* owner_of(sqlite3_vfs* vfs) {
  return static_cast<RecordingVfs*>(vfs->pAppData);
}
sqlite3_vfs* previous_of(sqlite3_vfs* vfs) {
  return owner_of(vfs)->previous();
}
const sqlite3_io_methods* real_methods(sqlite3_file* file) {
  return of(file)->real->pMethods;
}

int file_close(sqlite3_file* file) {
  auto* self = of(file);
  int rc = self->real->pMethods ? self->real->pMethods->xClose(self->real) : SQLITE_OK;
  self->~RecordedFile();
  return rc;
}
int file_read(sqlite3_file* file, void* buffer, int amount, sqlite3_int64 offset) {
  return real_methods(file)->xRead(of(file)->real, buffer, amount, offset);
}
int file_write(sqlite3_file* file, const void* buffer, int amount, sqlite3_int64 offset) {
  auto* self = of(file);
  int rc = real_methods(file)->xWrite(self->real, buffer, amount, offset);
  if (rc == SQLITE_OK && !self->name.empty())
    self->owner->record({FileOp::Kind::write, self->name, offset,
                         std::string(static_cast<const char*>(buffer), static_cast<std::size_t>(amount))});
  return rc;
}
int file_truncate(sqlite3_file* file, sqlite3_int64 size) {
  auto* self = of(file);
  int rc = real_methods(file)->xTruncate(self->real, size);
  if (rc == SQLITE_OK && !self->name.empty()) self->owner->record({FileOp::Kind::truncate, self->name, size, {}});
  return rc;
}
// Recorded, not passed on: see RecordingVfs.
int file_sync(sqlite3_file* file, int flags) {
  auto* self = of(file);
  if (self->name.empty()) return real_methods(file)->xSync(self->real, flags);
  self->owner->record({FileOp::Kind::sync, self->name, 0, {}});
  return SQLITE_OK;
}
int file_size(sqlite3_file* file, sqlite3_int64* size) {
  return real_methods(file)->xFileSize(of(file)->real, size);
}
int file_lock(sqlite3_file* file, int level) {
  return real_methods(file)->xLock(of(file)->real, level);
}
int file_unlock(sqlite3_file* file, int level) {
  return real_methods(file)->xUnlock(of(file)->real, level);
}
int file_check_reserved_lock(sqlite3_file* file, int* out) {
  return real_methods(file)->xCheckReservedLock(of(file)->real, out);
}
int file_control(sqlite3_file* file, int op, void* arg) {
  return real_methods(file)->xFileControl(of(file)->real, op, arg);
}
int file_sector_size(sqlite3_file* file) {
  return real_methods(file)->xSectorSize(of(file)->real);
}
int file_device_characteristics(sqlite3_file* file) {
  return real_methods(file)->xDeviceCharacteristics(of(file)->real);
}
int file_shm_map(sqlite3_file* file, int region, int size, int extend, void volatile** out) {
  return real_methods(file)->xShmMap(of(file)->real, region, size, extend, out);
}
int file_shm_lock(sqlite3_file* file, int offset, int n, int flags) {
  return real_methods(file)->xShmLock(of(file)->real, offset, n, flags);
}
void file_shm_barrier(sqlite3_file* file) {
  real_methods(file)->xShmBarrier(of(file)->real);
}
int file_shm_unmap(sqlite3_file* file, int remove) {
  return real_methods(file)->xShmUnmap(of(file)->real, remove);
}
int file_fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  return real_methods(file)->xFetch(of(file)->real, offset, amount, out);
}
int file_unfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  return real_methods(file)->xUnfetch(of(file)->real, offset, page);
}

// Version 3 like the unix VFS's files: shared memory (WAL) and memory-mapped reads pass through.
const sqlite3_io_methods k_methods{3,
                                   file_close,
                                   file_read,
                                   file_write,
                                   file_truncate,
                                   file_sync,
                                   file_size,
                                   file_lock,
                                   file_unlock,
                                   file_check_reserved_lock,
                                   file_control,
                                   file_sector_size,
                                   file_device_characteristics,
                                   file_shm_map,
                                   file_shm_lock,
                                   file_shm_barrier,
                                   file_shm_unmap,
                                   file_fetch,
                                   file_unfetch};

int vfs_open(sqlite3_vfs* vfs, const char* path, sqlite3_file* file, int flags, int* out_flags) {
  auto* self = new (file) RecordedFile{};
  self->owner = owner_of(vfs);
  self->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + k_header_size);
  self->real->pMethods = nullptr;
  int rc = previous_of(vfs)->xOpen(previous_of(vfs), path, self->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    if (self->real->pMethods) self->real->pMethods->xClose(self->real);
    self->~RecordedFile();
    file->pMethods = nullptr;  // SQLite does not close a file whose open failed
    return rc;
  }
  self->name = self->owner->recorded_name(path);
  if (!self->name.empty()) self->owner->record({FileOp::Kind::open, self->name, 0, {}});
  file->pMethods = &k_methods;
  return rc;
}
int vfs_delete(sqlite3_vfs* vfs, const char* path, int sync_dir) {
  int rc = previous_of(vfs)->xDelete(previous_of(vfs), path, sync_dir);
  if (auto name = owner_of(vfs)->recorded_name(path); rc == SQLITE_OK && !name.empty())
    owner_of(vfs)->record({FileOp::Kind::remove, name, 0, {}});
  return rc;
}
int vfs_access(sqlite3_vfs* vfs, const char* path, int flags, int* out) {
  return previous_of(vfs)->xAccess(previous_of(vfs), path, flags, out);
}
int vfs_full_pathname(sqlite3_vfs* vfs, const char* path, int size, char* out) {
  return previous_of(vfs)->xFullPathname(previous_of(vfs), path, size, out);
}
void* vfs_dl_open(sqlite3_vfs* vfs, const char* path) {
  return previous_of(vfs)->xDlOpen(previous_of(vfs), path);
}
void vfs_dl_error(sqlite3_vfs* vfs, int size, char* out) {
  previous_of(vfs)->xDlError(previous_of(vfs), size, out);
}
void (*vfs_dl_sym(sqlite3_vfs* vfs, void* handle, const char* symbol))(void) {
  return previous_of(vfs)->xDlSym(previous_of(vfs), handle, symbol);
}
void vfs_dl_close(sqlite3_vfs* vfs, void* handle) {
  previous_of(vfs)->xDlClose(previous_of(vfs), handle);
}
int vfs_randomness(sqlite3_vfs* vfs, int size, char* out) {
  return previous_of(vfs)->xRandomness(previous_of(vfs), size, out);
}
int vfs_sleep(sqlite3_vfs* vfs, int micros) {
  return previous_of(vfs)->xSleep(previous_of(vfs), micros);
}
int vfs_current_time(sqlite3_vfs* vfs, double* out) {
  return previous_of(vfs)->xCurrentTime(previous_of(vfs), out);
}
int vfs_get_last_error(sqlite3_vfs* vfs, int size, char* out) {
  return previous_of(vfs)->xGetLastError(previous_of(vfs), size, out);
}
int vfs_current_time_int64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  return previous_of(vfs)->xCurrentTimeInt64(previous_of(vfs), out);
}

}  // namespace

RecordingVfs::RecordingVfs(std::filesystem::path dir)
    : m_prefix((std::filesystem::weakly_canonical(dir) / "").string()),
      m_previous(sqlite3_vfs_find(nullptr)),
      m_vfs(std::make_unique<sqlite3_vfs>()) {
  if (!m_previous || m_previous->iVersion < 2) throw std::runtime_error("no default SQLite VFS to wrap");
  *m_vfs = sqlite3_vfs{};
  m_vfs->iVersion = 2;
  m_vfs->szOsFile = static_cast<int>(k_header_size) + m_previous->szOsFile;
  m_vfs->mxPathname = m_previous->mxPathname;
  m_vfs->zName = "oos-recording";
  m_vfs->pAppData = this;
  m_vfs->xOpen = vfs_open;
  m_vfs->xDelete = vfs_delete;
  m_vfs->xAccess = vfs_access;
  m_vfs->xFullPathname = vfs_full_pathname;
  m_vfs->xDlOpen = vfs_dl_open;
  m_vfs->xDlError = vfs_dl_error;
  m_vfs->xDlSym = vfs_dl_sym;
  m_vfs->xDlClose = vfs_dl_close;
  m_vfs->xRandomness = vfs_randomness;
  m_vfs->xSleep = vfs_sleep;
  m_vfs->xCurrentTime = vfs_current_time;
  m_vfs->xGetLastError = vfs_get_last_error;
  m_vfs->xCurrentTimeInt64 = vfs_current_time_int64;
  if (sqlite3_vfs_register(m_vfs.get(), 1) != SQLITE_OK) throw std::runtime_error("cannot register the recording VFS");
}

RecordingVfs::~RecordingVfs() {
  sqlite3_vfs_register(m_previous, 1);
  sqlite3_vfs_unregister(m_vfs.get());
}

std::size_t RecordingVfs::position() const {
  std::lock_guard lock(m_mutex);
  return m_ops.size();
}

std::vector<FileOp> RecordingVfs::ops() const {
  std::lock_guard lock(m_mutex);
  return m_ops;
}

std::string RecordingVfs::recorded_name(const char* path) const {
  if (!path) return {};
  std::string text(path);
  if (!text.starts_with(m_prefix)) return {};
  auto name = text.substr(m_prefix.size());
  return name.find('/') == std::string::npos ? name : std::string();
}

void RecordingVfs::record(FileOp op) {
  std::lock_guard lock(m_mutex);
  m_ops.push_back(std::move(op));
}

}  // namespace oos::test
