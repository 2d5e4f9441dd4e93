#include "model/audit_entry.h"

#include <sodium.h>

namespace ioc::model {

namespace {
void appendField(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
  out += ';';
}

std::string toHex(const unsigned char* data, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string hex(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    hex[2 * i] = digits[data[i] >> 4];
    hex[2 * i + 1] = digits[data[i] & 0xf];
  }
  return hex;
}
}  // namespace

std::string sha256Hex(std::string_view data) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return toHex(digest, sizeof digest);
}

std::string computeAuditHash(const AuditEntry& e) {
  std::string canon;
  canon.reserve(256 + e.detail.size());
  appendField(canon, e.prev_hash);
  appendField(canon, std::to_string(e.seq));
  appendField(canon, std::to_string(e.at_ms));
  for (const std::string* f :
       {&e.actor, &e.role, &e.unit, &e.action, &e.target, &e.client, &e.request_id, &e.detail}) {
    appendField(canon, *f);
  }
  return sha256Hex(canon);
}

}  // namespace ioc::model
