// oos-cleanup's record of what it did: one JSON line per action in <dir>/cleanup-YYYY-MM-DD.jsonl (the day
// of the run, UTC), appended to, each with its time and whether the run was a dry run.
#pragma once

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "dry_run.hpp"
#include "util/time.hpp"

namespace oos::cleanup {

class ActionLog {
 public:
  // Creates `dir` if needed and opens today's file for appending. Throws oos::Error (74) naming the file.
  ActionLog(const std::filesystem::path& dir, util::UnixMillis now, DryRun dry_run);

  // Appends `entry` with "time" (now) and "dry_run" added, and flushes it.
  void write(nlohmann::json entry, util::UnixMillis now);

  const std::filesystem::path& path() const { return m_path; }

 private:
  DryRun m_dry_run;
  std::filesystem::path m_path;
  std::ofstream m_out;
};

}  // namespace oos::cleanup
