#include "indices/qcvn40.h"

#include <cmath>
#include <set>
#include <utility>

namespace ioc::indices {
namespace {

using json = ioc::Json;

core::Error invalid(const std::string& message) {
  return core::makeError(core::Errc::kInvalidArgument, "qcvn40: " + message);
}

core::Status readString(const json& j, const char* key, const std::string& who, bool required,
                        std::string& out) {
  const auto it = j.find(key);
  if (it == j.end()) return required ? invalid(who + ": missing '" + key + "'") : core::Status{};
  if (!it->is_string()) return invalid(who + ": '" + key + "' is not a string");
  out = it->get<std::string>();
  if (required && out.empty()) return invalid(who + ": '" + key + "' is empty");
  return {};
}

core::Status readBound(const json& j, const char* key, const std::string& who,
                       std::optional<double>& out) {
  const auto it = j.find(key);
  if (it == j.end()) return {};
  if (!it->is_number() || !std::isfinite(it->get<double>())) {
    return invalid(who + ": '" + key + "' is not a finite number");
  }
  out = it->get<double>();
  return {};
}

core::Status readLimit(const json& j, const char* column, const std::string& who,
                       Qcvn40Limit& out) {
  const auto it = j.find(column);
  if (it == j.end() || !it->is_object()) {
    return invalid(who + ": column '" + column + "' must be an object {\"min\"?, \"max\"?}");
  }
  const std::string where = who + " column " + column;
  if (auto s = readBound(*it, "min", where, out.min); !s) return s;
  if (auto s = readBound(*it, "max", where, out.max); !s) return s;
  if (!out.min && !out.max) return invalid(where + ": needs 'min' or 'max'");
  // The ratio value / limit needs a positive bound.
  if ((out.max && *out.max <= 0) || (out.min && *out.min <= 0)) {
    return invalid(where + ": bounds must be > 0");
  }
  if (out.min && out.max && *out.min >= *out.max) return invalid(where + ": min must be < max");
  return {};
}

}  // namespace

const Qcvn40Parameter* Qcvn40Table::find(std::string_view id) const {
  for (const Qcvn40Parameter& p : parameters) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

core::Result<Qcvn40Table> parseQcvn40Table(const json& j) {
  if (!j.is_object()) return invalid("table is not a JSON object");
  Qcvn40Table table;
  if (auto s = readString(j, "standard", "table", false, table.standard); !s) return s.error();
  const auto params = j.find("parameters");
  if (params == j.end() || !params->is_array() || params->empty()) {
    return invalid("'parameters' must be a non-empty array");
  }
  std::set<std::string> seen;
  for (const json& item : *params) {
    if (!item.is_object()) return invalid("parameter entry is not an object");
    Qcvn40Parameter p;
    if (auto s = readString(item, "id", "parameter", true, p.id); !s) return s.error();
    const std::string who = "parameter " + p.id;
    if (!seen.insert(p.id).second) return invalid("duplicate " + who);
    if (auto s = readString(item, "name_vi", who, true, p.name_vi); !s) return s.error();
    if (auto s = readString(item, "name_en", who, true, p.name_en); !s) return s.error();
    if (auto s = readString(item, "unit", who, false, p.unit); !s) return s.error();
    if (auto s = readLimit(item, "A", who, p.a); !s) return s.error();
    if (auto s = readLimit(item, "B", who, p.b); !s) return s.error();
    if (const auto k = item.find("apply_k"); k != item.end()) {
      if (!k->is_boolean()) return invalid(who + ": 'apply_k' is not a boolean");
      p.apply_k = k->get<bool>();
    }
    table.parameters.push_back(std::move(p));
  }
  return table;
}

Qcvn40Limit permittedLimit(const Qcvn40Parameter& p, Qcvn40Column column,
                           const DischargeFactors& k) {
  Qcvn40Limit out = p.limit(column);
  if (out.max && p.apply_k) *out.max *= k.kq * k.kf;
  return out;
}

core::Result<std::vector<Exceedance>> wastewaterExceedances(
    const Qcvn40Table& table, Qcvn40Column column, std::span<const WastewaterSample> samples,
    const DischargeFactors& k) {
  if (!std::isfinite(k.kq) || k.kq <= 0 || !std::isfinite(k.kf) || k.kf <= 0) {
    return invalid("Kq and Kf must be finite and > 0");
  }
  std::vector<Exceedance> out;
  for (const WastewaterSample& s : samples) {
    const Qcvn40Parameter* p = table.find(s.parameter);
    // Unknown ids are an error, not skipped: a typo would otherwise pass as compliant.
    if (!p) return invalid("unknown parameter '" + std::string(s.parameter) + "'");
    if (!std::isfinite(s.value)) return invalid("value of " + p->id + " is not finite");
    const Qcvn40Limit lim = permittedLimit(*p, column, k);
    if (lim.max && s.value > *lim.max) {
      out.push_back({p->id, s.value, *lim.max, LimitBound::kMax, s.value / *lim.max});
    } else if (lim.min && s.value < *lim.min) {
      out.push_back({p->id, s.value, *lim.min, LimitBound::kMin, s.value / *lim.min});
    }
  }
  return out;
}

}  // namespace ioc::indices
