#include "rules/rule.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <set>
#include <utility>

#include "core/clock.h"

namespace ioc::rules {
namespace {

using core::Errc;
using json = ioc::Json;

template <typename E>
using NameTable = std::initializer_list<std::pair<E, std::string_view>>;

const NameTable<RuleKind> kKinds = {
    {RuleKind::kThreshold, "threshold"},
    {RuleKind::kRateOfChange, "rate_of_change"},
    {RuleKind::kStale, "stale"},
    {RuleKind::kGeofence, "geofence"},
    {RuleKind::kCountInWindow, "count_in_window"},
    {RuleKind::kKpi, "kpi"},
};
const NameTable<CompareOp> kOps = {
    {CompareOp::kGt, ">"},  {CompareOp::kGe, ">="},           {CompareOp::kLt, "<"},
    {CompareOp::kLe, "<="}, {CompareOp::kOutside, "outside"},
};
const NameTable<Direction> kDirections = {
    {Direction::kRising, "rising"}, {Direction::kFalling, "falling"}, {Direction::kBoth, "both"}};
const NameTable<GeofenceTrigger> kTriggers = {{GeofenceTrigger::kEnter, "enter"},
                                              {GeofenceTrigger::kLeave, "leave"},
                                              {GeofenceTrigger::kInside, "inside"}};
const NameTable<Category> kCategories = {
    {Category::kGeo, "Geo"},
    {Category::kMet, "Met"},
    {Category::kSafety, "Safety"},
    {Category::kSecurity, "Security"},
    {Category::kRescue, "Rescue"},
    {Category::kFire, "Fire"},
    {Category::kHealth, "Health"},
    {Category::kEnv, "Env"},
    {Category::kTransport, "Transport"},
    {Category::kInfra, "Infra"},
    {Category::kCbrne, "CBRNE"},
    {Category::kOther, "Other"},
};
const NameTable<Severity> kSeverities = {{Severity::kExtreme, "Extreme"},
                                         {Severity::kSevere, "Severe"},
                                         {Severity::kModerate, "Moderate"},
                                         {Severity::kMinor, "Minor"},
                                         {Severity::kUnknown, "Unknown"}};
const NameTable<Urgency> kUrgencies = {{Urgency::kImmediate, "Immediate"},
                                       {Urgency::kExpected, "Expected"},
                                       {Urgency::kFuture, "Future"},
                                       {Urgency::kPast, "Past"},
                                       {Urgency::kUnknown, "Unknown"}};
const NameTable<Certainty> kCertainties = {{Certainty::kObserved, "Observed"},
                                           {Certainty::kLikely, "Likely"},
                                           {Certainty::kPossible, "Possible"},
                                           {Certainty::kUnlikely, "Unlikely"},
                                           {Certainty::kUnknown, "Unknown"}};

template <typename E>
std::string_view nameOf(const NameTable<E>& table, E v) {
  for (const auto& [value, name] : table) {
    if (value == v) return name;
  }
  return "?";
}

template <typename E>
std::optional<E> lookup(const NameTable<E>& table, std::string_view s) {
  for (const auto& [value, name] : table) {
    if (name == s) return value;
  }
  return std::nullopt;
}

template <typename E>
std::string choices(const NameTable<E>& table) {
  std::string out;
  for (const auto& [value, name] : table) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

core::Error bad(std::string_view field, std::string_view problem) {
  return core::makeError(Errc::kInvalidArgument, std::string(field) + ": " + std::string(problem));
}

// Longest id, name or headline we accept: these end up in logs, CAP XML and UI lists.
constexpr size_t kMaxIdLen = 128;
constexpr size_t kMaxNameLen = 200;
constexpr size_t kMaxTextLen = 2000;
constexpr size_t kMaxSuppressWindows = 100;
// Values beyond this are certainly typos (and keep arithmetic far from overflow).
constexpr double kMaxMagnitude = 1e15;
constexpr double kMaxSeconds = 366.0 * 24 * 3600;
constexpr double kMaxRadiusM = 100'000;
constexpr int kMaxCount = 10'000;

bool hasControl(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

bool validId(std::string_view s) {
  if (s.empty() || s.size() > kMaxIdLen) return false;
  for (unsigned char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == ':' || c == '/';
    if (!ok) return false;
  }
  return true;
}

std::string quoted(const json& v) {
  std::string s = v.dump();
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

// Each getter leaves `out` alone when the field is absent and not required.
core::Status getString(const json& o, const char* key, const std::string& path, bool required,
                       std::string& out) {
  auto it = o.find(key);
  if (it == o.end()) {
    if (required) return bad(path + key, "is required");
    return core::Status::success();
  }
  if (!it->is_string()) return bad(path + key, "must be a string (got " + quoted(*it) + ")");
  out = it->get<std::string>();
  if (out.empty()) return bad(path + key, "must not be empty");
  if (out.size() > kMaxTextLen) return bad(path + key, "is too long");
  if (hasControl(out)) return bad(path + key, "must not contain control characters");
  return core::Status::success();
}

core::Status getNumber(const json& o, const char* key, const std::string& path, bool required,
                       std::optional<double>& out) {
  auto it = o.find(key);
  if (it == o.end()) {
    if (required) return bad(path + key, "is required");
    return core::Status::success();
  }
  if (!it->is_number()) return bad(path + key, "must be a number (got " + quoted(*it) + ")");
  out = it->get<double>();
  return core::Status::success();
}

core::Status getSeconds(const json& o, const char* key, const std::string& path, bool required,
                        int64_t& out_ms) {
  std::optional<double> s;
  if (auto st = getNumber(o, key, path, required, s); !st) return st;
  if (!s) return core::Status::success();
  if (!std::isfinite(*s) || *s < 0 || *s > kMaxSeconds) {
    return bad(path + key, "must be a number of seconds between 0 and " + formatValue(kMaxSeconds) +
                               " (got " + formatValue(*s) + ")");
  }
  out_ms = std::llround(*s * 1000);
  return core::Status::success();
}

template <typename E>
core::Status getEnum(const json& o, const char* key, const std::string& path,
                     const NameTable<E>& table, bool required, E& out) {
  std::string s;
  if (auto st = getString(o, key, path, required, s); !st) return st;
  if (s.empty()) return core::Status::success();
  auto v = lookup(table, s);
  if (!v) return bad(path + key, "must be one of " + choices(table) + " (got \"" + s + "\")");
  out = *v;
  return core::Status::success();
}

core::Status rejectUnknown(const json& o, const std::string& path,
                           std::initializer_list<std::string_view> allowed, std::string_view what) {
  for (auto it = o.begin(); it != o.end(); ++it) {
    bool known = false;
    for (std::string_view a : allowed) known = known || a == it.key();
    if (!known) {
      return bad(path + it.key(), "unknown field (not part of " + std::string(what) + ")");
    }
  }
  return core::Status::success();
}

bool isPolygonal(const geo::Geometry& g) {
  return g.type == geo::GeometryType::kPolygon || g.type == geo::GeometryType::kMultiPolygon;
}

core::Result<Target> parseTarget(const json& j, const AreaResolver& resolver) {
  if (!j.is_object()) return bad("target", "must be an object");
  if (auto st = rejectUnknown(
          j, "target.", {"entityType", "attribute", "entityId", "area", "areaId"}, "a rule target");
      !st) {
    return st.error();
  }
  Target t;
  if (auto st = getString(j, "entityType", "target.", false, t.entity_type); !st) return st.error();
  if (auto st = getString(j, "attribute", "target.", false, t.attribute); !st) return st.error();
  if (auto st = getString(j, "entityId", "target.", false, t.entity_id); !st) return st.error();
  if (auto st = getString(j, "areaId", "target.", false, t.area_id); !st) return st.error();
  if (j.contains("area") && j.contains("areaId")) {
    return bad("target.area", "give either area or areaId, not both");
  }
  if (j.contains("area")) {
    auto g = geo::parseGeoJson(j["area"]);
    if (!g.ok()) return bad("target.area", g.error().message);
    t.area = std::move(g).value();
  } else if (!t.area_id.empty()) {
    std::optional<geo::Geometry> g = resolver ? resolver(t.area_id) : std::nullopt;
    if (!g) return bad("target.areaId", "unknown area \"" + t.area_id + "\"");
    t.area = std::move(*g);
  }
  return t;
}

core::Status parseThreshold(const json& j, ThresholdParams& p) {
  if (auto st = getEnum(j, "op", "", kOps, true, p.op); !st) return st;
  std::optional<double> value, low, high, hysteresis;
  if (auto st = getNumber(j, "value", "", false, value); !st) return st;
  if (auto st = getNumber(j, "low", "", false, low); !st) return st;
  if (auto st = getNumber(j, "high", "", false, high); !st) return st;
  if (auto st = getNumber(j, "hysteresis", "", false, hysteresis); !st) return st;
  if (p.op == CompareOp::kOutside) {
    if (!low) return bad("low", "is required when op is \"outside\"");
    if (!high) return bad("high", "is required when op is \"outside\"");
    if (value) return bad("value", "not used when op is \"outside\" (give low and high)");
    p.low = *low;
    p.high = *high;
  } else {
    if (!value)
      return bad("value", "is required when op is \"" + std::string(toString(p.op)) + "\"");
    if (low || high) return bad(low ? "low" : "high", "only used when op is \"outside\"");
    p.value = *value;
  }
  p.hysteresis = hysteresis.value_or(0);
  return getSeconds(j, "forSeconds", "", false, p.for_ms);
}

core::Status checkThreshold(const ThresholdParams& p) {
  auto finite = [](double v) { return std::isfinite(v) && std::fabs(v) <= kMaxMagnitude; };
  if (p.op == CompareOp::kOutside) {
    if (!finite(p.low)) return bad("low", "must be a finite number");
    if (!finite(p.high)) return bad("high", "must be a finite number");
    if (!(p.low < p.high)) {
      return bad("high", "must be greater than low (" + formatValue(p.low) + ")");
    }
  } else if (!finite(p.value)) {
    return bad("value", "must be a finite number");
  }
  if (!finite(p.hysteresis) || p.hysteresis < 0) {
    return bad("hysteresis", "must be a finite number >= 0");
  }
  if (p.op == CompareOp::kOutside && 2 * p.hysteresis >= p.high - p.low) {
    // The clear band [low + h, high - h] would be empty: the alert could never clear.
    return bad("hysteresis", "must be less than half of high - low");
  }
  if (p.for_ms < 0 || p.for_ms > kMaxSeconds * 1000) {
    return bad("forSeconds", "must be between 0 and " + formatValue(kMaxSeconds));
  }
  return core::Status::success();
}

core::Status checkTarget(const Rule& r) {
  const Target& t = r.target;
  for (const auto& [field, value] :
       {std::pair<const char*, const std::string*>{"entityType", &t.entity_type},
        {"attribute", &t.attribute},
        {"entityId", &t.entity_id}}) {
    if (value->size() > kMaxTextLen || hasControl(*value)) {
      return bad(std::string("target.") + field, "is not a valid name");
    }
  }
  if (t.area && !isPolygonal(*t.area)) {
    return bad("target.area", "must be a Polygon or MultiPolygon (got " +
                                  std::string(geo::geometryTypeName(t.area->type)) + ")");
  }
  if (!t.area_id.empty() && !t.area) return bad("target.areaId", "was not resolved to an area");
  switch (r.kind) {
    case RuleKind::kThreshold:
    case RuleKind::kRateOfChange:
      if (t.attribute.empty()) {
        return bad("target.attribute",
                   "is required for a " + std::string(toString(r.kind)) + " rule");
      }
      break;
    case RuleKind::kStale:
      if (t.entity_type.empty() && t.entity_id.empty()) {
        return bad("target", "a stale rule needs target.entityType or target.entityId");
      }
      break;
    case RuleKind::kGeofence:
      if (!t.area) return bad("target.area", "is required for a geofence rule (area or areaId)");
      break;
    case RuleKind::kCountInWindow:
      if (!t.entity_id.empty()) return bad("target.entityId", "not used by a count_in_window rule");
      if (!t.attribute.empty())
        return bad("target.attribute", "not used by a count_in_window rule");
      break;
    case RuleKind::kKpi:
      if (!t.entity_type.empty() || !t.attribute.empty() || !t.entity_id.empty() || t.area) {
        return bad("target", "a kpi rule has no target (the KPI is named by \"kpi\")");
      }
      break;
  }
  return core::Status::success();
}

json timeJson(int64_t ms) {
  return core::formatRfc3339(ms);
}

}  // namespace

std::string_view toString(RuleKind v) {
  return nameOf(kKinds, v);
}
std::string_view toString(CompareOp v) {
  return nameOf(kOps, v);
}
std::string_view toString(Direction v) {
  return nameOf(kDirections, v);
}
std::string_view toString(GeofenceTrigger v) {
  return nameOf(kTriggers, v);
}
std::string_view toString(Category v) {
  return nameOf(kCategories, v);
}
std::string_view toString(Severity v) {
  return nameOf(kSeverities, v);
}
std::string_view toString(Urgency v) {
  return nameOf(kUrgencies, v);
}
std::string_view toString(Certainty v) {
  return nameOf(kCertainties, v);
}
std::optional<Category> parseCategory(std::string_view s) {
  return lookup(kCategories, s);
}
std::optional<Severity> parseSeverity(std::string_view s) {
  return lookup(kSeverities, s);
}
std::optional<Urgency> parseUrgency(std::string_view s) {
  return lookup(kUrgencies, s);
}
std::optional<Certainty> parseCertainty(std::string_view s) {
  return lookup(kCertainties, s);
}

core::Result<int64_t> parseRfc3339(std::string_view s) {
  auto fail = [&] {
    return core::makeError(Errc::kInvalidArgument,
                           "not an RFC 3339 date-time: \"" + std::string(s.substr(0, 40)) + "\"");
  };
  auto digits = [&](size_t pos, size_t n, int& out) {
    if (pos + n > s.size()) return false;
    out = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  int y, mo, d, h, mi, sec;
  if (!digits(0, 4, y) || s.size() < 20 || s[4] != '-' || !digits(5, 2, mo) || s[7] != '-' ||
      !digits(8, 2, d) || (s[10] != 'T' && s[10] != 't') || !digits(11, 2, h) || s[13] != ':' ||
      !digits(14, 2, mi) || s[16] != ':' || !digits(17, 2, sec)) {
    return fail();
  }
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1] + (mo == 2 && leap ? 1 : 0) || h > 23 ||
      mi > 59 || sec > 60) {
    return fail();
  }
  size_t pos = 19;
  int64_t millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    const size_t start = pos;
    int64_t scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      millis += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return fail();
  }
  int64_t offset_min = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!digits(pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !digits(pos + 4, 2, om) || oh > 23 || om > 59) {
      return fail();
    }
    offset_min = (oh * 60 + om) * (s[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return fail();
  }
  if (pos != s.size()) return fail();
  const int64_t secs =
      core::daysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
      h * 3600 + mi * 60 + std::min(sec, 59) - offset_min * 60;
  return secs * 1000 + millis;
}

std::string formatValue(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc()) return "?";
  return std::string(buf, end);
}

std::string renderTemplate(std::string_view tmpl, std::string_view subject, double value,
                           std::string_view attribute, std::string_view rule_id, int64_t count) {
  std::string out;
  out.reserve(tmpl.size() + 32);
  size_t i = 0;
  while (i < tmpl.size()) {
    const size_t open = tmpl.find('{', i);
    if (open == std::string_view::npos) break;
    const size_t close = tmpl.find('}', open);
    if (close == std::string_view::npos) break;
    out.append(tmpl.substr(i, open - i));
    const std::string_view key = tmpl.substr(open + 1, close - open - 1);
    if (key == "entityId" || key == "subject") {
      out.append(subject);
    } else if (key == "value") {
      // People read headlines: 35.4, not 35.400000000000006 (NowCast, unit conversions).
      double shown = std::abs(value) < 1e12 ? std::round(value * 100) / 100 : value;
      out += formatValue(shown == 0 ? 0.0 : shown);  // never "-0"
    } else if (key == "attribute") {
      out.append(attribute);
    } else if (key == "rule") {
      out.append(rule_id);
    } else if (key == "count") {
      out += std::to_string(count);
    } else {
      out.append(tmpl.substr(open, close - open + 1));
    }
    i = close + 1;
  }
  out.append(tmpl.substr(std::min(i, tmpl.size())));
  return out;
}

core::Status validateRule(const Rule& r) {
  if (!validId(r.id)) {
    return bad("id", "must be 1-128 characters of letters, digits and - _ . : / (got \"" +
                         r.id.substr(0, 40) + "\")");
  }
  if (r.name.empty() || r.name.size() > kMaxNameLen || hasControl(r.name)) {
    return bad("name", "must be 1-200 characters without control characters");
  }
  if (r.version < 1 || r.version > (int64_t{1} << 53))
    return bad("version", "must be an integer >= 1");
  if (auto st = checkTarget(r); !st) return st;
  switch (r.kind) {
    case RuleKind::kThreshold:
      if (auto st = checkThreshold(r.threshold); !st) return st;
      break;
    case RuleKind::kKpi:
      if (r.kpi.empty() || r.kpi.size() > kMaxNameLen || hasControl(r.kpi)) {
        return bad("kpi", "must name the KPI (1-200 characters)");
      }
      if (auto st = checkThreshold(r.threshold); !st) return st;
      break;
    case RuleKind::kRateOfChange: {
      const RateParams& p = r.rate;
      if (p.window_ms <= 0 || p.window_ms > kMaxSeconds * 1000) {
        return bad("windowSeconds",
                   "must be greater than 0 and at most " + formatValue(kMaxSeconds));
      }
      if (!p.max_delta && !p.max_rate_per_minute) {
        return bad("maxDelta", "a rate_of_change rule needs maxDelta or maxRatePerMinute");
      }
      if (p.max_delta &&
          (!std::isfinite(*p.max_delta) || *p.max_delta <= 0 || *p.max_delta > kMaxMagnitude)) {
        return bad("maxDelta", "must be a finite number > 0");
      }
      if (p.max_rate_per_minute &&
          (!std::isfinite(*p.max_rate_per_minute) || *p.max_rate_per_minute <= 0 ||
           *p.max_rate_per_minute > kMaxMagnitude)) {
        return bad("maxRatePerMinute", "must be a finite number > 0");
      }
      break;
    }
    case RuleKind::kStale:
      if (r.stale.after_ms <= 0 || r.stale.after_ms > kMaxSeconds * 1000) {
        return bad("afterSeconds",
                   "must be greater than 0 and at most " + formatValue(kMaxSeconds));
      }
      break;
    case RuleKind::kGeofence:
      break;
    case RuleKind::kCountInWindow: {
      const CountParams& p = r.count;
      if (p.category.empty() || p.category.size() > kMaxNameLen || hasControl(p.category)) {
        return bad("category", "must name the event category (1-200 characters)");
      }
      if (p.count < 1 || p.count > kMaxCount)
        return bad("count", "must be an integer from 1 to 10000");
      if (!std::isfinite(p.radius_m) || p.radius_m <= 0 || p.radius_m > kMaxRadiusM) {
        return bad("radiusMeters", "must be greater than 0 and at most 100000");
      }
      if (p.window_ms <= 0 || p.window_ms > kMaxSeconds * 1000) {
        return bad("windowSeconds",
                   "must be greater than 0 and at most " + formatValue(kMaxSeconds));
      }
      break;
    }
  }
  const AlertTemplate& a = r.alert;
  if (a.headline.empty() || a.headline.size() > kMaxTextLen || hasControl(a.headline)) {
    return bad("alert.headline", "must be 1-2000 characters without control characters");
  }
  if (a.description.size() > kMaxTextLen) return bad("alert.description", "is too long");
  if (a.expires_after_ms &&
      (*a.expires_after_ms <= 0 || *a.expires_after_ms > kMaxSeconds * 1000)) {
    return bad("alert.expiresSeconds",
               "must be greater than 0 and at most " + formatValue(kMaxSeconds));
  }
  if (r.suppress.size() > kMaxSuppressWindows) return bad("suppress", "at most 100 windows");
  for (size_t i = 0; i < r.suppress.size(); ++i) {
    if (r.suppress[i].from_ms >= r.suppress[i].to_ms) {
      return bad("suppress[" + std::to_string(i) + "].to", "must be later than from");
    }
  }
  return core::Status::success();
}

core::Result<Rule> ruleFromJson(const json& j, const AreaResolver& resolver) {
  if (!j.is_object()) return bad("rule", "must be a JSON object");
  Rule r;
  if (auto st = getEnum(j, "kind", "", kKinds, true, r.kind); !st) return st.error();
  std::initializer_list<std::string_view> common = {"id",   "name",   "version", "enabled",
                                                    "kind", "target", "alert",   "suppress"};
  std::vector<std::string_view> allowed(common);
  switch (r.kind) {
    case RuleKind::kThreshold:
      allowed.insert(allowed.end(), {"op", "value", "low", "high", "hysteresis", "forSeconds"});
      break;
    case RuleKind::kKpi:
      allowed.insert(allowed.end(),
                     {"kpi", "op", "value", "low", "high", "hysteresis", "forSeconds"});
      break;
    case RuleKind::kRateOfChange:
      allowed.insert(allowed.end(), {"windowSeconds", "maxDelta", "maxRatePerMinute", "direction"});
      break;
    case RuleKind::kStale:
      allowed.insert(allowed.end(), {"afterSeconds"});
      break;
    case RuleKind::kGeofence:
      allowed.insert(allowed.end(), {"trigger"});
      break;
    case RuleKind::kCountInWindow:
      allowed.insert(allowed.end(), {"category", "count", "radiusMeters", "windowSeconds"});
      break;
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
      return bad(it.key(), "unknown field for a " + std::string(toString(r.kind)) + " rule");
    }
  }
  if (auto st = getString(j, "id", "", true, r.id); !st) return st.error();
  if (auto st = getString(j, "name", "", true, r.name); !st) return st.error();
  if (auto it = j.find("version"); it != j.end()) {
    if (!it->is_number_integer())
      return bad("version", "must be an integer (got " + quoted(*it) + ")");
    r.version = it->get<int64_t>();
  }
  if (auto it = j.find("enabled"); it != j.end()) {
    if (!it->is_boolean()) return bad("enabled", "must be true or false (got " + quoted(*it) + ")");
    r.enabled = it->get<bool>();
  }
  if (auto it = j.find("target"); it != j.end()) {
    auto t = parseTarget(*it, resolver);
    if (!t.ok()) return t.error();
    r.target = std::move(t).value();
  } else if (r.kind != RuleKind::kKpi && r.kind != RuleKind::kCountInWindow) {
    return bad("target", "is required for a " + std::string(toString(r.kind)) + " rule");
  }

