// Which backups to keep (docs/reference.md section 8.4, oos-backup prune) as a pure function of their times.
#pragma once

#include <span>
#include <vector>

#include "util/time.hpp"

namespace oos::policy {

struct RetentionPolicy {
  int keep_last = 8;    // the newest N backups
  int keep_daily = 7;   // the newest backup of each of the N most recent UTC days that have one
  int keep_weekly = 4;  // the newest backup of each of the N most recent ISO weeks (from Monday) that have one
};

// keep[i] tells whether the backup created at created[i] (Unix ms) is kept; the order of `created` does
// not matter. A backup kept by any rule is kept; with every count 0 nothing is kept.
std::vector<bool> backups_to_keep(std::span<const util::UnixMillis> created, const RetentionPolicy& policy);

}  // namespace oos::policy
