#pragma once
// Text helpers for Vietnamese names: users type "thuan hoa" and expect to find "Thuận Hoá", so
// search compares folded keys rather than raw UTF-8.
#include <string>
#include <string_view>

namespace ioc::core {

//! Search key: lower-case ASCII where possible, Vietnamese (and other Latin) diacritics removed in
//! both NFC and NFD input, đ/Đ -> d, whitespace runs collapsed to one space, trimmed. Invalid
//! UTF-8 bytes are dropped; code points outside the Latin tables pass through unchanged.
std::string foldVietnamese(std::string_view utf8);

//! Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
bool isValidUtf8(std::string_view s);

//! XML character data: markup characters escaped, characters XML 1.0 forbids (C0 controls,
//! U+FFFE/U+FFFF, invalid UTF-8) replaced by U+FFFD; valid UTF-8 kept as is (CAP, Open311).
std::string xmlEscape(std::string_view text);

//! A plausible single email address (local@domain.tld; no spaces, controls, angle brackets,
//! commas or quotes: nothing that could smuggle a second SMTP recipient).
bool isPlausibleEmail(std::string_view address);

}  // namespace ioc::core