  switch (r.kind) {
    case RuleKind::kThreshold:
      if (auto st = parseThreshold(j, r.threshold); !st) return st.error();
      break;
    case RuleKind::kKpi:
      if (auto st = getString(j, "kpi", "", true, r.kpi); !st) return st.error();
      if (auto st = parseThreshold(j, r.threshold); !st) return st.error();
      break;
    case RuleKind::kRateOfChange:
      if (auto st = getSeconds(j, "windowSeconds", "", true, r.rate.window_ms); !st)
        return st.error();
      if (auto st = getNumber(j, "maxDelta", "", false, r.rate.max_delta); !st) return st.error();
      if (auto st = getNumber(j, "maxRatePerMinute", "", false, r.rate.max_rate_per_minute); !st) {
        return st.error();
      }
      if (auto st = getEnum(j, "direction", "", kDirections, false, r.rate.direction); !st) {
        return st.error();
      }
      break;
    case RuleKind::kStale:
      if (auto st = getSeconds(j, "afterSeconds", "", true, r.stale.after_ms); !st)
        return st.error();
      break;
    case RuleKind::kGeofence:
      if (auto st = getEnum(j, "trigger", "", kTriggers, true, r.geofence.trigger); !st) {
        return st.error();
      }
      break;
    case RuleKind::kCountInWindow: {
      if (auto st = getString(j, "category", "", true, r.count.category); !st) return st.error();
      auto it = j.find("count");
      if (it == j.end()) return bad("count", "is required");
      if (!it->is_number_integer())
        return bad("count", "must be an integer (got " + quoted(*it) + ")");
      const int64_t n = it->get<int64_t>();
      if (n < 1 || n > kMaxCount) return bad("count", "must be an integer from 1 to 10000");
      r.count.count = static_cast<int>(n);
      std::optional<double> radius;
      if (auto st = getNumber(j, "radiusMeters", "", true, radius); !st) return st.error();
      r.count.radius_m = *radius;
      if (auto st = getSeconds(j, "windowSeconds", "", true, r.count.window_ms); !st)
        return st.error();
      break;
    }
  }

