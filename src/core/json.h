#pragma once
// The JSON type of the whole code base: nlohmann::basic_json whose objects are sorted vectors
// (core::SortedMap) instead of std::map. Members iterate, dump and compare in the same key
// order, but an object is one allocation instead of one node per member: an entity document
// of the city took 40 % less memory and copies faster. Like std::vector, inserting into an
// object invalidates references to its other members, and inserting n members out of order
// costs O(n²) moves — so parsing (below) appends members and sorts each object once.
#include <algorithm>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "core/sorted_map.h"

namespace ioc {

using Json = nlohmann::basic_json<core::SortedMap>;

}  // namespace ioc

NLOHMANN_JSON_NAMESPACE_BEGIN
namespace detail {

//! Json::parse's DOM builder for ioc::Json: nlohmann's inserts each key at its sorted place,
//! which made a 140 kB object with keys in reverse order take a second to parse (quadratic).
//! This one appends the members of an object in document order and sorts them once at its end
//! (a later duplicate key wins, as with nlohmann's own builder).
template <>
class json_sax_dom_parser<ioc::Json> {
 public:
  using Json = ioc::Json;
  using number_integer_t = Json::number_integer_t;
  using number_unsigned_t = Json::number_unsigned_t;
  using number_float_t = Json::number_float_t;
  using string_t = Json::string_t;
  using binary_t = Json::binary_t;

  explicit json_sax_dom_parser(Json& root, bool allow_exceptions = true)
      : root_(root), allow_exceptions_(allow_exceptions) {}

  bool null() { return add(nullptr); }
  bool boolean(bool v) { return add(v); }
  bool number_integer(number_integer_t v) { return add(v); }
  bool number_unsigned(number_unsigned_t v) { return add(v); }
  bool number_float(number_float_t v, const string_t& /*text*/) { return add(v); }
  bool string(string_t& v) { return add(std::move(v)); }
  bool binary(binary_t& v) { return add(std::move(v)); }
  bool start_object(std::size_t /*len*/) {
    stack_.push_back(place(Json::value_t::object));
    return true;
  }
  bool key(string_t& name) {
    auto& members = stack_.back()->get_ref<Json::object_t&>();
    member_ = &members.emplace_back(std::move(name), nullptr).second;
    return true;
  }
  bool end_object() {
    sortMembers(stack_.back()->get_ref<Json::object_t&>());
    stack_.pop_back();
    return true;
  }
  bool start_array(std::size_t /*len*/) {
    stack_.push_back(place(Json::value_t::array));
    return true;
  }
  bool end_array() {
    stack_.pop_back();
    return true;
  }
  template <class Exception>
  bool parse_error(std::size_t /*position*/, const std::string& /*token*/, const Exception& ex) {
    errored_ = true;
    if (allow_exceptions_) throw ex;
    return false;
  }
  bool is_errored() const { return errored_; }

 private:
  template <class Value>
  bool add(Value&& v) {
    place(std::forward<Value>(v));
    return true;
  }
  //! Puts a value where the document is at (the root, an array's end, the last key's member).
  template <class Value>
  Json* place(Value&& v) {
    if (stack_.empty()) {
      root_ = Json(std::forward<Value>(v));
      return &root_;
    }
    if (stack_.back()->is_array()) {
      auto& items = stack_.back()->get_ref<Json::array_t&>();
      return &items.emplace_back(std::forward<Value>(v));
    }
    *member_ = Json(std::forward<Value>(v));
    return member_;
  }
  static void sortMembers(Json::object_t& members) {
    auto less = [](const auto& a, const auto& b) { return a.first < b.first; };
    if (std::is_sorted(members.begin(), members.end(), less) &&
        std::adjacent_find(members.begin(), members.end(), [](const auto& a, const auto& b) {
          return a.first == b.first;
        }) == members.end()) {
      return;  // the usual case: documents we wrote ourselves are dumped in key order
    }
    std::stable_sort(members.begin(), members.end(), less);
    auto out = members.begin();
    for (auto it = members.begin(); it != members.end(); ++it) {
      auto next = std::next(it);
      if (next != members.end() && next->first == it->first) continue;  // a later one wins
      if (out != it) *out = std::move(*it);
      ++out;
    }
    members.erase(out, members.end());
  }

  Json& root_;
  std::vector<Json*> stack_;
  Json* member_ = nullptr;
  bool errored_ = false;
  const bool allow_exceptions_;
};

}  // namespace detail
NLOHMANN_JSON_NAMESPACE_END
