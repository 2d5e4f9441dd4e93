#pragma once
// Citizen-report indicators over any period, grouped by agency, ward or category. One compact
// row per report (about 48 bytes, names interned) so a query over a million reports is a
// linear scan of contiguous memory rather than a walk over the full report objects.
//
// Definitions (issue 5): received = reports created in the period; resolved = of those, the ones
// resolved or closed now; on-time % = resolved on time ÷ (resolved + open overdue); median hours
// to resolve (creation → first resolution); satisfaction % = ratings of 4–5 ÷ ratings; reopen
// rate = reopened ÷ ever resolved.
// Thread-safety: none; the owner locks.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/json.h"

namespace ioc::reports {

struct KpiRecord {
  int64_t created_ms = 0;
  int64_t first_resolved_ms = 0;  //!< 0 = never resolved
  int64_t due_ms = 0;             //!< 0 = no deadline
  bool open = true;
  int rating = 0;
  bool reopened = false;
  bool hidden = false;
  std::string_view agency, ward, unit, service;
};

class KpiIndex {
 public:
  //! Inserts or replaces the row of report number `n` (dense, from 1).
  void put(size_t n, const KpiRecord& r);
  size_t size() const { return rows_.size(); }

  struct Query {
    int64_t from_ms = 0, to_ms = 0;   //!< created in [from, to); 0 = unbounded
    std::string group_by = "agency";  //!< agency | ward | service | none
    //! Whether a unit code is in scope; called once per distinct unit, not per row.
    std::function<bool(std::string_view unit)> in_scope;
  };
  ioc::Json query(const Query& q, int64_t now_ms) const;

 private:
  struct Row {
    int64_t created_ms = 0, first_resolved_ms = 0, due_ms = 0;
    uint32_t agency = 0, ward = 0, unit = 0, service = 0;
    uint8_t rating = 0;
    bool open = true, reopened = false, hidden = false, used = false;
  };
  uint32_t intern(std::string_view s);

  std::vector<Row> rows_;
  std::vector<std::string> names_{""};
  std::unordered_map<std::string, uint32_t> ids_{{"", 0}};
};

}  // namespace ioc::reports
