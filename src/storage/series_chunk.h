#pragma once
// The compressed form of a run of one series' points, shared by every backend.
// Times are delta-encoded zig-zag varints; values are XORed with the previous value and only the
// non-zero middle bytes kept (the Gorilla idea at byte granularity), so a steady or slowly moving
// sensor costs 2–4 bytes per point instead of a 30-byte indexed row.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ioc::storage {

struct TimedValue {
  int64_t at_ms = 0;
  double value = 0;
  bool operator==(const TimedValue&) const = default;
};

//! Points in any order; stored as given (callers sort by time).
std::string encodeChunk(std::span<const TimedValue> points);
//! Rejects truncated or malformed data instead of reading past it.
core::Result<std::vector<TimedValue>> decodeChunk(std::string_view data);

}  // namespace ioc::storage
