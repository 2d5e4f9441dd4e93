#pragma once
// Validated JSON request bodies: content type, size (by the route), nesting depth, UTF-8 and
// syntax are checked before a handler sees a field.
#include <optional>
#include <string>
#include <string_view>

#include "core/json.h"
#include "core/result.h"
#include "net/request.h"

namespace ioc::api {

inline constexpr int kMaxJsonDepth = 32;

//! Parses `body` as a JSON object: unparseable input (empty, invalid UTF-8, too deep, bad syntax)
//! is kMalformedInput; valid JSON that is not an object is kInvalidArgument.
core::Result<ioc::Json> parseJsonObject(std::string_view body);
//! Checks Content-Type (application/json or application/ld+json, else kUnsupportedMediaType),
//! then parses.
core::Result<ioc::Json> readJsonBody(const net::Request& req);
//! Nesting depth outside strings, stopping early once past `limit`.
int jsonDepth(std::string_view body, int limit);

//! Field readers: missing → nullopt; wrong type → error naming the field.
core::Result<std::optional<std::string>> stringField(const ioc::Json& obj, const char* name,
                                                     size_t max_len = 1024);
core::Result<std::optional<bool>> boolField(const ioc::Json& obj, const char* name);
//! Fails when the object has a member not in `allowed` (typos must not pass silently).
core::Status onlyFields(const ioc::Json& obj, std::initializer_list<std::string_view> allowed);

}  // namespace ioc::api
