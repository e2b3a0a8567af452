// oos-fake-search-server PORT: FakeSearchServer as a process, for the system tests (inside a container,
// whose private network the test process cannot reach). Answers every provider with `ok`, prints
// "listening on URL" and then one line per request received ("google GET-TARGET"), until SIGTERM.
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "support/fake_search_server.hpp"

namespace {
volatile std::sig_atomic_t g_stop = 0;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: oos-fake-search-server PORT\n";
    return 64;
  }
  std::signal(SIGTERM, [](int) { g_stop = 1; });
  std::signal(SIGINT, [](int) { g_stop = 1; });
  oos::test::FakeSearchServer server(std::atoi(argv[1]));
  std::cout << "listening on " << server.base_url() << std::endl;
  std::size_t printed = 0;
  while (!g_stop) {
    auto received = server.received();
    for (; printed < received.size(); ++printed)
      std::cout << received[printed].provider << ' ' << received[printed].target << std::endl;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return 0;
}
