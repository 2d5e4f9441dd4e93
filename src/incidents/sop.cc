#include "incidents/sop.h"

#include <algorithm>
#include <cmath>

#include "model/identity.h"

namespace ioc::incidents {

using json = ioc::Json;

namespace {

core::Error bad(std::string detail) {
  return core::makeError(core::Errc::kInvalidArgument, std::move(detail));
}

bool isText(const json& v, size_t max, bool allow_empty = false) {
  return v.is_string() && (allow_empty || !v.get<std::string>().empty()) &&
         v.get<std::string>().size() <= max;
}

core::Status onlyMembers(const json& obj, std::initializer_list<std::string_view> allowed,
                         const std::string& where) {
  for (const auto& [k, v] : obj.items()) {
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
      return bad(where + ": unknown member " + k);
    }
  }
  return core::Status::success();
}

core::Result<SopStep> parseStep(const json& s, const std::string& where) {
  if (!s.is_object()) return bad(where + " must be an object");
  if (auto st = onlyMembers(
          s, {"title", "kind", "role", "agency", "mandatory", "fields", "checklist"}, where);
      !st.ok()) {
    return st.error();
  }
  SopStep step;
  if (!s.contains("title") || !isText(s["title"], 500)) return bad(where + ".title is required");
  step.title = s["title"];
  if (s.contains("kind")) {
    if (!s["kind"].is_string()) return bad(where + ".kind must be text");
    step.kind = s["kind"];
  }
  if (step.kind != "manual" && step.kind != "notify" && step.kind != "checklist" &&
      step.kind != "form") {
    return bad(where + ".kind must be manual, notify, checklist or form");
  }
  if (s.contains("role") && !s["role"].is_null()) {
    if (!s["role"].is_string() || !model::parseRole(s["role"].get<std::string>())) {
      return bad(where +
                 ".role must be a role name (admin, leader, supervisor, operator, "
                 "agency_staff)");
    }
    step.role = s["role"];
  }
  if (s.contains("agency") && !s["agency"].is_null()) {
    if (!isText(s["agency"], 200)) return bad(where + ".agency must be text");
    step.agency = s["agency"];
  }
  if (s.contains("mandatory")) {
    if (!s["mandatory"].is_boolean()) return bad(where + ".mandatory must be true or false");
    step.mandatory = s["mandatory"];
  }
  if (step.kind == "form") {
    if (!s.contains("fields") || !s["fields"].is_array() || s["fields"].empty() ||
        s["fields"].size() > 50) {
      return bad(where + ": a form step needs 1-50 fields");
    }
    for (size_t i = 0; i < s["fields"].size(); ++i) {
      const auto& f = s["fields"][i];
      const std::string fw = where + ".fields[" + std::to_string(i) + "]";
      if (!f.is_object()) return bad(fw + " must be an object");
      if (auto st = onlyMembers(f, {"name", "type", "required", "options"}, fw); !st.ok()) {
        return st.error();
      }
      FormField field;
      if (!f.contains("name") || !isText(f["name"], 64)) return bad(fw + ".name is required");
      field.name = f["name"];
      if (f.contains("type")) {
        if (!f["type"].is_string()) return bad(fw + ".type must be text");
        field.type = f["type"];
      }
      if (field.type != "text" && field.type != "number" && field.type != "boolean" &&
          field.type != "select") {
        return bad(fw + ".type must be text, number, boolean or select");
      }
      if (f.contains("required")) {
        if (!f["required"].is_boolean()) return bad(fw + ".required must be true or false");
        field.required = f["required"];
      }
      if (field.type == "select") {
        if (!f.contains("options") || !f["options"].is_array() || f["options"].empty()) {
          return bad(fw + ": a select field needs options");
        }
        for (const auto& o : f["options"]) {
          if (!isText(o, 200)) return bad(fw + ".options must be text");
          field.options.push_back(o);
        }
      }
      for (const auto& other : step.fields) {
        if (other.name == field.name) return bad(fw + ": duplicate field " + field.name);
      }
      step.fields.push_back(std::move(field));
    }
  } else if (s.contains("fields")) {
    return bad(where + ": fields belong to form steps");
  }
  if (step.kind == "checklist") {
    if (!s.contains("checklist") || !s["checklist"].is_array() || s["checklist"].empty() ||
        s["checklist"].size() > 100) {
      return bad(where + ": a checklist step needs 1-100 checklist items");
    }
    for (const auto& item : s["checklist"]) {
      if (!isText(item, 500)) return bad(where + ".checklist items must be text");
      step.checklist.push_back(item);
    }
  } else if (s.contains("checklist")) {
    return bad(where + ": checklist belongs to checklist steps");
  }
  return step;
}

json stepJson(const SopStep& s) {
  json j = {{"title", s.title}, {"kind", s.kind}, {"mandatory", s.mandatory}};
  j["role"] = s.role.empty() ? json(nullptr) : json(s.role);
  j["agency"] = s.agency.empty() ? json(nullptr) : json(s.agency);
  if (!s.fields.empty()) {
    json fields = json::array();
    for (const auto& f : s.fields) {
      json fj = {{"name", f.name}, {"type", f.type}, {"required", f.required}};
      if (!f.options.empty()) fj["options"] = f.options;
      fields.push_back(std::move(fj));
    }
    j["fields"] = std::move(fields);
  }
  if (!s.checklist.empty()) j["checklist"] = s.checklist;
  return j;
}

}  // namespace

