#include "app/cli.hpp"

#include <charconv>
#include <cstdint>
#include <iostream>
#include <string_view>

#include "app/completion.hpp"
#include "error.hpp"
#include "queue/task.hpp"

#ifndef OOS_VERSION
#define OOS_VERSION "0.0.0"
#endif

namespace oos::app {

const CLI::Validator k_at_least_one(
    [](std::string& text) -> std::string {
      long long value = 0;
      try {
        value = std::stoll(text);
      } catch (const std::exception&) {
        return "expected a whole number, got '" + text + "'";
      }
      return value >= 1 ? std::string() : "must be at least 1, got " + text;
    },
    "N>=1");

const CLI::Validator k_name(
    [](std::string& text) -> std::string {
      auto ok = queue::check_name("", text);
      return ok ? std::string() : ok.error();
    },
    "NAME");

const CLI::Validator k_task_id(
    [](std::string& text) -> std::string {
      std::int64_t value = 0;
      auto digits = std::string_view(text).substr(text.starts_with('+') ? 1 : 0);
      bool all_digits = !digits.empty() && digits.find_first_not_of("0123456789") == std::string_view::npos;
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
      (void)end;
      if (all_digits && ec == std::errc::result_out_of_range)
        return "task id '" + queue::cut_for_message(text) + "' is out of range";
      return {};
    },
    "ID");

void add_common_options(CLI::App& app, CommonOptions& options) {
  app.add_option("--config", options.config_path, "Configuration file (default: $OOS_CONFIG, /etc/oos/oos.toml)")
      ->type_name("FILE");
  app.add_option("--state-dir", options.state_dir, "State directory holding oos.db (default: /var/lib/oos)")
      ->type_name("DIR");
  app.add_option("--log-level", options.log_level, "debug, info, warn, error or critical")->type_name("LEVEL");
  app.set_version_flag("--version", std::string(app.get_name()) + " " + OOS_VERSION);
}

CLI::Option* add_dry_run_flag(CLI::App& app, DryRun& dry_run, const std::string& description) {
  return app.add_flag_callback(
      "--dry-run", [&dry_run] { dry_run = DryRun::yes; }, description);
}

std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
  if (argc == 2 && argv[1] == k_completion_spec_flag) {
    std::cout << completion_spec(app);
    return 0;
  }
  try {
    app.parse(argc, argv);
    return std::nullopt;
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << app.get_name() << ": error: " << e.what() << " (see --help)\n";
    return static_cast<int>(ExitCode::usage);
  }
}

}  // namespace oos::app
