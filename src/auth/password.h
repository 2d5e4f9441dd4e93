#pragma once
#include <string>
#include <string_view>

#include "core/result.h"

namespace ioc::auth {

//! Password policy: 10–1024 bytes. Long passphrases are welcome; the cap bounds hashing cost.
core::Status checkPasswordPolicy(std::string_view password);
//! argon2id with OWASP's parameters (t=2, m=19 MiB, p=1), encoded with its salt and parameters.
core::Result<std::string> hashPassword(std::string_view password);
//! Constant-time verification against an encoded hash; false on any mismatch or malformed hash.
bool verifyPassword(const std::string& encoded_hash, std::string_view password);
//! Verifies against a fixed dummy hash so that unknown users cost as much as known ones.
void burnVerifyTime(std::string_view password);

}  // namespace ioc::auth