bool isValidTemplateId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

core::Result<SopTemplate> parseSopTemplate(const json& body,
                                           bool (*known_category)(std::string_view)) {
  if (!body.is_object()) return bad("an SOP template is a JSON object");
  if (auto st =
          onlyMembers(body, {"id", "category", "title", "active", "steps", "version"}, "template");
      !st.ok()) {
    return st.error();
  }
  SopTemplate t;
  if (body.contains("id")) {
    if (!body["id"].is_string() || !isValidTemplateId(body["id"].get<std::string>())) {
      return bad("id must be 1-64 of [a-z0-9_-]");
    }
    t.id = body["id"];
  }
  if (!body.contains("category") || !body["category"].is_string() ||
      !known_category(body["category"].get<std::string>())) {
    return bad("category is required and must be a known incident category");
  }
  t.category = body["category"];
  if (!body.contains("title") || !isText(body["title"], 300)) return bad("title is required");
  t.title = body["title"];
  if (body.contains("active")) {
    if (!body["active"].is_boolean()) return bad("active must be true or false");
    t.active = body["active"];
  }
  if (!body.contains("steps") || !body["steps"].is_array() || body["steps"].empty() ||
      body["steps"].size() > 100) {
    return bad("steps must be an array of 1-100 steps");
  }
  for (size_t i = 0; i < body["steps"].size(); ++i) {
    auto step = parseStep(body["steps"][i], "steps[" + std::to_string(i) + "]");
    if (!step.ok()) return step.error();
    t.steps.push_back(std::move(*step));
  }
  return t;
}

json toJson(const SopTemplate& t) {
  json steps = json::array();
  for (const auto& s : t.steps) steps.push_back(stepJson(s));
  return {{"id", t.id},
          {"version", t.version},
          {"category", t.category},
          {"title", t.title},
          {"active", t.active},
          {"steps", steps},
          {"created_at_ms", t.created_ms},
          {"created_by", t.created_by}};
}

size_t SopRun::done() const {
  return static_cast<size_t>(
      std::count_if(steps.begin(), steps.end(), [](const SopStepRun& s) { return s.done; }));
}

size_t SopRun::mandatoryOpen() const {
  return static_cast<size_t>(std::count_if(
      steps.begin(), steps.end(), [](const SopStepRun& s) { return s.step.mandatory && !s.done; }));
}

SopRun launchSop(const SopTemplate& t) {
  SopRun run;
  run.template_id = t.id;
  run.version = t.version;
  run.title = t.title;
  for (const auto& s : t.steps) run.steps.push_back(SopStepRun{s, false, "", "", 0, nullptr, ""});
  return run;
}

