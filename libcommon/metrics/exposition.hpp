// Prometheus text exposition (version 0.0.4), and the textfile that node_exporter's textfile collector
// reads: <metrics.textfile_dir>/oos_<tool>.prom, replaced atomically (docs/reference.md section 13).
#pragma once

#include <expected>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace oos::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

enum class Type { gauge, counter };

// Builds the text. Samples of one metric are added one after the other; its HELP and TYPE lines are
// written before the first.
class Exposition {
 public:
  Exposition& add(std::string_view name, Type type, std::string_view help, double value, const Labels& labels = {});
  const std::string& text() const { return m_text; }

 private:
  std::string m_text;
  std::string m_last_name;
};

// Writes `text` to <dir>/oos_<tool>.prom through a temporary file in the same directory and a rename,
// so the collector never reads half a file. The file is world-readable (0644): metrics are not secrets.
[[nodiscard]] std::expected<void, std::string> write_textfile(const std::filesystem::path& dir, std::string_view tool,
                                                              std::string_view text);

}  // namespace oos::metrics
