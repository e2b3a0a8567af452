#include "metrics/exposition.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>

namespace oos::metrics {
namespace {

// Label values escape backslash, double quote and newline; HELP text escapes backslash and newline.
std::string escape(std::string_view text, bool quote) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    if (ch == '\\')
      out += "\\\\";
    else if (ch == '\n')
      out += "\\n";
    else if (ch == '"' && quote)
      out += "\\\"";
    else
      out += ch;
  }
  return out;
}

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", value);
}

}  // namespace

Exposition& Exposition::add(std::string_view name, Type type, std::string_view help, double value,
                            const Labels& labels) {
  if (name != m_last_name) {
    m_text += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escape(help, false), name,
                          type == Type::counter ? "counter" : "gauge");
    m_last_name = name;
  }
  m_text += name;
  if (!labels.empty()) {
    m_text += '{';
    for (std::size_t i = 0; i < labels.size(); ++i)
      m_text += fmt::format("{}{}=\"{}\"", i ? "," : "", labels[i].first, escape(labels[i].second, true));
    m_text += '}';
  }
  m_text += ' ' + format_value(value) + '\n';
  return *this;
}

std::expected<void, std::string> write_textfile(const std::filesystem::path& dir, std::string_view tool,
                                                std::string_view text) {
  auto target = dir / fmt::format("oos_{}.prom", tool);
  auto temporary = dir / fmt::format(".oos_{}.prom.{}.tmp", tool, ::getpid());
  auto fail = [&](std::string_view what, std::string cause = std::strerror(errno)) {
    auto message = fmt::format("metrics file '{}': {}: {}", target.string(), what, cause);
    ::unlink(temporary.c_str());
    return std::unexpected(message);
  };
  {
    std::ofstream out(temporary, std::ios::trunc);
    if (!out) return fail("cannot create a temporary file beside it (does metrics.textfile_dir exist?)");
    out << text;
    out.close();
    if (!out) return fail("cannot write");
  }
  std::error_code error;
  std::filesystem::permissions(temporary, std::filesystem::perms(0644), error);  // whatever the umask
  if (error) return fail("cannot make it readable", error.message());
  if (::rename(temporary.c_str(), target.c_str()) != 0) return fail("cannot rename the temporary file over it");
  return {};
}

}  // namespace oos::metrics