json toJson(const SopRun& run) {
  json steps = json::array();
  for (size_t i = 0; i < run.steps.size(); ++i) {
    const auto& s = run.steps[i];
    json j = stepJson(s.step);
    j["n"] = i + 1;
    j["status"] = s.done ? "done" : "open";
    j["completed_by"] = s.done ? json(s.completed_by) : json(nullptr);
    j["completed_role"] = s.done ? json(s.completed_role) : json(nullptr);
    j["completed_at_ms"] = s.done ? json(s.completed_ms) : json(nullptr);
    j["data"] = s.data;
    if (!s.note.empty()) j["note"] = s.note;
    steps.push_back(std::move(j));
  }
  return {{"template_id", run.template_id},
          {"version", run.version},
          {"title", run.title},
          {"steps", steps},
          {"progress",
           {{"done", run.done()},
            {"total", run.steps.size()},
            {"mandatory_open", run.mandatoryOpen()}}}};
}

core::Result<SopRun> sopRunFromJson(const json& j) {
  if (!j.is_object()) return bad("sop run must be an object");
  SopRun run;
  run.template_id = j.value("template_id", "");
  run.version = j.value("version", 0);
  run.title = j.value("title", "");
  json steps_in = j.value("steps", json::array());
  for (size_t i = 0; i < steps_in.size(); ++i) {
    json spec = steps_in[i];
    SopStepRun sr;
    sr.done = spec.value("status", "open") == "done";
    if (sr.done) {
      sr.completed_by = spec.value("completed_by", "");
      sr.completed_role = spec.value("completed_role", "");
      sr.completed_ms = spec.value("completed_at_ms", int64_t{0});
    }
    sr.data = spec.contains("data") ? spec["data"] : json(nullptr);
    sr.note = spec.value("note", "");
    for (const char* k :
         {"n", "status", "completed_by", "completed_role", "completed_at_ms", "data", "note"}) {
      spec.erase(k);
    }
    if (spec["role"].is_null()) spec.erase("role");
    if (spec["agency"].is_null()) spec.erase("agency");
    auto step = parseStep(spec, "steps[" + std::to_string(i) + "]");
    if (!step.ok()) return step.error();
    sr.step = std::move(*step);
    run.steps.push_back(std::move(sr));
  }
  return run;
}

core::Status validateStepData(const SopStep& step, const json& data) {
  if (step.kind == "form") {
    if (!data.is_object()) return bad("this form step needs data: an object of field values");
    for (const auto& [k, v] : data.items()) {
      auto it = std::find_if(step.fields.begin(), step.fields.end(),
                             [&](const FormField& f) { return f.name == k; });
      if (it == step.fields.end()) return bad("data: unknown field " + k);
    }
    for (const auto& f : step.fields) {
      if (!data.contains(f.name) || data[f.name].is_null()) {
        if (f.required) return bad("data: field " + f.name + " is required");
        continue;
      }
      const json& v = data[f.name];
      if (f.type == "text" && !isText(v, 4000, !f.required)) {
        return bad("data: field " + f.name + " must be text up to 4000 bytes");
      }
      if (f.type == "number" && (!v.is_number() || !std::isfinite(v.get<double>()))) {
        return bad("data: field " + f.name + " must be a number");
      }
      if (f.type == "boolean" && !v.is_boolean()) {
        return bad("data: field " + f.name + " must be true or false");
      }
      if (f.type == "select" &&
          (!v.is_string() || std::find(f.options.begin(), f.options.end(), v.get<std::string>()) ==
                                 f.options.end())) {
        return bad("data: field " + f.name + " must be one of its options");
      }
    }
    return core::Status::success();
  }
  if (step.kind == "checklist") {
    if (!data.is_object() || !data.contains("checked") || !data["checked"].is_array()) {
      return bad("this checklist step needs data: {\"checked\": [items]}");
    }
    for (const auto& c : data["checked"]) {
      if (!c.is_string() || std::find(step.checklist.begin(), step.checklist.end(),
                                      c.get<std::string>()) == step.checklist.end()) {
        return bad("data.checked: not an item of this checklist");
      }
    }
    for (const auto& item : step.checklist) {
      if (std::find(data["checked"].begin(), data["checked"].end(), json(item)) ==
          data["checked"].end()) {
        return bad("data.checked: item not ticked: " + item);
      }
    }
    return core::Status::success();
  }
  if (!data.is_null() && !data.is_object()) return bad("data must be an object");
  return core::Status::success();
}

}  // namespace ioc::incidents
