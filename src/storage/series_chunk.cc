#include "storage/series_chunk.h"

#include <bit>
#include <cstring>

namespace ioc::storage {

namespace {

constexpr uint8_t kFormat = 1;

void putVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

uint64_t zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}

int64_t unzigzag(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

//! XOR of two doubles as: 0 (equal), or a header byte (trailing zero bytes << 4 | kept bytes)
//! followed by the kept bytes, least significant first.
void putXor(std::string& out, uint64_t x) {
  if (x == 0) {
    out.push_back(0);
    return;
  }
  const int trailing = std::countr_zero(x) / 8;
  const int leading = std::countl_zero(x) / 8;
  const int kept = 8 - trailing - leading;
  out.push_back(static_cast<char>((trailing << 4) | kept));
  x >>= trailing * 8;
  for (int i = 0; i < kept; ++i, x >>= 8) out.push_back(static_cast<char>(x & 0xff));
}

class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool varint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) return false;
      const auto byte = static_cast<uint8_t>(data_[pos_++]);
      v |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;
  }
  bool xorBits(uint64_t& x) {
    if (pos_ >= data_.size()) return false;
    const auto header = static_cast<uint8_t>(data_[pos_++]);
    x = 0;
    if (header == 0) return true;
    const int trailing = header >> 4, kept = header & 0x0f;
    if (kept == 0 || trailing + kept > 8 || data_.size() - pos_ < static_cast<size_t>(kept)) {
      return false;
    }
    for (int i = 0; i < kept; ++i) {
      x |= static_cast<uint64_t>(static_cast<uint8_t>(data_[pos_++])) << (8 * (trailing + i));
    }
    return true;
  }
  bool byte(uint8_t& b) {
    if (pos_ >= data_.size()) return false;
    b = static_cast<uint8_t>(data_[pos_++]);
    return true;
  }
  bool done() const { return pos_ == data_.size(); }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

core::Error corrupt() {
  return core::makeError(core::Errc::kInternal, "corrupt time-series chunk");
}

}  // namespace

std::string encodeChunk(std::span<const TimedValue> points) {
  std::string out;
  out.reserve(2 + points.size() * 5);
  out.push_back(static_cast<char>(kFormat));
  putVarint(out, points.size());
  int64_t prev_at = 0;
  uint64_t prev_bits = 0;
  for (const auto& p : points) {
    // Unsigned arithmetic: any two times have a representable (wrapping) difference.
    putVarint(out, zigzag(static_cast<int64_t>(static_cast<uint64_t>(p.at_ms) -
                                               static_cast<uint64_t>(prev_at))));
    const auto bits = std::bit_cast<uint64_t>(p.value);
    putXor(out, bits ^ prev_bits);
    prev_at = p.at_ms;
    prev_bits = bits;
  }
  return out;
}

core::Result<std::vector<TimedValue>> decodeChunk(std::string_view data) {
  Reader in(data);
  uint8_t format = 0;
  uint64_t count = 0;
  if (!in.byte(format) || format != kFormat || !in.varint(count)) return corrupt();
  if (count > data.size()) return corrupt();  // every point takes at least two bytes
  std::vector<TimedValue> out;
  out.reserve(count);
  int64_t at = 0;
  uint64_t bits = 0;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t delta = 0, x = 0;
    if (!in.varint(delta) || !in.xorBits(x)) return corrupt();
    at = static_cast<int64_t>(static_cast<uint64_t>(at) + static_cast<uint64_t>(unzigzag(delta)));
    bits ^= x;
    out.push_back({at, std::bit_cast<double>(bits)});
  }
  if (!in.done()) return corrupt();
  return out;
}

}  // namespace ioc::storage
