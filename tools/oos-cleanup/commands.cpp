#include "commands.hpp"

#include <iostream>
#include <nlohmann/json.hpp>

#include "app/job.hpp"
#include "app/output.hpp"
#include "cleanup/run.hpp"
#include "util/process_usage.hpp"

namespace oos::tools::cleanup {
namespace {

using nlohmann::json;

json usage_json(const std::vector<oos::cleanup::DiskUsage>& usages) {
  json out = json::array();
  for (const auto& u : usages)
    out.push_back(
        {{"path", u.path.string()}, {"used_percent", u.used_percent}, {"available_bytes", u.available_bytes}});
  return out;
}

void add_metrics(const oos::cleanup::RunReport& r, metrics::Exposition& metrics) {
  for (const auto& usage : r.after)
    metrics.add("oos_cleanup_disk_used_ratio", metrics::Type::gauge, "Used fraction of the filesystem",
                usage.used_percent / 100, {{"path", usage.path.string()}});
  metrics
      .add("oos_cleanup_last_deleted_files", metrics::Type::gauge, "Files the last run deleted by the rules",
           static_cast<double>(r.files))
      .add("oos_cleanup_last_deleted_bytes", metrics::Type::gauge, "Bytes the last run deleted by the rules",
           static_cast<double>(r.bytes))
      .add("oos_cleanup_last_purged_tasks", metrics::Type::gauge, "Tasks the last run purged by retention",
           static_cast<double>(r.purged.dead), {{"state", "dead"}})
      .add("oos_cleanup_last_purged_tasks", metrics::Type::gauge, "Tasks the last run purged by retention",
           static_cast<double>(r.purged.succeeded), {{"state", "succeeded"}});
}

// This host's name when the database is shared (PostgreSQL): its cleanup events are about it. Empty on SQLite.
std::string shared_host(store::Backend& backend) {
  return backend.sqlite() ? std::string() : util::host_name();
}

int clean(const Command& c, app::Context& context, store::Backend& backend, metrics::Exposition& metrics) {
  const auto host = shared_host(backend);
  auto report = oos::cleanup::run({backend, context.config, context.clock, *context.logger, context.state_dir,
                                   context.backup_dir(), host.empty() ? "disk" : app::host_object(host)},
                                  c.force ? oos::cleanup::Force::yes : oos::cleanup::Force::no, c.dry_run);
  add_metrics(report, metrics);
  if (c.json)
    std::cout << app::dump(json{{"dry_run", c.dry_run == DryRun::yes},
                                {"rules_applied", report.rules_applied},
                                {"before", usage_json(report.before)},
                                {"after", usage_json(report.after)},
                                {"files", report.files},
                                {"bytes", report.bytes},
                                {"failed", report.failed},
                                {"dead_tasks", report.purged.dead},
                                {"succeeded_tasks", report.purged.succeeded},
                                {"silent_workers", report.silent_workers},
                                {"stale_textfiles", report.stale_textfiles},
                                {"log", report.log.string()}})
              << '\n';
  else
    std::cout << report.summary << '\n';
  return report.failed > 0 ? 1 : 0;
}

}  // namespace

int run(const Command& c, app::Context& context, store::Backend& backend) {
  if (c.dry_run == DryRun::yes) {  // not a run: no event, no metrics
    metrics::Exposition unused;
    return clean(c, context, backend, unused);
  }
  return app::run_job(context, backend.events(), {"cleanup", "cleanup.run", {0}, true, shared_host(backend)},
                      [&](metrics::Exposition& metrics) { return clean(c, context, backend, metrics); });
}

}  // namespace oos::tools::cleanup
