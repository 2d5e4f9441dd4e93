#pragma once
// Camera snapshots arrive as base64 text; only real JPEG and PNG images are kept.
#include <optional>
#include <string>
#include <string_view>

namespace ioc::incidents {

//! Strict RFC 4648 base64 (padding optional, no whitespace except line breaks); nullopt when
//! malformed. An optional "data:image/...;base64," prefix is accepted.
std::optional<std::string> decodeBase64(std::string_view text);

//! "image/jpeg" or "image/png" from the magic bytes, else "".
std::string sniffImageType(std::string_view bytes);

}  // namespace ioc::incidents
