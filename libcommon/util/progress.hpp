// A progress line on a terminal for work that can take long (docs/reference.md, "Progress on a terminal"): what
// the work reports (ProgressReport, through a ProgressCallback), the line that becomes (format_progress, pure),
// and Progress, which redraws that line in place at most every 200 ms and clears it when the work is done.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "util/time.hpp"

namespace oos::util {

enum class ProgressUnit { bytes, pages, tasks };

// What long work reports: `done` of `total` units of its stage ("copy", "check"; may be empty); no total when the
// work has no measure of its own (an SQLite statement such as integrity_check): then only the time is shown.
struct ProgressReport {
  std::string_view stage;
  std::uint64_t done = 0;
  std::optional<std::uint64_t> total;
  ProgressUnit unit = ProgressUnit::bytes;
};

// A report of `stage` without a measure (only the time is shown).
inline ProgressReport time_only(std::string_view stage) {
  return {.stage = stage, .done = 0, .total = std::nullopt, .unit = ProgressUnit::bytes};
}

// How library code reports progress; an empty one reports nowhere (library code checks before it measures).
using ProgressCallback = std::function<void(const ProgressReport&)>;

// The line for `report` of the work `label`, `elapsed` seconds into its stage:
// "backup copy: 45% 1.2 GiB of 2.6 GiB, 85 MiB/s, ETA 0:17", "integrity check: 0:12 elapsed". The rate and the
// ETA (rounded up to the second) appear once a second has passed with something done (before that they are noise).
std::string format_progress(std::string_view label, const ProgressReport& report, double elapsed);

// A duration as a clock shows it, whole seconds: "0:07", "12:05", "1:02:03" (negative: "0:00").
std::string format_clock(double seconds);

// A progress line that `write` receives as "\r<line>\x1b[K" (back to the line's start, erase what is left of
// the old line). Redrawn at most every k_redraw_interval seconds of `clock`, and at once when the stage changes;
// cleared by finish(). A stage's rate is measured from its start: the first stage's from the construction. With
// Show::no it writes nothing at all.
class Progress {
 public:
  enum class Show { no, yes };
  using Write = std::function<void(std::string_view)>;
  static constexpr double k_redraw_interval = 0.2;

  Progress(std::string label, Show show, const Clock& clock, Write write);
  ~Progress() { finish(); }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Redraws the line for `report` when it is due (the first report draws at once).
  void report(const ProgressReport& report);
  // Erases the line when one is drawn ("\r\x1b[K"), so that what is printed next starts on a clean line.
  void finish();
  // A callback that reports here; empty with Show::no, so that the work does not even measure.
  ProgressCallback callback();

 private:
  std::string m_label;
  Show m_show;
  const Clock& m_clock;
  Write m_write;
  std::optional<std::string> m_stage;  // of the last report; nullopt before the first
  double m_stage_started;              // the work's start for the first stage
  std::optional<double> m_drawn_at;    // when the line was last drawn; nullopt: nothing on the terminal
};

// Show::yes when stderr is a terminal and the output is not for a program (`machine_output`: --json).
Progress::Show progress_on_stderr(bool machine_output);

// Writes `text` to stderr with write(2); errors are ignored (a progress line is never worth failing for).
void write_stderr(std::string_view text);

}  // namespace oos::util
