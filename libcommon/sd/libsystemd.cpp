#include "sd/libsystemd.hpp"

namespace oos::sd {

std::expected<Libsystemd, std::string> Libsystemd::load() {
  auto library = util::SharedLibrary::open("libsystemd.so.0");
  if (!library) return std::unexpected(library.error());
  auto sendv = library->function<JournalSendv>("sd_journal_sendv");
  auto notify = library->function<Notify>("sd_notify");
  if (!sendv || !notify) return std::unexpected("libsystemd.so.0 lacks sd_journal_sendv or sd_notify");
  return Libsystemd(std::move(*library), sendv, notify);
}

}  // namespace oos::sd
