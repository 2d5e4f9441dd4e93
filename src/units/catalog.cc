#include "units/catalog.h"

#include <algorithm>
#include <fstream>
#include <limits>
#include <new>
#include <tuple>
#include <utility>

#include "core/text.h"

namespace ioc::units {
namespace {

using core::Errc;
using core::Status;
using json = ioc::Json;

// The real file is 1.5 MB; anything far larger is a wrong path, not a bigger country.
constexpr std::streamoff kMaxFileBytes = 64 << 20;

core::Error invalid(const std::string& message) {
  return core::makeError(Errc::kInvalidArgument, "units: " + message);
}

bool isCode(std::string_view s) {
  return !s.empty() && s.size() <= 16 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Copies the required, non-empty, valid UTF-8 string field `key` of `obj` into `out`; `who`
// names the unit in the error message.
Status readString(const json& obj, const char* key, const std::string& who, std::string& out) {
  const auto it = obj.find(key);
  if (it == obj.end()) return invalid(who + ": missing field '" + key + "'");
  if (!it->is_string()) return invalid(who + ": field '" + key + "' is not a string");
  const auto& value = it->get_ref<const std::string&>();
  if (value.empty()) return invalid(who + ": field '" + key + "' is empty");
  // nlohmann already rejects malformed UTF-8 while parsing; this guards its lenient modes.
  if (!core::isValidUtf8(value)) return invalid(who + ": field '" + key + "' is not UTF-8");
  out = value;
  return {};
}

// Reads the fields shared by provinces and wards; `who` is refined to name the code once known.
Status readUnit(const json& obj, Level level, std::string& who, Unit& u) {
  if (!obj.is_object()) return invalid(who + ": not an object");
  const char* type = level == Level::kProvince ? "province" : "ward";
  std::string t;
  if (auto s = readString(obj, "Type", who, t); !s) return s;
  if (t != type) return invalid(who + ": Type is '" + t + "', expected '" + type + "'");
  if (auto s = readString(obj, "Code", who, u.code); !s) return s;
  who = std::string(type) + " " + u.code;
  if (!isCode(u.code)) return invalid(who + ": Code must be decimal digits");
  const std::pair<const char*, std::string*> fields[] = {
      {"Name", &u.name},
      {"NameEn", &u.name_en},
      {"FullName", &u.full_name},
      {"FullNameEn", &u.full_name_en},
      {"AdministrativeUnitShortName", &u.kind},
      {"AdministrativeUnitShortNameEn", &u.kind_en},
  };
  for (const auto& [key, out] : fields) {
    if (auto s = readString(obj, key, who, *out); !s) return s;
  }
  u.level = level;
  u.search_key = core::foldVietnamese(u.name + " " + u.full_name + " " + u.name_en);
  return {};
}

core::Result<std::vector<Unit>> readUnits(const json& root) {
  if (!root.is_array()) return invalid("top level must be an array of provinces");
  if (root.empty()) return invalid("no provinces");
  std::vector<Unit> units;
  for (size_t p = 0; p < root.size(); ++p) {
    const json& prov = root[p];
    std::string who = "province #" + std::to_string(p);
    Unit province;
    if (auto s = readUnit(prov, Level::kProvince, who, province); !s) return s.error();
    const auto wards = prov.find("Wards");
    if (wards == prov.end() || !wards->is_array())
      return invalid(who + ": 'Wards' must be an array");
    for (size_t w = 0; w < wards->size(); ++w) {
      std::string ward_who = "ward #" + std::to_string(w) + " of " + who;
      Unit ward;
      if (auto s = readUnit((*wards)[w], Level::kCommune, ward_who, ward); !s) return s.error();
      if (auto s = readString((*wards)[w], "ProvinceCode", ward_who, ward.parent_code); !s) {
        return s.error();
      }
      if (ward.parent_code != province.code) {
        return invalid(ward_who + ": ProvinceCode '" + ward.parent_code +
                       "' does not match its province " + province.code);
      }
      units.push_back(std::move(ward));
    }
    units.push_back(std::move(province));
  }
  return units;
}

}  // namespace

Status UnitCatalog::index() {
  if (units_.size() > std::numeric_limits<uint32_t>::max()) return invalid("too many units");
  std::sort(units_.begin(), units_.end(), [](const Unit& a, const Unit& b) {
    return std::tie(a.level, a.code) < std::tie(b.level, b.code);
  });
  by_code_.reserve(units_.size());
  children_.assign(units_.size(), {});
  for (uint32_t i = 0; i < units_.size(); ++i) {
    if (!by_code_.emplace(units_[i].code, i).second) {
      return invalid("duplicate code " + units_[i].code);
    }
  }
  // Sorted order makes every child list sorted by code as well.
  for (uint32_t i = 0; i < units_.size(); ++i) {
    const Unit& u = units_[i];
    if (u.parent_code.empty()) {
      provinces_.push_back(i);
      continue;
    }
    const auto parent = by_code_.find(u.parent_code);
    if (parent == by_code_.end()) return invalid(u.code + ": unknown parent " + u.parent_code);
    children_[parent->second].push_back(i);
  }
  return {};
}

core::Result<UnitCatalog> UnitCatalog::loadJson(std::string_view text) {
  try {
    const json root = json::parse(text.begin(), text.end());
    auto units = readUnits(root);
    if (!units) return units.error();
    UnitCatalog catalog;
    catalog.units_ = std::move(units).value();
    if (auto s = catalog.index(); !s) return s.error();
    return catalog;
  } catch (const json::exception& e) {
    return invalid(std::string("not valid JSON: ") + e.what());
  } catch (const std::bad_alloc&) {
    return core::makeError(Errc::kInternal, "units: out of memory");
  }
}

core::Result<UnitCatalog> UnitCatalog::loadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return core::makeError(Errc::kNotFound, "units: cannot open " + path);
  const std::streamoff size = in.tellg();
  if (size < 0 || size > kMaxFileBytes) return invalid(path + ": unreadable or too large");
  std::string text(static_cast<size_t>(size), '\0');
  in.seekg(0);
  if (!in.read(text.data(), size)) {
    return core::makeError(Errc::kUnavailable, "units: cannot read " + path);
  }
  auto catalog = loadJson(text);
  if (!catalog) {
    return core::makeError(catalog.error().code, catalog.error().message + " (in " + path + ")");
  }
  return catalog;
}

const Unit* UnitCatalog::find(std::string_view code) const {
  const auto it = by_code_.find(code);
  return it == by_code_.end() ? nullptr : &units_[it->second];
}

std::vector<const Unit*> UnitCatalog::children(std::string_view code) const {
  const std::vector<uint32_t>* indices = &provinces_;
  if (!code.empty()) {
    const auto it = by_code_.find(code);
    if (it == by_code_.end()) return {};
    indices = &children_[it->second];
  }
  std::vector<const Unit*> out;
  out.reserve(indices->size());
  for (uint32_t i : *indices) out.push_back(&units_[i]);
  return out;
}

UnitPage UnitCatalog::query(const UnitQuery& q) const {
  std::vector<std::string> terms;
  const std::string folded = core::foldVietnamese(q.q);
  for (size_t start = 0; start < folded.size();) {
    size_t end = folded.find(' ', start);
    if (end == std::string::npos) end = folded.size();
    terms.push_back(folded.substr(start, end - start));
    start = end + 1;
  }
  UnitPage page;
  const auto consider = [&](const Unit& u) {
    if (q.level && u.level != *q.level) return;
    for (const auto& term : terms) {
      if (u.search_key.find(term) == std::string::npos) return;
    }
    if (page.total >= q.offset && page.items.size() < q.limit) page.items.push_back(&u);
    ++page.total;
  };
  if (q.parent.empty()) {
    for (const Unit& u : units_) consider(u);
  } else if (const auto it = by_code_.find(q.parent); it != by_code_.end()) {
    for (uint32_t i : children_[it->second]) consider(units_[i]);
  }
  return page;
}

bool UnitCatalog::isWithin(std::string_view code, std::string_view ancestor) const {
  if (ancestor.empty()) return true;
  // Depth is at most two, so walking up the parent chain is cheap.
  for (const Unit* u = find(code); u != nullptr; u = find(u->parent_code)) {
    if (u->code == ancestor) return true;
    if (u->parent_code.empty()) break;
  }
  return false;
}

json toJson(const Unit& u) {
  return json{
      {"code", u.code},
      {"name", u.name},
      {"name_en", u.name_en},
      {"full_name", u.full_name},
      {"full_name_en", u.full_name_en},
      {"kind", u.kind},
      {"kind_en", u.kind_en},
      {"level", u.level == Level::kProvince ? "province" : "commune"},
      {"parent_code", u.parent_code.empty() ? json(nullptr) : json(u.parent_code)},
  };
}

}  // namespace ioc::units
