// util::Fd: one owner per descriptor, closed when the owner goes.
#include <boost/test/unit_test.hpp>

#include <fcntl.h>

#include <cerrno>
#include <type_traits>
#include <utility>

#include "util/fd.hpp"

using oos::util::Fd;

namespace {

bool is_open(int fd) {
  return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

int open_null() {
  return ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static_assert(!std::is_copy_constructible_v<Fd> && !std::is_copy_assignable_v<Fd>);
static_assert(std::is_nothrow_move_constructible_v<Fd> && std::is_nothrow_move_assignable_v<Fd>);

}  // namespace

BOOST_AUTO_TEST_SUITE(fd)

BOOST_AUTO_TEST_CASE(the_descriptor_is_closed_when_its_owner_goes) {
  int raw = -1;
  {
    Fd fd(open_null());
    raw = fd.get();
    BOOST_TEST_REQUIRE(static_cast<bool>(fd));
    BOOST_TEST(is_open(raw));
  }
  BOOST_TEST(!is_open(raw));
}

BOOST_AUTO_TEST_CASE(a_failed_open_is_no_descriptor) {
  Fd fd(::open("/nonexistent/oos-test", O_RDONLY | O_CLOEXEC));
  BOOST_TEST(!fd);
  BOOST_TEST(fd.get() == -1);
}

BOOST_AUTO_TEST_CASE(a_move_hands_the_descriptor_over_and_it_is_closed_once) {
  Fd first(open_null());
  int raw = first.get();
  Fd second(std::move(first));
  BOOST_TEST(!first);  // NOLINT(bugprone-use-after-move): the moved-from state is the point
  BOOST_TEST(second.get() == raw);
  Fd third;
  third = std::move(second);
  BOOST_TEST(third.get() == raw);
  BOOST_TEST(is_open(raw));
  third.reset();
  BOOST_TEST(!is_open(raw));
}

BOOST_AUTO_TEST_CASE(assigning_closes_the_descriptor_held_before) {
  Fd held(open_null());
  int old = held.get();
  held = Fd(open_null());
  BOOST_TEST(!is_open(old));
  BOOST_TEST(is_open(held.get()));
}

BOOST_AUTO_TEST_CASE(release_gives_the_descriptor_up_without_closing_it) {
  int raw = -1;
  {
    Fd fd(open_null());
    raw = fd.release();
    BOOST_TEST(!fd);
  }
  BOOST_TEST(is_open(raw));
  Fd cleanup(raw);
}

BOOST_AUTO_TEST_SUITE_END()
