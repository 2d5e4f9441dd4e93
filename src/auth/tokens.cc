#include "auth/tokens.h"

#include <sodium.h>

#include <cstdlib>
#include <vector>

#include "model/audit_entry.h"

namespace ioc::auth {

std::string generateToken(std::string_view prefix) {
  if (sodium_init() < 0) std::abort();  // no CSPRNG: refusing to mint predictable tokens
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  std::string token(prefix);
  token += '_';
  token += b64;
  return token;
}

std::string hashToken(std::string_view token) {
  return model::sha256Hex(token);
}

std::string randomHex(size_t bytes) {
  if (bytes == 0) return {};
  if (sodium_init() < 0) std::abort();
  std::vector<unsigned char> raw(bytes);
  randombytes_buf(raw.data(), bytes);
  std::vector<char> hex(bytes * 2 + 1);
  sodium_bin2hex(hex.data(), hex.size(), raw.data(), bytes);
  return std::string(hex.data(), bytes * 2);
}

}  // namespace ioc::auth
