// Sign-in, administrative units, users, API keys and the audit log.
#include <charconv>

#include "api/api.h"
#include "api/errors.h"
#include "api/json_body.h"
#include "audit/verify.h"
#include "core/clock.h"

namespace ioc::api {

using auth::Permission;
using auth::Principal;
using net::Request;
using net::Response;
using net::http::status;
using net::http::verb;
using json = ioc::Json;

namespace {

constexpr size_t kSmallBody = 16 * 1024;

std::optional<int64_t> parseId(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v <= 0) return std::nullopt;
  return v;
}

//! limit/offset query parameters with bounds; nullopt + error text on bad input.
struct Paging {
  size_t limit = 100;
  size_t offset = 0;
};
core::Result<Paging> readPaging(const Request& req, size_t max_limit) {
  Paging p;
  for (auto [name, target, max] : {std::tuple{"limit", &p.limit, max_limit},
                                   std::tuple{"offset", &p.offset, size_t{1} << 40}}) {
    auto v = req.queryParam(name);
    if (!v) continue;
    size_t n = 0;
    auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc() || ptr != v->data() + v->size() || n > max ||
        (n == 0 && std::string_view(name) == "limit")) {
      return core::makeError(
          core::Errc::kInvalidArgument,
          std::string(name) + " must be a whole number up to " + std::to_string(max));
    }
    *target = n;
  }
  return p;
}

json userJson(const model::User& u) {
  return {{"id", u.id},
          {"username", u.username},
          {"role", model::roleName(u.role)},
          {"unit_code", u.unit_code.empty() ? json(nullptr) : json(u.unit_code)},
          {"disabled", u.disabled},
          {"created_at", core::formatRfc3339(u.created_at_ms)},
          {"updated_at", core::formatRfc3339(u.updated_at_ms)}};
}

json keyJson(const model::ApiKey& k) {
  return {{"id", k.id},
          {"name", k.name},
          {"scope", model::scopeName(k.scope)},
          {"unit_code", k.unit_code.empty() ? json(nullptr) : json(k.unit_code)},
          {"prefix", k.prefix},
          {"revoked", k.revoked},
          {"created_at", core::formatRfc3339(k.created_at_ms)}};
}

json principalJson(const Principal& p) {
  json j = {{"kind", p.kind == Principal::Kind::kUser ? "user" : "api_key"},
            {"id", p.id},
            {"name", p.name},
            {"unit_code", p.unit_code.empty() ? json(nullptr) : json(p.unit_code)}};
  if (p.role) j["role"] = model::roleName(*p.role);
  if (p.scope) j["scope"] = model::scopeName(*p.scope);
  json perms = json::array();
  for (auto perm : auth::kAllPermissions) {
    if (perm != Permission::kPublic && p.has(perm)) perms.push_back(auth::permissionName(perm));
  }
  j["permissions"] = perms;
  return j;
}

