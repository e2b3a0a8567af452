// libsystemd, loaded at run time by the runs that talk to systemd (journal logging, sd_notify), so that a
// tool started from a shell does not pay for loading it (about 2 ms of start-up on these machines).
#pragma once

#include <expected>
#include <string>

#include "util/shared_library.hpp"

struct iovec;

namespace oos::sd {

class Libsystemd {
 public:
  // Loads libsystemd.so.0 and resolves the functions OOS uses.
  [[nodiscard]] static std::expected<Libsystemd, std::string> load();

  // sd_journal_sendv(3): one journal entry of FIELD=value items.
  int journal_sendv(const iovec* items, int count) const { return m_journal_sendv(items, count); }
  // sd_notify(3) with unset_environment = 0.
  int notify(const char* state) const { return m_notify(0, state); }

 private:
  using JournalSendv = int (*)(const iovec*, int);
  using Notify = int (*)(int, const char*);

  Libsystemd(util::SharedLibrary library, JournalSendv sendv, Notify notify_fn)
      : m_library(std::move(library)), m_journal_sendv(sendv), m_notify(notify_fn) {}

  util::SharedLibrary m_library;
  JournalSendv m_journal_sendv;
  Notify m_notify;
};

}  // namespace oos::sd
