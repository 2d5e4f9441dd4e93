#pragma once
#include <string>
#include <string_view>

namespace ioc::auth {

//! Bearer credentials are `<prefix>_` + 256 random bits in unpadded base64url. The prefix tells
//! sessions ("cs") from API keys ("ck") without a lookup.
inline constexpr std::string_view kSessionPrefix = "cs";
inline constexpr std::string_view kKeyPrefix = "ck";

std::string generateToken(std::string_view prefix);
//! What the store keeps: hex SHA-256 of the token.
std::string hashToken(std::string_view token);
//! 16 hex characters from the CSPRNG, for request ids.
std::string randomHex(size_t bytes);

}  // namespace ioc::auth