  auto alert_it = j.find("alert");
  if (alert_it == j.end()) return bad("alert", "is required");
  const json& a = *alert_it;
  if (!a.is_object()) return bad("alert", "must be an object");
  if (auto st = rejectUnknown(a, "alert.",
                              {"category", "severity", "urgency", "certainty", "headline",
                               "description", "expiresSeconds"},
                              "a rule's alert");
      !st) {
    return st.error();
  }
  if (auto st = getEnum(a, "category", "alert.", kCategories, true, r.alert.category); !st) {
    return st.error();
  }
  if (auto st = getEnum(a, "severity", "alert.", kSeverities, true, r.alert.severity); !st) {
    return st.error();
  }
  if (auto st = getEnum(a, "urgency", "alert.", kUrgencies, true, r.alert.urgency); !st) {
    return st.error();
  }
  if (auto st = getEnum(a, "certainty", "alert.", kCertainties, true, r.alert.certainty); !st) {
    return st.error();
  }
  if (auto st = getString(a, "headline", "alert.", true, r.alert.headline); !st) return st.error();
  if (auto st = getString(a, "description", "alert.", false, r.alert.description); !st) {
    return st.error();
  }
  if (a.contains("expiresSeconds")) {
    int64_t ms = 0;
    if (auto st = getSeconds(a, "expiresSeconds", "alert.", true, ms); !st) return st.error();
    r.alert.expires_after_ms = ms;
  }

