// Rule cases as data: every tests/data/rules/*.json file holds {"cases": [...]}, each case a set
// of rules, a sequence of steps (readings, events, KPI values, ticks, operator actions) on a fake
// clock, and the alert changes each step must produce. The format is in src/rules/README.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/clock.h"
#include "rules/alert.h"
#include "rules/engine.h"
#include "rules/rule.h"

namespace ioc::rules {
namespace {

using json = ioc::Json;
namespace fs = std::filesystem;

const fs::path kDataDir = fs::path(IOC_SOURCE_DIR) / "tests" / "data" / "rules";
constexpr const char* kDefaultStart = "2026-03-01T00:00:00Z";

struct CaseRef {
  std::string file;
  std::string name;
  json body;  //!< null when the file could not be read or parsed
  std::string load_error;
};

// gtest prints a failing parameter; name the case instead of dumping bytes.
void PrintTo(const CaseRef& c, std::ostream* os) {
  *os << c.file << ".json: " << c.name;
}

std::vector<CaseRef> loadCases() {
  std::vector<CaseRef> out;
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(kDataDir, ec)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& path : files) {
    const std::string stem = path.stem().string();
    std::ifstream in(path);
    json doc = json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("cases") ||
        !doc["cases"].is_array()) {
      out.push_back(CaseRef{stem, "unreadable", json(), "not JSON with a \"cases\" array"});
      continue;
    }
    for (size_t i = 0; i < doc["cases"].size(); ++i) {
      const json& c = doc["cases"][i];
      std::string name = c.value("name", "case " + std::to_string(i));
      out.push_back(CaseRef{stem, name, c, {}});
    }
  }
  return out;
}

const std::vector<CaseRef>& allCases() {
  static const std::vector<CaseRef> cases = loadCases();
  return cases;
}

