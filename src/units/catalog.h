#pragma once
// Vietnam's administrative units (34 provinces, 3,321 communes after the 2025 reform): the
// geography every incident, camera and user scope is attached to.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/json.h"
#include "core/result.h"

namespace ioc::units {

enum class Level { kProvince, kCommune };

struct Unit {
  std::string code, name, name_en, full_name, full_name_en;
  std::string kind;  // AdministrativeUnitShortName, e.g. "Phường", "Xã", "Tỉnh", "Thành phố"
  std::string kind_en;  // AdministrativeUnitShortNameEn, e.g. "Ward", "Commune", "City"
  Level level = Level::kProvince;
  std::string parent_code;  // "" for provinces
  std::string search_key;   // foldVietnamese(name + " " + full_name + " " + name_en)
};

struct UnitQuery {
  std::string parent;  // direct children of this code only; "" = no filter
  std::string q;       // every whitespace-separated folded term must occur in search_key
  std::optional<Level> level;
  size_t limit = 100;
  size_t offset = 0;
};

struct UnitPage {
  std::vector<const Unit*> items;
  size_t total = 0;  // matches before paging
};

//! Immutable after load; safe to share between threads without locking. Unit pointers stay valid
//! for the catalog's lifetime (including across moves, not across copies).
class UnitCatalog {
 public:
  UnitCatalog() = default;  // empty catalog

  static core::Result<UnitCatalog> loadFile(const std::string& path);
  static core::Result<UnitCatalog> loadJson(std::string_view json);

  //! O(1); nullptr if unknown.
  const Unit* find(std::string_view code) const;
  //! Direct children ordered by code; "" = all provinces; unknown code = empty.
  std::vector<const Unit*> children(std::string_view code) const;
  //! Ordered by level (provinces first), then code.
  UnitPage query(const UnitQuery& q) const;
  //! True if `code` is `ancestor` itself or lies below it. Empty ancestor = the whole country
  //! (true). Unknown codes are within nothing else.
  bool isWithin(std::string_view code, std::string_view ancestor) const;
  size_t size() const { return units_.size(); }
  //! Ordered by level (provinces first), then code.
  const std::vector<Unit>& all() const { return units_; }

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  std::vector<Unit> units_;
  // Indices rather than pointers so that copying a catalog stays correct.
  std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> by_code_;
  std::vector<std::vector<uint32_t>> children_;  // parallel to units_
  std::vector<uint32_t> provinces_;

  core::Status index();
};

//! {"code","name","name_en","full_name","full_name_en","kind","kind_en",
//!  "level":"province"|"commune","parent_code"} with parent_code null for provinces.
ioc::Json toJson(const Unit& u);

}  // namespace ioc::units
