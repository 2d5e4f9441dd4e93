#pragma once
// JSON text for the store: the same bytes as nlohmann's dump() (compact, UTF-8 kept), written
// faster. Every entity version is serialized once for its commit, and dump() — one virtual
// call per character of escaped text — was the largest single cost left on that path.
#include <string>

#include "core/json.h"

namespace ioc::context {

//! Appends the compact JSON text of `value` to `out`.
void appendJson(const ioc::Json& value, std::string& out);
//! The compact JSON text of `value`: equal to value.dump().
std::string dumpJson(const ioc::Json& value);

}  // namespace ioc::context
