#include "app/completion.hpp"

#include <sstream>
#include <vector>

namespace oos::app {
namespace {

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::istringstream in(text);
  std::string part;
  while (std::getline(in, part, separator)) parts.push_back(part);
  return parts;
}

// What completes the value of `option` (the KIND of completion_spec()), from its name and its full type name
// ("TEXT:{a,b}", "INT:ID", "FILE"), as --help shows them.
std::string value_kind(const CLI::Option& option) {
  if (option.get_expected_max() == 0) return "-";
  const auto& lnames = option.get_lnames();
  if (option.get_name(true) == "queue" || (!lnames.empty() && lnames.front() == "queue")) return "queue";
  auto segments = split(option.get_type_name(), ':');
  for (const auto& segment : segments) {
    if (segment == "ID") return "id";
    if (segment.size() > 2 && segment.front() == '{' && segment.back() == '}')
      return "choice:" + segment.substr(1, segment.size() - 2);
  }
  if (!segments.empty() && (segments.front() == "FILE" || segments.front() == "DIR"))
    return segments.front() == "FILE" ? "file" : "dir";
  return "any";
}

void describe(std::ostream& out, const CLI::App& app, const std::string& scope) {
  for (const CLI::Option* option : app.get_options()) {
    if (option->get_group().empty()) continue;
    auto kind = value_kind(*option);
    if (option->get_positional() && !option->nonpositional()) {
      out << "pos " << scope << ' ' << option->get_name(true) << ' ' << kind << ' '
          << (option->get_items_expected_max() > 1 ? "n" : "1") << '\n';
      continue;
    }
    for (const auto& name : option->get_lnames()) out << "opt " << scope << " --" << name << ' ' << kind << '\n';
  }
}

}  // namespace

std::string completion_spec(const CLI::App& app) {
  std::ostringstream out;
  auto visible = [](const CLI::App* sub) { return !sub->get_group().empty(); };
  for (const CLI::App* sub : app.get_subcommands(visible)) out << "sub - " << sub->get_name() << '\n';
  describe(out, app, "-");
  for (const CLI::App* sub : app.get_subcommands(visible)) describe(out, *sub, sub->get_name());
  return out.str();
}

}  // namespace oos::app
