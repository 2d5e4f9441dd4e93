#include "auth/identity_service.h"

#include "auth/password.h"
#include "auth/tokens.h"
#include "core/json.h"

namespace ioc::auth {

using core::Errc;
using core::makeError;

namespace {
core::Status appendAudit(storage::WriteTx& tx, model::AuditEntry entry) {
  auto seq = tx.appendAudit(std::move(entry));
  return seq.ok() ? core::Status::success() : core::Status(seq.error());
}

bool isValidKeyName(const std::string& name) {
  if (name.empty() || name.size() > 100) return false;
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}
}  // namespace

IdentityService::IdentityService(storage::Store& store, const units::UnitCatalog& units,
                                 const core::Clock& clock, AuthService* auth)
    : store_(store), units_(units), clock_(clock), auth_(auth) {}

core::Status IdentityService::checkUnit(model::Role role, const std::string& unit_code) const {
  if (unit_code.empty()) {
    if (role == model::Role::kAdmin) return core::Status::success();
    return makeError(Errc::kInvalidArgument, "unit_code is required for every role but admin");
  }
  if (!units_.find(unit_code)) {
    return makeError(Errc::kInvalidArgument, "unknown administrative unit " + unit_code);
  }
  return core::Status::success();
}

core::Result<model::User> IdentityService::createUser(const NewUser& in,
                                                      const model::Actor& actor) {
  if (!model::isValidUsername(in.username)) {
    return makeError(Errc::kInvalidArgument,
                     "username must be 3-64 characters of a-z, 0-9, '.', '_' or '-'");
  }
  if (auto s = checkUnit(in.role, in.unit_code); !s.ok()) return s.error();
  auto hash = hashPassword(in.password);
  if (!hash.ok()) return hash.error();
  auto existing = store_.findUserByName(in.username);
  if (!existing.ok()) return existing.error();
  if (*existing) return makeError(Errc::kAlreadyExists, "username already taken");

  model::User user;
  user.username = in.username;
  user.role = in.role;
  user.unit_code = in.unit_code;
  user.password_hash = *hash;
  user.created_at_ms = user.updated_at_ms = clock_.nowUnixMs();
  ioc::Json detail = {{"username", user.username},
                      {"role", model::roleName(user.role)},
                      {"unit_code", user.unit_code}};
  auto written = store_.writeSync([&](storage::WriteTx& tx) -> core::Status {
    auto id = tx.insertUser(user);
    if (!id.ok()) return id.error();
    user.id = *id;
    return appendAudit(
        tx, model::makeAuditEntry(actor, "user.create", "user:" + std::to_string(user.id),
                                  detail.dump(), user.created_at_ms));
  });
  if (!written.ok()) {
    if (written.error().code == Errc::kConflict) {
      return makeError(Errc::kAlreadyExists, "username already taken");
    }
    return written.error();
  }
  return user;
}

core::Result<model::User> IdentityService::updateUser(int64_t id, const UserPatch& patch,
                                                      const model::Actor& actor) {
  auto found = store_.findUserById(id);
  if (!found.ok()) return found.error();
  if (!*found) return makeError(Errc::kNotFound, "no such user");
  model::User user = **found;
  ioc::Json detail = ioc::Json::object();
  if (patch.role) {
    user.role = *patch.role;
    detail["role"] = model::roleName(user.role);
  }
  if (patch.unit_code) {
    user.unit_code = *patch.unit_code;
    detail["unit_code"] = user.unit_code;
  }
  if (auto s = checkUnit(user.role, user.unit_code); !s.ok()) return s.error();
  if (patch.password) {
    auto hash = hashPassword(*patch.password);
    if (!hash.ok()) return hash.error();
    user.password_hash = *hash;
    detail["password"] = "changed";
  }
  if (patch.disabled) {
    user.disabled = *patch.disabled;
    detail["disabled"] = user.disabled;
  }
  user.updated_at_ms = clock_.nowUnixMs();
  // Any change to who someone is or how they sign in ends their sessions.
  const bool end_sessions = patch.role || patch.unit_code || patch.password || user.disabled;
  auto written = store_.writeSync([&](storage::WriteTx& tx) -> core::Status {
    if (auto s = tx.updateUser(user); !s.ok()) return s;
    if (end_sessions) {
      if (auto s = tx.revokeUserSessions(user.id); !s.ok()) return s;
    }
    return appendAudit(
        tx, model::makeAuditEntry(actor, "user.update", "user:" + std::to_string(user.id),
                                  detail.dump(), user.updated_at_ms));
  });
  if (!written.ok()) return written.error();
  if (auth_ && end_sessions) auth_->forgetUser(user.id);
  return user;
}

core::Result<CreatedKey> IdentityService::createKey(const NewKey& in, const model::Actor& actor) {
  if (!isValidKeyName(in.name)) {
    return makeError(Errc::kInvalidArgument, "key name must be 1-100 printable characters");
  }
  if (!in.unit_code.empty() && !units_.find(in.unit_code)) {
    return makeError(Errc::kInvalidArgument, "unknown administrative unit " + in.unit_code);
  }
  CreatedKey out;
  out.secret = generateToken(kKeyPrefix);
  out.key.name = in.name;
  out.key.scope = in.scope;
  out.key.unit_code = in.unit_code;
  out.key.key_hash = hashToken(out.secret);
  out.key.prefix = out.secret.substr(0, 10);
  out.key.created_at_ms = clock_.nowUnixMs();
  ioc::Json detail = {{"name", in.name},
                      {"scope", model::scopeName(in.scope)},
                      {"unit_code", in.unit_code},
                      {"prefix", out.key.prefix}};
  auto written = store_.writeSync([&](storage::WriteTx& tx) -> core::Status {
    auto id = tx.insertApiKey(out.key);
    if (!id.ok()) return id.error();
    out.key.id = *id;
    return appendAudit(
        tx, model::makeAuditEntry(actor, "key.create", "key:" + std::to_string(out.key.id),
                                  detail.dump(), out.key.created_at_ms));
  });
  if (!written.ok()) return written.error();
  return out;
}

core::Status IdentityService::revokeKey(int64_t id, const model::Actor& actor) {
  std::string revoked_hash;
  auto keys = store_.listApiKeys();
  if (!keys.ok()) return keys.error();
  for (const auto& k : *keys) {
    if (k.id == id) revoked_hash = k.key_hash;
  }
  if (revoked_hash.empty()) return makeError(Errc::kNotFound, "no such key");
  auto written = store_.writeSync([&](storage::WriteTx& tx) -> core::Status {
    if (auto s = tx.revokeApiKey(id); !s.ok()) return s;
    return appendAudit(tx, model::makeAuditEntry(actor, "key.revoke", "key:" + std::to_string(id),
                                                 "", clock_.nowUnixMs()));
  });
  if (written.ok() && auth_) auth_->forgetCredential(revoked_hash);
  return written;
}

}  // namespace ioc::auth
