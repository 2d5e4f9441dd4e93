#pragma once
// HTML form bodies: application/x-www-form-urlencoded (Open311 POST) and multipart/form-data
// (RFC 7578: reports with photos). Parsers are strict and bounded: malformed input is an error,
// never a partial result.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace ioc::net {

using FormFields = std::vector<std::pair<std::string, std::string>>;

//! "a=1&b=x+y%21" → {{"a","1"},{"b","x y!"}}, in order, repeated names kept. Errors
//! (kMalformedInput) on bad percent-escapes or more than `max_fields` fields.
core::Result<FormFields> parseUrlEncoded(std::string_view body, size_t max_fields = 256);

struct FormPart {
  std::string name;
  std::string filename;      //!< "" for plain fields
  std::string content_type;  //!< as declared by the client ("" when absent)
  std::string data;
};

//! multipart/form-data with the boundary of `content_type` (the request's Content-Type header).
//! Errors (kMalformedInput) on a missing boundary, a malformed part, or more than `max_parts`.
core::Result<std::vector<FormPart>> parseMultipart(std::string_view content_type,
                                                   std::string_view body, size_t max_parts = 32);

//! The first value of `name`, or nullptr.
const std::string* findField(const FormFields& fields, std::string_view name);

}  // namespace ioc::net