  if (auto it = j.find("suppress"); it != j.end()) {
    if (!it->is_array()) return bad("suppress", "must be an array of {\"from\", \"to\"} windows");
    if (it->size() > kMaxSuppressWindows) return bad("suppress", "at most 100 windows");
    for (size_t i = 0; i < it->size(); ++i) {
      const json& w = (*it)[i];
      const std::string path = "suppress[" + std::to_string(i) + "].";
      if (!w.is_object()) return bad("suppress[" + std::to_string(i) + "]", "must be an object");
      if (auto st = rejectUnknown(w, path, {"from", "to"}, "a suppression window"); !st) {
        return st.error();
      }
      SuppressWindow win;
      for (const char* key : {"from", "to"}) {
        std::string text;
        if (auto st = getString(w, key, path, true, text); !st) return st.error();
        auto t = parseRfc3339(text);
        if (!t.ok()) return bad(path + key, t.error().message);
        (std::string_view(key) == "from" ? win.from_ms : win.to_ms) = *t;
      }
      r.suppress.push_back(win);
    }
  }
  if (auto st = validateRule(r); !st) return st.error();
  return r;
}

json ruleToJson(const Rule& r) {
  json j = {{"id", r.id},
            {"name", r.name},
            {"version", r.version},
            {"enabled", r.enabled},
            {"kind", toString(r.kind)}};
  if (r.kind != RuleKind::kKpi) {
    json t = json::object();
    if (!r.target.entity_type.empty()) t["entityType"] = r.target.entity_type;
    if (!r.target.attribute.empty()) t["attribute"] = r.target.attribute;
    if (!r.target.entity_id.empty()) t["entityId"] = r.target.entity_id;
    if (!r.target.area_id.empty()) {
      t["areaId"] = r.target.area_id;
    } else if (r.target.area) {
      t["area"] = geo::toGeoJson(*r.target.area);
    }
    j["target"] = std::move(t);
  }
  auto threshold = [&](const ThresholdParams& p) {
    j["op"] = toString(p.op);
    if (p.op == CompareOp::kOutside) {
      j["low"] = p.low;
      j["high"] = p.high;
    } else {
      j["value"] = p.value;
    }
    if (p.hysteresis != 0) j["hysteresis"] = p.hysteresis;
    if (p.for_ms != 0) j["forSeconds"] = static_cast<double>(p.for_ms) / 1000;
  };
  switch (r.kind) {
    case RuleKind::kThreshold:
      threshold(r.threshold);
      break;
    case RuleKind::kKpi:
      j["kpi"] = r.kpi;
      threshold(r.threshold);
      break;
    case RuleKind::kRateOfChange:
      j["windowSeconds"] = static_cast<double>(r.rate.window_ms) / 1000;
      if (r.rate.max_delta) j["maxDelta"] = *r.rate.max_delta;
      if (r.rate.max_rate_per_minute) j["maxRatePerMinute"] = *r.rate.max_rate_per_minute;
      j["direction"] = toString(r.rate.direction);
      break;
    case RuleKind::kStale:
      j["afterSeconds"] = static_cast<double>(r.stale.after_ms) / 1000;
      break;
    case RuleKind::kGeofence:
      j["trigger"] = toString(r.geofence.trigger);
      break;
    case RuleKind::kCountInWindow:
      j["category"] = r.count.category;
      j["count"] = r.count.count;
      j["radiusMeters"] = r.count.radius_m;
      j["windowSeconds"] = static_cast<double>(r.count.window_ms) / 1000;
      break;
  }
  json a = {{"category", toString(r.alert.category)},
            {"severity", toString(r.alert.severity)},
            {"urgency", toString(r.alert.urgency)},
            {"certainty", toString(r.alert.certainty)},
            {"headline", r.alert.headline}};
  if (!r.alert.description.empty()) a["description"] = r.alert.description;
  if (r.alert.expires_after_ms) {
    a["expiresSeconds"] = static_cast<double>(*r.alert.expires_after_ms) / 1000;
  }
  j["alert"] = std::move(a);
  if (!r.suppress.empty()) {
    json s = json::array();
    for (const SuppressWindow& w : r.suppress) {
      s.push_back({{"from", timeJson(w.from_ms)}, {"to", timeJson(w.to_ms)}});
    }
    j["suppress"] = std::move(s);
  }
  return j;
}

}  // namespace ioc::rules
