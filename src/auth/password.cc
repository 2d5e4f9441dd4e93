#include "auth/password.h"

#include <sodium.h>

namespace ioc::auth {

namespace {
constexpr unsigned long long kOpsLimit = 2;
constexpr size_t kMemLimit = 19u * 1024u * 1024u;
constexpr size_t kMinLength = 10;
constexpr size_t kMaxLength = 1024;

bool ensureSodium() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}
}  // namespace

core::Status checkPasswordPolicy(std::string_view password) {
  if (password.size() < kMinLength) {
    return core::makeError(core::Errc::kInvalidArgument, "password must be at least 10 characters");
  }
  if (password.size() > kMaxLength) {
    return core::makeError(core::Errc::kInvalidArgument,
                           "password must be at most 1024 characters");
  }
  return core::Status::success();
}

core::Result<std::string> hashPassword(std::string_view password) {
  if (auto s = checkPasswordPolicy(password); !s.ok()) return s.error();
  if (!ensureSodium()) return core::makeError(core::Errc::kInternal, "crypto unavailable");
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), kOpsLimit, kMemLimit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return core::makeError(core::Errc::kUnavailable, "out of memory while hashing");
  }
  return std::string(out);
}

bool verifyPassword(const std::string& encoded_hash, std::string_view password) {
  if (!ensureSodium() || password.size() > kMaxLength) return false;
  return crypto_pwhash_str_verify(encoded_hash.c_str(), password.data(), password.size()) == 0;
}

void burnVerifyTime(std::string_view password) {
  static const std::string dummy = [] {
    auto h = hashPassword("dummy-password-for-timing");
    return h.ok() ? *h : std::string();
  }();
  (void)verifyPassword(dummy, password);
}

}  // namespace ioc::auth
