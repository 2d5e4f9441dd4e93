#include "context/json_text.h"

#include <array>
#include <charconv>
#include <cmath>

namespace ioc::context {

namespace {

using json = ioc::Json;

//! Printable ASCII without a quote or backslash: copied as it is. Anything else (control
//! characters, UTF-8 sequences to validate) goes through nlohmann's own escaping.
bool isPlain(const std::string& s) {
  static constexpr auto kPlain = [] {
    std::array<bool, 256> t{};
    for (int c = 0x20; c < 0x80; ++c) t[c] = c != '"' && c != '\\';
    return t;
  }();
  bool plain = true;  // no early exit: a branch-free loop the compiler can unroll
  for (unsigned char c : s) plain &= kPlain[c];
  return plain;
}

void appendString(const std::string& s, std::string& out) {
  if (!isPlain(s)) {
    out += json(s).dump();
    return;
  }
  out += '"';
  out += s;
  out += '"';
}

template <typename T>
void appendInteger(T v, std::string& out) {
  std::array<char, 24> buf;
  auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  out.append(buf.data(), r.ptr);
}

void appendFloat(double v, std::string& out) {
  if (!std::isfinite(v)) {  // as dump(): JSON has no NaN or infinity
    out += "null";
    return;
  }
  std::array<char, 64> buf;
  // nlohmann's own shortest round-trip formatting (with its ".0" for integral values).
  char* end = nlohmann::detail::to_chars(buf.data(), buf.data() + buf.size(), v);
  out.append(buf.data(), end);
}

}  // namespace

void appendJson(const json& value, std::string& out) {
  switch (value.type()) {
    case json::value_t::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, member] : value.get_ref<const json::object_t&>()) {
        if (!first) out += ',';
        first = false;
        appendString(key, out);
        out += ':';
        appendJson(member, out);
      }
      out += '}';
      return;
    }
    case json::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& element : value.get_ref<const json::array_t&>()) {
        if (!first) out += ',';
        first = false;
        appendJson(element, out);
      }
      out += ']';
      return;
    }
    case json::value_t::string:
      return appendString(value.get_ref<const std::string&>(), out);
    case json::value_t::number_integer:
      return appendInteger(value.get<json::number_integer_t>(), out);
    case json::value_t::number_unsigned:
      return appendInteger(value.get<json::number_unsigned_t>(), out);
    case json::value_t::number_float:
      return appendFloat(value.get<double>(), out);
    case json::value_t::boolean:
      out += value.get<bool>() ? "true" : "false";
      return;
    case json::value_t::null:
      out += "null";
      return;
    default:  // binary, discarded: never in an entity, left to dump()
      out += value.dump();
      return;
  }
}

std::string dumpJson(const json& value) {
  std::string out;
  out.reserve(1024);
  appendJson(value, out);
  return out;
}

}  // namespace ioc::context
