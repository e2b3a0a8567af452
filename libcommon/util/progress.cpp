#include "util/progress.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>

namespace oos::util {
namespace {

// Before a second has passed, a rate (and the ETA from it) says more about start-up than about the work.
constexpr double k_min_rate_seconds = 1.0;

// "512 B", "1.2 GiB", "85 MiB": one decimal below 10, none above.
std::string iec(double bytes) {
  constexpr std::array<const char*, 5> k_units{"KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024) return fmt::format("{:.0f} B", bytes);
  std::size_t unit = 0;
  bytes /= 1024;
  while (bytes >= 1024 && unit + 1 < k_units.size()) {
    bytes /= 1024;
    ++unit;
  }
  return fmt::format("{:.{}f} {}", bytes, bytes < 10 ? 1 : 0, k_units[unit]);
}

std::string amount(double value, ProgressUnit unit) {
  switch (unit) {
    case ProgressUnit::bytes: return iec(value);
    case ProgressUnit::pages: return fmt::format("{:.0f} pages", value);
    case ProgressUnit::tasks: return fmt::format("{:.0f} tasks", value);
  }
  return fmt::format("{:.0f}", value);
}

// "1.2 GiB of 2.6 GiB"; "1200 of 5000 tasks" (the unit once).
std::string done_of_total(std::uint64_t done, std::uint64_t total, ProgressUnit unit) {
  if (unit == ProgressUnit::bytes) return iec(static_cast<double>(done)) + " of " + iec(static_cast<double>(total));
  return fmt::format("{} of {}", done, amount(static_cast<double>(total), unit));
}

}  // namespace

std::string format_clock(double seconds) {
  auto whole = static_cast<std::uint64_t>(std::max(0.0, std::floor(seconds)));
  if (whole >= 3600) return fmt::format("{}:{:02}:{:02}", whole / 3600, whole / 60 % 60, whole % 60);
  return fmt::format("{}:{:02}", whole / 60, whole % 60);
}

std::string format_progress(std::string_view label, const ProgressReport& report, double elapsed) {
  std::string line(label);
  if (!report.stage.empty()) line += fmt::format(" {}", report.stage);
  line += ": ";
  if (!report.total) return line + format_clock(elapsed) + " elapsed";
  auto total = *report.total;
  auto done = std::min(report.done, total);
  auto percent = total == 0 ? 100 : done * 100 / total;
  line += fmt::format("{}% {}", percent, done_of_total(done, total, report.unit));
  if (elapsed < k_min_rate_seconds || done == 0) return line;
  double rate = static_cast<double>(done) / elapsed;
  return line + fmt::format(", {}/s, ETA {}", amount(rate, report.unit),
                            format_clock(std::ceil(static_cast<double>(total - done) / rate)));
}

Progress::Progress(std::string label, Show show, const Clock& clock, Write write)
    : m_label(std::move(label)),
      m_show(show),
      m_clock(clock),
      m_write(std::move(write)),
      m_stage_started(clock.monotonic()) {}

void Progress::report(const ProgressReport& report) {
  if (m_show == Show::no) return;
  double now = m_clock.monotonic();
  if (!m_stage || *m_stage != report.stage) {
    if (m_stage) m_stage_started = now;  // the first stage started with the work
    m_stage = std::string(report.stage);
  } else if (m_drawn_at && now - *m_drawn_at < k_redraw_interval) {
    return;
  }
  m_write("\r" + format_progress(m_label, report, now - m_stage_started) + "\x1b[K");
  m_drawn_at = now;
}

void Progress::finish() {
  if (!m_drawn_at) return;
  m_write("\r\x1b[K");
  m_drawn_at.reset();
}

ProgressCallback Progress::callback() {
  if (m_show == Show::no) return {};
  return [this](const ProgressReport& r) { report(r); };
}

Progress::Show progress_on_stderr(bool machine_output) {
  return !machine_output && ::isatty(STDERR_FILENO) == 1 ? Progress::Show::yes : Progress::Show::no;
}

void write_stderr(std::string_view text) {
  while (!text.empty()) {
    auto n = ::write(STDERR_FILENO, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace oos::util