Response loginHandler(const ApiServices& s, const Request& req) {
  auto body = readJsonBody(req);
  if (!body.ok()) return errorResponse(body.error(), req);
  auto username = stringField(*body, "username", 64);
  auto password = stringField(*body, "password", 1024);
  if (!username.ok()) return errorResponse(username.error(), req);
  if (!password.ok()) return errorResponse(password.error(), req);
  if (!*username || !*password) {
    return problem(status::unprocessable_entity, "username and password are required", req);
  }
  auto result = s.auth->login(**username, **password, req.client_ip, req.request_id);
  if (!result.ok()) return errorResponse(result.error(), req);
  Response r = jsonResponse({{"token", result->token},
                             {"token_type", "Bearer"},
                             {"expires_at", core::formatRfc3339(result->expires_at_ms)},
                             {"user", principalJson(result->principal)}});
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

//! Units visible to `who`: its own unit and everything below it.
bool canSeeUnit(const ApiServices& s, const Principal& who, std::string_view code) {
  return who.isAdmin() || s.units->isWithin(code, who.unit_code);
}

Response listUnits(const ApiServices& s, const Request& req, const Principal& who) {
  auto paging = readPaging(req, 5000);
  if (!paging.ok()) return errorResponse(paging.error(), req);
  units::UnitQuery q;
  q.parent = req.queryParam("parent").value_or("");
  q.q = req.queryParam("q").value_or("");
  if (q.q.size() > 200) return problem(status::unprocessable_entity, "q is too long", req);
  if (auto level = req.queryParam("level")) {
    if (*level == "province") {
      q.level = units::Level::kProvince;
    } else if (*level == "commune") {
      q.level = units::Level::kCommune;
    } else {
      return problem(status::unprocessable_entity, "level must be province or commune", req);
    }
  }
  if (!q.parent.empty() && !s.units->find(q.parent)) {
    return problem(status::not_found, "unknown parent unit " + q.parent, req);
  }
  q.limit = SIZE_MAX;  // page after the scope filter so that total is right
  auto page = s.units->query(q);
  json items = json::array();
  size_t total = 0;
  for (const units::Unit* u : page.items) {
    if (!canSeeUnit(s, who, u->code)) continue;
    if (total++ < paging->offset || items.size() >= paging->limit) continue;
    items.push_back(units::toJson(*u));
  }
  return jsonResponse(
      {{"items", items}, {"total", total}, {"limit", paging->limit}, {"offset", paging->offset}});
}

Response getUnit(const ApiServices& s, const Request& req, const Principal& who) {
  std::string_view code = req.param("code");
  const units::Unit* unit = s.units->find(code);
  if (!unit || !canSeeUnit(s, who, code)) {
    return problem(status::not_found, "no administrative unit " + std::string(code), req);
  }
  json j = units::toJson(*unit);
  json children = json::array();
  for (const units::Unit* c : s.units->children(code)) {
    children.push_back({{"code", c->code}, {"name", c->name}, {"kind", c->kind}});
  }
  j["children"] = children;
  return jsonResponse(j);
}

Response listUsers(const ApiServices& s, const Request& req, const Principal& who) {
  auto paging = readPaging(req, 1000);
  if (!paging.ok()) return errorResponse(paging.error(), req);
  storage::UserFilter f;
  f.limit = SIZE_MAX;
  if (auto role = req.queryParam("role")) {
    f.role = model::parseRole(*role);
    if (!f.role) return problem(status::unprocessable_entity, "unknown role " + *role, req);
  }
  auto users = s.store->listUsers(f);
  if (!users.ok()) return errorResponse(users.error(), req);
  json items = json::array();
  size_t total = 0;
  for (const auto& u : *users) {
    if (!who.isAdmin() && (u.unit_code.empty() || !s.units->isWithin(u.unit_code, who.unit_code))) {
      continue;
    }
    if (total++ < paging->offset || items.size() >= paging->limit) continue;
    items.push_back(userJson(u));
  }
  return jsonResponse(
      {{"items", items}, {"total", total}, {"limit", paging->limit}, {"offset", paging->offset}});
}

Response getUser(const ApiServices& s, const Request& req, const Principal& who) {
  auto id = parseId(req.param("id"));
  if (!id) return problem(status::not_found, "no such user", req);
  auto user = s.store->findUserById(*id);
  if (!user.ok()) return errorResponse(user.error(), req);
  if (!*user || (!who.isAdmin() && ((*user)->unit_code.empty() ||
                                    !s.units->isWithin((*user)->unit_code, who.unit_code)))) {
    return problem(status::not_found, "no such user", req);
  }
  return jsonResponse(userJson(**user));
}

core::Result<model::Role> requiredRole(const json& body) {
  auto role = stringField(body, "role", 32);
  if (!role.ok()) return role.error();
  if (!*role) return core::makeError(core::Errc::kInvalidArgument, "role is required");
  auto parsed = model::parseRole(**role);
  if (!parsed) return core::makeError(core::Errc::kInvalidArgument, "unknown role " + **role);
  return *parsed;
}

Response createUser(const ApiServices& s, const Request& req, const Principal& who) {
  auto body = readJsonBody(req);
  if (!body.ok()) return errorResponse(body.error(), req);
  if (auto st = onlyFields(*body, {"username", "password", "role", "unit_code"}); !st.ok()) {
    return errorResponse(st.error(), req);
  }
  auto username = stringField(*body, "username", 64);
  auto password = stringField(*body, "password", 1024);
  auto unit = stringField(*body, "unit_code", 16);
  auto role = requiredRole(*body);
  for (const auto* r : {&username, &password, &unit}) {
    if (!r->ok()) return errorResponse(r->error(), req);
  }
  if (!role.ok()) return errorResponse(role.error(), req);
  if (!*username || !*password) {
    return problem(status::unprocessable_entity, "username and password are required", req);
  }
  auth::NewUser in{**username, **password, *role, unit->value_or("")};
  auto user = s.identity->createUser(in, auth::actorFor(who, req.client_ip, req.request_id));
  if (!user.ok()) return errorResponse(user.error(), req);
  Response r = jsonResponse(userJson(*user), status::created);
  r.headers.emplace_back("Location", "/api/v1/users/" + std::to_string(user->id));
  return r;
}

Response updateUser(const ApiServices& s, const Request& req, const Principal& who) {
  auto id = parseId(req.param("id"));
  if (!id) return problem(status::not_found, "no such user", req);
  auto body = readJsonBody(req);
  if (!body.ok()) return errorResponse(body.error(), req);
  if (auto st = onlyFields(*body, {"password", "role", "unit_code", "disabled"}); !st.ok()) {
    return errorResponse(st.error(), req);
  }
  auth::UserPatch patch;
  if (body->contains("role")) {
    auto role = requiredRole(*body);
    if (!role.ok()) return errorResponse(role.error(), req);
    patch.role = *role;
  }
  auto unit = stringField(*body, "unit_code", 16);
  auto password = stringField(*body, "password", 1024);
  auto disabled = boolField(*body, "disabled");
  if (!unit.ok()) return errorResponse(unit.error(), req);
  if (!password.ok()) return errorResponse(password.error(), req);
  if (!disabled.ok()) return errorResponse(disabled.error(), req);
  patch.unit_code = *unit;
  patch.password = *password;
  patch.disabled = *disabled;
  if (*id == who.id && patch.disabled.value_or(false)) {
    return problem(status::unprocessable_entity, "you cannot disable your own account", req);
  }
  auto user =
      s.identity->updateUser(*id, patch, auth::actorFor(who, req.client_ip, req.request_id));
  if (!user.ok()) return errorResponse(user.error(), req);
  return jsonResponse(userJson(*user));
}

Response createKey(const ApiServices& s, const Request& req, const Principal& who) {
  auto body = readJsonBody(req);
  if (!body.ok()) return errorResponse(body.error(), req);
  if (auto st = onlyFields(*body, {"name", "scope", "unit_code"}); !st.ok()) {
    return errorResponse(st.error(), req);
  }
  auto name = stringField(*body, "name", 100);
  auto scope = stringField(*body, "scope", 32);
  auto unit = stringField(*body, "unit_code", 16);
  for (const auto* r : {&name, &scope, &unit}) {
    if (!r->ok()) return errorResponse(r->error(), req);
  }
  if (!*name || !*scope)
    return problem(status::unprocessable_entity, "name and scope are required", req);
  auto parsed = model::parseScope(**scope);
  if (!parsed) {
    return problem(status::unprocessable_entity, "scope must be ingest, read or integration", req);
  }
  auth::NewKey in{**name, *parsed, unit->value_or("")};
  auto key = s.identity->createKey(in, auth::actorFor(who, req.client_ip, req.request_id));
  if (!key.ok()) return errorResponse(key.error(), req);
  json j = keyJson(key->key);
  j["key"] = key->secret;
  Response r = jsonResponse(j, status::created);
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("Location", "/api/v1/keys/" + std::to_string(key->key.id));
  return r;
}

json auditJson(const model::AuditEntry& e) {
  json detail = json::parse(e.detail, nullptr, false);
  return {{"seq", e.seq},
          {"at", core::formatRfc3339(e.at_ms)},
          {"actor", e.actor},
          {"role", e.role},
          {"unit", e.unit},
          {"action", e.action},
          {"target", e.target},
          {"client", e.client},
          {"request_id", e.request_id},
          {"detail", detail.is_discarded() ? json(e.detail) : detail},
          {"hash", e.hash}};
}

}  // namespace

