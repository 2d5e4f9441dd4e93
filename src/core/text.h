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

}  // namespace ioc::core
