// Comparing secrets without telling an attacker, through the time it takes, how much of a guess was right.
#pragma once

#include <string_view>

namespace oos::util {

// Whether `a` equals `b`, in a time that depends on neither's content nor on the length they share: both are
// hashed (SHA-256) and the digests compared with CRYPTO_memcmp.
bool equal_in_constant_time(std::string_view a, std::string_view b);

}  // namespace oos::util
