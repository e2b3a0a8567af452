// The Boost.Test entry point shared by the test binaries.
#define BOOST_TEST_MODULE oos
#include <boost/test/unit_test.hpp>
