// oos-health: one health check (Nagios-style exit) or `validate`. See commands.hpp.
#include "cli.hpp"
#include "commands.hpp"

int main(int argc, char** argv) {
  oos::tools::health::Command command;
  if (auto done = oos::tools::health::parse(argc, argv, command)) return *done;
  return oos::tools::health::run(command);
}