std::string gtestName(const testing::TestParamInfo<CaseRef>& info) {
  std::string raw = info.param.file + "_" + std::to_string(info.index) + "_" + info.param.name;
  std::string out;
  for (char c : raw) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (ok) {
      out += c;
    } else if (!out.empty() && out.back() != '_') {
      out += '_';
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

//! "at": Unix ms, an RFC 3339 string, or "+1h30m", "+90s", "+250ms" after the case start.
int64_t parseAt(const json& at, int64_t start) {
  if (at.is_number_integer()) return at.get<int64_t>();
  if (!at.is_string()) {
    ADD_FAILURE() << "bad \"at\": " << at.dump();
    return start;
  }
  const std::string s = at.get<std::string>();
  if (s.empty() || s[0] != '+') {
    auto t = parseRfc3339(s);
    EXPECT_TRUE(t.ok()) << s;
    return t.ok() ? *t : start;
  }
  int64_t total = 0;
  size_t i = 1;
  while (i < s.size()) {
    size_t j = i;
    while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
    if (j == i) {
      ADD_FAILURE() << "bad offset " << s;
      return start;
    }
    const int64_t n = std::stoll(s.substr(i, j - i));
    size_t k = j;
    while (k < s.size() && std::isalpha(static_cast<unsigned char>(s[k]))) ++k;
    const std::string unit = s.substr(j, k - j);
    if (unit == "ms") {
      total += n;
    } else if (unit == "s") {
      total += n * 1000;
    } else if (unit == "m") {
      total += n * 60'000;
    } else if (unit == "h") {
      total += n * 3'600'000;
    } else {
      ADD_FAILURE() << "bad unit in " << s;
      return start;
    }
    i = k;
  }
  return start + total;
}

std::optional<geo::Position> position(const json& j) {
  if (!j.is_array() || j.size() != 2 || !j[0].is_number() || !j[1].is_number()) return std::nullopt;
  return geo::Position{j[0].get<double>(), j[1].get<double>()};
}

std::string describe(const AlertChange& c) {
  std::ostringstream os;
  os << toString(c.type) << " " << c.alert.id << " rule=" << c.alert.rule_id
     << " subject=" << c.alert.subject << " status=" << toString(c.alert.status)
     << " count=" << c.alert.count << " value=" << c.alert.value;
  return os.str();
}

std::string describe(const std::vector<AlertChange>& changes) {
  std::string out = "[";
  for (const AlertChange& c : changes) out += "\n  " + describe(c);
  return out + (changes.empty() ? "]" : "\n]");
}

//! Checks one change against an expectation object; only the keys given are compared.
void expectChange(const AlertChange& c, const json& want, const std::string& where) {
  SCOPED_TRACE(where + ": " + describe(c) + " vs " + want.dump());
  ASSERT_TRUE(want.is_object());
  const Alert& a = c.alert;
  for (auto it = want.begin(); it != want.end(); ++it) {
    const std::string& key = it.key();
    const json& v = it.value();
    if (key == "change") {
      EXPECT_EQ(toString(c.type), v.get<std::string>());
    } else if (key == "alert") {
      EXPECT_EQ(a.id, v.get<std::string>());
    } else if (key == "rule") {
      EXPECT_EQ(a.rule_id, v.get<std::string>());
    } else if (key == "ruleVersion") {
      EXPECT_EQ(a.rule_version, v.get<int64_t>());
    } else if (key == "subject") {
      EXPECT_EQ(a.subject, v.get<std::string>());
    } else if (key == "status") {
      EXPECT_EQ(toString(a.status), v.get<std::string>());
    } else if (key == "count") {
      EXPECT_EQ(a.count, v.get<int64_t>());
    } else if (key == "value") {
      EXPECT_NEAR(a.value, v.get<double>(), 1e-9);
    } else if (key == "headline") {
      EXPECT_EQ(a.headline, v.get<std::string>());
    } else if (key == "severity") {
      EXPECT_EQ(toString(a.severity), v.get<std::string>());
    } else if (key == "category") {
      EXPECT_EQ(toString(a.category), v.get<std::string>());
    } else if (key == "by") {
      ASSERT_FALSE(a.history.empty());
      EXPECT_EQ(a.history.back().by, v.get<std::string>());
    } else if (key == "resolvedBy") {
      EXPECT_EQ(a.resolved_by, v.get<std::string>());
    } else if (key == "resolution") {
      EXPECT_NE(a.resolution.find(v.get<std::string>()), std::string::npos)
          << "resolution \"" << a.resolution << "\"";
    } else if (key == "evidence") {
      EXPECT_EQ(a.evidence.size(), v.get<size_t>());
    } else if (key == "evidenceRefs") {
      std::vector<std::string> refs;
      for (const Evidence& e : a.evidence) refs.push_back(e.ref);
      EXPECT_EQ(refs, v.get<std::vector<std::string>>());
    } else if (key == "onset") {
      EXPECT_EQ(core::formatRfc3339(a.onset_ms), v.get<std::string>());
    } else if (key == "lastSeen") {
      EXPECT_EQ(core::formatRfc3339(a.last_seen_ms), v.get<std::string>());
    } else if (key == "expires") {
      ASSERT_TRUE(a.expires_ms.has_value());
      EXPECT_EQ(core::formatRfc3339(*a.expires_ms), v.get<std::string>());
    } else if (key == "geometry") {
      ASSERT_TRUE(a.area.has_value());
      auto g = geo::parseGeoJson(v);
      ASSERT_TRUE(g.ok());
      EXPECT_TRUE(geo::equals(*a.area, *g)) << geo::toGeoJson(*a.area).dump();
    } else {
      ADD_FAILURE() << "unknown expectation key \"" << key << "\"";
    }
  }
}

void expectChanges(const std::vector<AlertChange>& got, const json& want,
                   const std::string& where) {
  ASSERT_TRUE(want.is_array()) << where << ": expect must be an array";
  ASSERT_EQ(got.size(), want.size()) << where << ": got " << describe(got);
  for (size_t i = 0; i < got.size(); ++i) {
    expectChange(got[i], want[i], where + " change " + std::to_string(i));
  }
}

void checkRoundTrips(const std::vector<AlertChange>& changes) {
  for (const AlertChange& c : changes) {
    const json j = alertToJson(c.alert);
    auto back = alertFromJson(j);
    ASSERT_TRUE(back.ok()) << back.error().message << "\n" << j.dump();
    EXPECT_EQ(alertToJson(*back), j);
  }
}

class RuleCase : public testing::TestWithParam<CaseRef> {};

TEST_P(RuleCase, Run) {
  const CaseRef& ref = GetParam();
  ASSERT_TRUE(ref.load_error.empty()) << ref.file << ": " << ref.load_error;
  const json& c = ref.body;
  const std::set<std::string> known_case_keys = {
      "name",   "description",      "start",       "areas", "readingDefaults", "rules", "steps",
      "expect", "expectSuppressed", "expectAlerts"};
  for (auto it = c.begin(); it != c.end(); ++it) {
    EXPECT_TRUE(known_case_keys.count(it.key())) << "unknown case key " << it.key();
  }
  const int64_t start = parseAt(c.value("start", json(kDefaultStart)), 0);
  core::FakeClock clock(start);

  std::map<std::string, geo::Geometry> areas;
  if (c.contains("areas")) {
    for (auto it = c["areas"].begin(); it != c["areas"].end(); ++it) {
      auto g = geo::parseGeoJson(it.value());
      ASSERT_TRUE(g.ok()) << "area " << it.key() << ": " << g.error().message;
      areas[it.key()] = *g;
    }
  }
  AreaResolver resolver = [&areas](const std::string& id) -> std::optional<geo::Geometry> {
    auto it = areas.find(id);
    if (it == areas.end()) return std::nullopt;
    return it->second;
  };

  Engine engine(clock);
  int next_id = 0;
  AlertBook book(clock, [&next_id] { return "A" + std::to_string(++next_id); });
  std::vector<AlertChange> all_changes;

  auto addRule = [&](const json& rj) {
    auto rule = ruleFromJson(rj, resolver);
    EXPECT_TRUE(rule.ok()) << (rule.ok() ? "" : rule.error().message) << "\n" << rj.dump();
    if (!rule.ok()) return std::vector<Signal>{};
    // The codec must read back what it writes.
    auto again = ruleFromJson(ruleToJson(*rule), resolver);
    EXPECT_TRUE(again.ok()) << (again.ok() ? "" : again.error().message);
    if (again.ok()) {
      EXPECT_EQ(ruleToJson(*again), ruleToJson(*rule));
    }
    auto added = engine.addRule(std::move(rule).value());
    EXPECT_TRUE(added.ok());
    return added.ok() ? *added : std::vector<Signal>{};
  };
  for (const json& rj : c.value("rules", json::array())) addRule(rj);

  const json defaults = c.value("readingDefaults", json::object());
  const json steps = c.value("steps", json::array());
  for (size_t i = 0; i < steps.size(); ++i) {
    const json& step = steps[i];
    const std::string where = ref.file + "/" + ref.name + " step " + std::to_string(i);
    SCOPED_TRACE(where + ": " + step.dump());
    const int64_t t = parseAt(step.value("at", json(0)), start);
    clock.set(t);
    std::vector<AlertChange> changes;
    std::optional<core::Error> error;
    int actions = 0;
    auto operatorCall = [&](const char* key, auto method) {
      if (!step.contains(key)) return;
      ++actions;
      const json& a = step[key];
      auto r = (book.*method)(a.value("alert", ""), a.value("by", ""),
                              a.value("note", a.value("reason", "")));
      if (r.ok()) {
        changes.push_back(*r);
      } else {
        error = r.error();
      }
    };
    if (step.contains("reading")) {
      ++actions;
      json rj = defaults;
      rj.update(step["reading"]);
      Reading r;
      r.entity_id = rj.value("entityId", "");
      r.entity_type = rj.value("entityType", "");
      r.attribute = rj.value("attribute", "");
      r.value = rj.value("value", 0.0);
      r.time_ms = rj.contains("time") ? parseAt(rj["time"], start) : t;
      if (rj.contains("location")) r.location = position(rj["location"]);
      changes = book.apply(engine.onReading(r));
    }
    if (step.contains("event")) {
      ++actions;
      const json& ej = step["event"];
      Event e;
      e.id = ej.value("id", "");
      e.category = ej.value("category", "");
      e.entity_type = ej.value("entityType", "");
      e.location = position(ej.value("location", json())).value_or(geo::Position{});
      e.time_ms = ej.contains("time") ? parseAt(ej["time"], start) : t;
      changes = book.apply(engine.onEvent(e));
    }
    if (step.contains("kpi")) {
      ++actions;
      const json& kj = step["kpi"];
      changes = book.apply(engine.onKpi(kj.value("name", ""), kj.value("value", 0.0), t));
    }
    if (step.contains("tick")) {
      ++actions;
      changes = book.apply(engine.tick(t));
    }
    if (step.contains("watch")) {
      ++actions;
      const json& wj = step["watch"];
      std::optional<geo::Position> loc;
      if (wj.contains("location")) loc = position(wj["location"]);
      engine.watchEntity(wj.value("entityId", ""), wj.value("entityType", ""), t, loc);
    }
    if (step.contains("addRule")) {
      ++actions;
      changes = book.apply(addRule(step["addRule"]));
    }
    if (step.contains("removeRule")) {
      ++actions;
      changes = book.apply(engine.removeRule(step["removeRule"].get<std::string>()));
    }
    operatorCall("ack", &AlertBook::acknowledge);
    operatorCall("resolve", &AlertBook::resolve);
    operatorCall("close", &AlertBook::close);
    operatorCall("reopen", &AlertBook::reopen);
    ASSERT_EQ(actions, 1) << where << ": a step needs exactly one action";
    for (auto it = step.begin(); it != step.end(); ++it) {
      static const std::set<std::string> kStepKeys = {
          "at",    "note",    "expect",     "expectError", "reading", "event", "kpi",   "tick",
          "watch", "addRule", "removeRule", "ack",         "resolve", "close", "reopen"};
      EXPECT_TRUE(kStepKeys.count(it.key())) << "unknown step key " << it.key();
    }
    if (step.contains("expectError")) {
      ASSERT_TRUE(error.has_value()) << where << ": expected error " << step["expectError"];
      EXPECT_EQ(core::errcName(error->code), step["expectError"].get<std::string>())
          << error->message;
    } else {
      ASSERT_FALSE(error.has_value()) << where << ": " << error->message;
    }
    if (step.contains("expect")) expectChanges(changes, step["expect"], where);
    checkRoundTrips(changes);
    for (AlertChange& ch : changes) all_changes.push_back(std::move(ch));
  }
  if (c.contains("expect")) expectChanges(all_changes, c["expect"], ref.name + " (all steps)");
  if (c.contains("expectSuppressed")) {
    EXPECT_EQ(book.suppressedCount(), c["expectSuppressed"].get<uint64_t>());
  }
  if (c.contains("expectAlerts")) {
    const json& want = c["expectAlerts"];
    std::vector<const Alert*> alerts = book.all();
    ASSERT_EQ(alerts.size(), want.size());
    for (size_t i = 0; i < alerts.size(); ++i) {
      expectChange(AlertChange{ChangeType::kUpdated, *alerts[i]}, want[i],
                   "final alert " + std::to_string(i));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Data, RuleCase, testing::ValuesIn(allCases()), gtestName);

TEST(RuleCaseFiles, CoverEveryRuleKind) {
  std::set<std::string> kinds;
  for (const CaseRef& c : allCases()) {
    for (const json& r : c.body.value("rules", json::array())) kinds.insert(r.value("kind", ""));
    for (const json& s : c.body.value("steps", json::array())) {
      if (s.contains("addRule")) kinds.insert(s["addRule"].value("kind", ""));
    }
  }
  for (RuleKind k : {RuleKind::kThreshold, RuleKind::kRateOfChange, RuleKind::kStale,
                     RuleKind::kGeofence, RuleKind::kCountInWindow, RuleKind::kKpi}) {
    EXPECT_TRUE(kinds.count(std::string(toString(k)))) << "no case uses " << toString(k);
  }
  EXPECT_GE(allCases().size(), 30u);
}

}  // namespace
}  // namespace ioc::rules
