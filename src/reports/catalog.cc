#include "reports/catalog.h"

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

namespace ioc::reports {
namespace {

using json = ioc::Json;

constexpr size_t kMaxAnswerBytes = 2000;
const std::set<std::string> kDatatypes = {"string", "number",          "datetime",
                                          "text",   "singlevaluelist", "multivaluelist"};
const std::set<std::string> kTiers = {"urgent", "simple", "complex"};

core::Error bad(std::string message) {
  return core::makeError(core::Errc::kInvalidArgument, std::move(message));
}

core::Result<Question> questionFromJson(const json& q) {
  Question out;
  out.code = q.at("code").get<std::string>();
  out.datatype = q.value("datatype", "string");
  if (!kDatatypes.count(out.datatype)) return bad("question " + out.code + ": bad datatype");
  out.variable = q.value("variable", true);
  out.required = q.value("required", false);
  out.description = q.value("description", "");
  out.description_en = q.value("description_en", out.description);
  out.order = q.value("order", 0);
  for (const auto& v : q.value("values", json::array())) {
    out.values.emplace_back(v.at("key").get<std::string>(), v.at("name").get<std::string>());
  }
  const bool list = out.datatype.find("list") != std::string::npos;
  if (list == out.values.empty()) return bad("question " + out.code + ": values vs datatype");
  return out;
}

core::Result<Service> serviceFromJson(const json& j) {
  Service s;
  s.code = j.at("code").get<std::string>();
  s.name = j.at("name").get<std::string>();
  s.name_en = j.value("name_en", s.name);
  s.description = j.value("description", "");
  s.description_en = j.value("description_en", s.description);
  s.group = j.value("group", "other");
  s.keywords = j.value("keywords", std::vector<std::string>{});
  s.sla_tier = j.value("sla_tier", "simple");
  if (!kTiers.count(s.sla_tier)) return bad("service " + s.code + ": unknown sla_tier");
  s.incident_category = j.value("incident_category", "other");
  s.handled = j.value("handled", true);
  s.redirect = j.value("redirect", "");
  s.redirect_en = j.value("redirect_en", s.redirect);
  s.hotline = j.value("hotline", "");
  for (const auto& q : j.value("questions", json::array())) {
    auto parsed = questionFromJson(q);
    if (!parsed.ok()) return parsed.error();
    s.questions.push_back(std::move(*parsed));
  }
  return s;
}

// One answer to a question, cleaned: strings trimmed to a bound, numbers as numbers.
core::Result<json> answer(const Question& q, const json& v) {
  auto text = [&](const json& x) -> std::optional<std::string> {
    if (x.is_string()) return x.get<std::string>();
    if (x.is_number()) return x.dump();
    return std::nullopt;
  };
  auto inList = [&](const std::string& key) {
    for (const auto& [k, name] : q.values) {
      if (k == key) return true;
    }
    return false;
  };
  if (q.datatype == "number") {
    double d = 0;
    if (v.is_number()) {
      d = v.get<double>();
    } else if (auto t = text(v)) {
      std::istringstream in(*t);
      if (!(in >> d) || !in.eof()) return bad(q.code + " must be a number");
    } else {
      return bad(q.code + " must be a number");
    }
    if (!std::isfinite(d)) return bad(q.code + " must be a finite number");
    return json(d);
  }
  if (q.datatype == "multivaluelist") {
    json out = json::array();
    for (const auto& item : v.is_array() ? v : json::array({v})) {
      auto t = text(item);
      if (!t || !inList(*t)) return bad(q.code + ": not one of the listed values");
      out.push_back(*t);
    }
    return out;
  }
  auto t = text(v);
  if (!t) return bad(q.code + " must be text");
  if (t->size() > kMaxAnswerBytes) return bad(q.code + " is too long");
  if (q.datatype == "singlevaluelist" && !inList(*t)) {
    return bad(q.code + ": not one of the listed values");
  }
  return json(*t);
}

}  // namespace

core::Result<Catalog> Catalog::loadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return core::makeError(core::Errc::kNotFound, "cannot read " + path);
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded()) return core::makeError(core::Errc::kMalformedInput, path + ": not JSON");
  return fromJson(j);
}

core::Result<Catalog> Catalog::fromJson(const json& j) {
  try {
    Catalog c;
    c.jurisdiction_ = j.value("jurisdiction", "");
    for (const auto& t : j.value("sla_tiers", json::array())) {
      c.tiers_.push_back(SlaTier{t.at("name"), t.at("working_days")});
    }
    std::set<std::string> codes;
    for (const auto& s : j.at("services")) {
      auto parsed = serviceFromJson(s);
      if (!parsed.ok()) return parsed.error();
      if (!codes.insert(parsed->code).second) return bad("duplicate service " + parsed->code);
      c.services_.push_back(std::move(*parsed));
    }
    return c;
  } catch (const json::exception& e) {
    return core::makeError(core::Errc::kMalformedInput,
                           std::string("service catalog: ") + e.what());
  }
}

const Service* Catalog::find(std::string_view code) const {
  for (const auto& s : services_) {
    if (s.code == code) return &s;
  }
  return nullptr;
}

int Catalog::workingDays(std::string_view tier) const {
  for (const auto& t : tiers_) {
    if (t.name == tier) return t.working_days;
  }
  return tier == "urgent" ? 1 : tier == "complex" ? 10 : 3;
}

core::Result<json> Catalog::validateAnswers(const Service& s, const json& answers,
                                            bool require) const {
  if (!answers.is_null() && !answers.is_object()) return bad("attributes must be an object");
  json out = json::object();
  for (const auto& q : s.questions) {
    auto it = answers.is_object() ? answers.find(q.code) : answers.end();
    const bool missing = !answers.is_object() || it == answers.end() || it->is_null() ||
                         (it->is_string() && it->get<std::string>().empty());
    if (missing) {
      if (require && q.required && q.variable) return bad("attribute " + q.code + " is required");
      continue;
    }
    auto a = answer(q, *it);
    if (!a.ok()) return a.error();
    out[q.code] = std::move(*a);
  }
  if (answers.is_object()) {
    for (const auto& [k, v] : answers.items()) {
      if (!out.contains(k) && !v.is_null()) {
        bool known = false;
        for (const auto& q : s.questions) known = known || q.code == k;
        if (!known) return bad("unknown attribute " + k + " for service " + s.code);
      }
    }
  }
  return out;
}

}  // namespace ioc::reports
