#include "keys/key_ring.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <span>
#include <stdexcept>

#include "util/hex.hpp"

namespace oos::keys {
namespace {

constexpr std::size_t k_fingerprint_digits = 16;
constexpr util::UnixMillis k_day_ms = 86'400'000;

std::string_view trimmed(std::string_view text) {
  constexpr std::string_view k_blank = " \t\r\n";
  auto first = text.find_first_not_of(k_blank);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(k_blank) - first + 1);
}

}  // namespace

RingKeys parse_ring(std::string_view secret) {
  RingKeys ring;
  while (true) {
    auto comma = secret.find(',');
    auto key = trimmed(secret.substr(0, comma));
    if (!key.empty()) {
      if (std::find(ring.keys.begin(), ring.keys.end(), key) != ring.keys.end())
        ++ring.duplicates;
      else
        ring.keys.emplace_back(key);
    }
    if (comma == std::string_view::npos) break;
    secret.remove_prefix(comma + 1);
  }
  return ring;
}

std::string key_variable(std::string_view ring) {
  return std::string(ring.substr(0, ring.size() - 1));
}

std::string fingerprint(std::string_view installation_key, std::string_view key) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (!HMAC(EVP_sha256(), installation_key.data(), static_cast<int>(installation_key.size()),
            reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest.data(), &length))
    throw std::runtime_error("cannot compute HMAC-SHA-256");
  return util::to_hex(std::span(digest.data(), std::min<std::size_t>(length, k_fingerprint_digits / 2)));
}

std::vector<std::string> fingerprints(std::string_view installation_key, const std::vector<std::string>& keys) {
  std::vector<std::string> out;
  out.reserve(keys.size());
  for (const auto& key : keys) out.push_back(fingerprint(installation_key, key));
  return out;
}

RingSync sync_ring(const std::vector<KeyState>& stored, const std::vector<std::string>& fingerprints) {
  RingSync sync;
  for (const auto& row : stored)
    if (std::ranges::find(fingerprints, row.fingerprint) == fingerprints.end()) sync.removed.push_back(row.fingerprint);
  for (const auto& fingerprint : fingerprints) {
    auto found = std::ranges::find(stored, fingerprint, &KeyState::fingerprint);
    if (found != stored.end()) {
      sync.states.push_back(*found);
      continue;
    }
    sync.added.push_back(fingerprint);
    sync.states.push_back(KeyState{fingerprint, std::nullopt, 0, 0, 0});
  }
  return sync;
}

std::int64_t utc_day(util::UnixMillis now) {
  return now >= 0 ? now / k_day_ms : (now - k_day_ms + 1) / k_day_ms;
}

KeyChoice choose_key(const std::vector<KeyState>& keys, util::UnixMillis now) {
  KeyChoice choice;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const auto& key = keys[i];
    if (key.cooldown_until > now) {
      if (!choice.wait_until || key.cooldown_until < *choice.wait_until) choice.wait_until = key.cooldown_until;
      continue;
    }
    // nullopt (never used) orders before any time.
    if (!choice.index || key.last_used_at < keys[*choice.index].last_used_at) choice.index = i;
  }
  if (choice.index) choice.wait_until.reset();
  return choice;
}

}  // namespace oos::keys