void addIdentityRoutes(Api& api) {
  const ApiServices* s = &api.services();
  api.add({verb::post, "/api/v1/auth/login", Permission::kPublic, Exec::kWorker, kSmallBody,
           "Sign in with username and password"},
          [s](const Request& req, const Principal*) { return loginHandler(*s, req); });
  api.add({verb::post, "/api/v1/auth/logout", Permission::kAuthenticated, Exec::kWorker, kSmallBody,
           "Revoke the session token used"},
          [s](const Request& req, const Principal* who) {
            auto st = s->auth->logout(*who, req.client_ip, req.request_id);
            if (!st.ok()) return errorResponse(st.error(), req);
            Response r;
            r.status = status::no_content;
            return r;
          });
  api.add({verb::get, "/api/v1/auth/me", Permission::kAuthenticated, Exec::kInline, 0,
           "Who the credential belongs to, with its permissions"},
          [](const Request&, const Principal* who) { return jsonResponse(principalJson(*who)); });
  api.add({verb::get, "/api/v1/units", Permission::kUnitsRead, Exec::kInline, 0,
           "Administrative units: parent, q (with or without diacritics), level, limit, offset"},
          [s](const Request& req, const Principal* who) { return listUnits(*s, req, *who); });
  api.add({verb::get, "/api/v1/units/{code}", Permission::kUnitsRead, Exec::kInline, 0,
           "One administrative unit with its children"},
          [s](const Request& req, const Principal* who) { return getUnit(*s, req, *who); });
  api.add({verb::get, "/api/v1/users", Permission::kUsersRead, Exec::kWorker, 0,
           "Users in the caller's unit and below"},
          [s](const Request& req, const Principal* who) { return listUsers(*s, req, *who); });
  api.add({verb::post, "/api/v1/users", Permission::kUsersManage, Exec::kWorker, kSmallBody,
           "Create a user"},
          [s](const Request& req, const Principal* who) { return createUser(*s, req, *who); });
  api.add({verb::get, "/api/v1/users/{id}", Permission::kUsersRead, Exec::kWorker, 0, "One user"},
          [s](const Request& req, const Principal* who) { return getUser(*s, req, *who); });
  api.add({verb::patch, "/api/v1/users/{id}", Permission::kUsersManage, Exec::kWorker, kSmallBody,
           "Change role, unit, password or disable a user"},
          [s](const Request& req, const Principal* who) { return updateUser(*s, req, *who); });
  api.add({verb::get, "/api/v1/keys", Permission::kKeysManage, Exec::kWorker, 0, "API keys"},
          [s](const Request& req, const Principal*) {
            auto keys = s->store->listApiKeys();
            if (!keys.ok()) return errorResponse(keys.error(), req);
            json items = json::array();
            for (const auto& k : *keys) items.push_back(keyJson(k));
            return jsonResponse({{"items", items}, {"total", items.size()}});
          });
  api.add({verb::post, "/api/v1/keys", Permission::kKeysManage, Exec::kWorker, kSmallBody,
           "Create an API key (the key is shown once)"},
          [s](const Request& req, const Principal* who) { return createKey(*s, req, *who); });
  api.add({verb::delete_, "/api/v1/keys/{id}", Permission::kKeysManage, Exec::kWorker, 0,
           "Revoke an API key"},
          [s](const Request& req, const Principal* who) {
            auto id = parseId(req.param("id"));
            if (!id) return problem(status::not_found, "no such key", req);
            auto st =
                s->identity->revokeKey(*id, auth::actorFor(*who, req.client_ip, req.request_id));
            if (!st.ok()) return errorResponse(st.error(), req);
            Response r;
            r.status = status::no_content;
            return r;
          });
  api.add(
      {verb::get, "/api/v1/audit", Permission::kAuditRead, Exec::kWorker, 0,
       "Audit log: after, before, order=asc|desc, limit"},
      [s](const Request& req, const Principal*) {
        auto paging = readPaging(req, 1000);
        if (!paging.ok()) return errorResponse(paging.error(), req);
        storage::AuditFilter f;
        f.limit = paging->limit;
        if (auto order = req.queryParam("order")) {
          if (*order != "asc" && *order != "desc") {
            return problem(status::unprocessable_entity, "order must be asc or desc", req);
          }
          f.newest_first = *order == "desc";
        }
        if (auto before = req.queryParam("before")) {
          auto v = parseId(*before);
          if (!v) {
            return problem(status::unprocessable_entity, "before must be a sequence number", req);
          }
          f.before_seq = *v;
          f.newest_first = true;
        }
        if (auto after = req.queryParam("after")) {
          auto v = parseId(*after);
          if (!v && *after != "0")
            return problem(status::unprocessable_entity, "after must be a sequence number", req);
          f.after_seq = v.value_or(0);
        }
        auto entries = s->store->listAudit(f);
        if (!entries.ok()) return errorResponse(entries.error(), req);
        json items = json::array();
        for (const auto& e : *entries) items.push_back(auditJson(e));
        return jsonResponse({{"items", items}});
      });
  api.add({verb::get, "/api/v1/audit/verify", Permission::kAuditRead, Exec::kWorker, 0,
           "Check the audit log's hash chain"},
          [s](const Request& req, const Principal*) {
            auto report = audit::verifyChain(*s->store);
            if (!report.ok()) return errorResponse(report.error(), req);
            json j = {{"intact", report->intact},
                      {"entries", report->entries},
                      {"head_hash", report->head_hash}};
            if (!report->intact) {
              j["first_bad_seq"] = report->first_bad_seq;
              j["problem"] = report->problem;
            }
            return jsonResponse(j);
          });
}

}  // namespace ioc::api
