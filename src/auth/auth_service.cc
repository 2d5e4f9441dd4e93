#include "auth/auth_service.h"

#include <mutex>

#include "auth/password.h"
#include "auth/tokens.h"
#include "core/log.h"

namespace ioc::auth {

namespace {
constexpr size_t kMaxCacheEntries = 200000;
const char* kBadLogin = "invalid username or password";

bool hasPrefix(std::string_view token, std::string_view prefix) {
  return token.size() > prefix.size() + 1 && token.substr(0, prefix.size()) == prefix &&
         token[prefix.size()] == '_';
}
}  // namespace

Principal principalForUser(const model::User& user) {
  Principal p;
  p.kind = Principal::Kind::kUser;
  p.id = user.id;
  p.name = user.username;
  p.role = user.role;
  p.unit_code = user.unit_code;
  return p;
}

Principal principalForKey(const model::ApiKey& key) {
  Principal p;
  p.kind = Principal::Kind::kApiKey;
  p.id = key.id;
  p.name = key.name;
  p.scope = key.scope;
  p.unit_code = key.unit_code;
  p.token_hash = key.key_hash;
  return p;
}

model::Actor actorFor(const Principal& p, const std::string& client,
                      const std::string& request_id) {
  return model::Actor{p.actorName(), p.roleLabel(), p.unit_code, client, request_id};
}

AuthService::AuthService(storage::Store& store, const core::Clock& clock, AuthSettings settings)
    : store_(store),
      clock_(clock),
      settings_(settings),
      per_user_(settings.max_failures_per_user, settings.failure_window_ms),
      per_ip_(settings.max_failures_per_ip, settings.failure_window_ms) {}

core::Result<LoginResult> AuthService::login(std::string_view username, std::string_view password,
                                             const std::string& client,
                                             const std::string& request_id) {
  const int64_t now = clock_.nowUnixMs();
  const std::string user_key(username);
  int64_t wait_ms =
      std::max(per_user_.retryAfterMs(user_key, now), per_ip_.retryAfterMs(client, now));
  if (wait_ms > 0) {
    int secs = static_cast<int>((wait_ms + 999) / 1000);
    return core::makeError(core::Errc::kTooManyRequests, "too many failed sign-in attempts", secs);
  }
  auto found = store_.findUserByName(user_key);
  if (!found.ok()) return found.error();
  const bool ok =
      *found && !(*found)->disabled && verifyPassword((*found)->password_hash, password);
  // Unknown and disabled accounts cost one hash too, so timing tells nothing about them.
  if (!*found || (*found)->disabled) burnVerifyTime(password);
  if (!ok) {
    per_user_.recordFailure(user_key, now);
    per_ip_.recordFailure(client, now);
    core::logWarn("login failed",
                  {{"user", user_key}, {"client", client}, {"request_id", request_id}});
    return core::makeError(core::Errc::kUnauthenticated, kBadLogin);
  }
  per_user_.reset(user_key);
  const model::User& user = **found;
  LoginResult result;
  result.token = generateToken(kSessionPrefix);
  result.expires_at_ms = now + settings_.token_ttl_ms;
  result.principal = principalForUser(user);
  result.principal.token_hash = hashToken(result.token);
  model::Session session{result.principal.token_hash, user.id, now,
                         result.expires_at_ms,        false,   client};
  auto entry = model::makeAuditEntry(actorFor(result.principal, client, request_id), "auth.login",
                                     "user:" + std::to_string(user.id), "", now);
  auto written = store_.writeSync([&](storage::WriteTx& tx) -> core::Status {
    if (auto s = tx.insertSession(session); !s.ok()) return s;
    auto seq = tx.appendAudit(entry);
    return seq.ok() ? core::Status::success() : core::Status(seq.error());
  });
  if (!written.ok()) return written.error();
  remember(result.principal.token_hash, result.principal, result.expires_at_ms, now);
  return result;
}

core::Status AuthService::logout(const Principal& who, const std::string& client,
                                 const std::string& request_id) {
  if (who.kind != Principal::Kind::kUser) {
    return core::makeError(core::Errc::kInvalidArgument, "API keys are revoked, not logged out");
  }
  const int64_t now = clock_.nowUnixMs();
  auto entry = model::makeAuditEntry(actorFor(who, client, request_id), "auth.logout",
                                     "user:" + std::to_string(who.id), "", now);
  auto written = store_.writeSync([&](storage::WriteTx& tx) -> core::Status {
    if (auto s = tx.revokeSession(who.token_hash); !s.ok()) return s;
    auto seq = tx.appendAudit(entry);
    return seq.ok() ? core::Status::success() : core::Status(seq.error());
  });
  forgetCredential(who.token_hash);
  return written;
}

core::Result<Principal> AuthService::authenticate(std::string_view bearer) {
  const bool is_session = hasPrefix(bearer, kSessionPrefix);
  if (!is_session && !hasPrefix(bearer, kKeyPrefix)) {
    return core::makeError(core::Errc::kUnauthenticated, "unrecognised credential");
  }
  const std::string hash = hashToken(bearer);
  const int64_t now = clock_.nowUnixMs();
  {
    std::shared_lock lock(cache_mu_);
    auto it = cache_.find(hash);
    if (it != cache_.end() && now < it->second.recheck_at_ms && now < it->second.expires_at_ms) {
      return it->second.principal;
    }
  }
  int64_t expiry = INT64_MAX;
  auto principal = is_session ? loadSession(hash, now, &expiry) : loadKey(hash);
  if (!principal.ok()) {
    forgetCredential(hash);
    return principal.error();
  }
  remember(hash, *principal, expiry, now);
  return principal;
}

core::Result<Principal> AuthService::loadSession(const std::string& hash, int64_t now,
                                                 int64_t* expiry) {
  auto session = store_.findSession(hash);
  if (!session.ok()) return session.error();
  if (!*session || (*session)->revoked || (*session)->expires_at_ms <= now) {
    return core::makeError(core::Errc::kUnauthenticated, "session expired or revoked");
  }
  auto user = store_.findUserById((*session)->user_id);
  if (!user.ok()) return user.error();
  if (!*user || (*user)->disabled) {
    return core::makeError(core::Errc::kUnauthenticated, "account disabled");
  }
  Principal p = principalForUser(**user);
  p.token_hash = hash;
  *expiry = (*session)->expires_at_ms;
  return p;
}

core::Result<Principal> AuthService::loadKey(const std::string& hash) {
  auto key = store_.findApiKeyByHash(hash);
  if (!key.ok()) return key.error();
  if (!*key || (*key)->revoked) {
    return core::makeError(core::Errc::kUnauthenticated, "API key unknown or revoked");
  }
  return principalForKey(**key);
}

void AuthService::remember(const std::string& hash, const Principal& p, int64_t expires_at_ms,
                           int64_t now) {
  std::unique_lock lock(cache_mu_);
  if (cache_.size() >= kMaxCacheEntries) {
    for (auto it = cache_.begin(); it != cache_.end();) {
      it = it->second.recheck_at_ms <= now ? cache_.erase(it) : std::next(it);
    }
    if (cache_.size() >= kMaxCacheEntries) cache_.clear();  // correctness does not need it
  }
  cache_[hash] = Cached{p, expires_at_ms, now + settings_.cache_recheck_ms};
}

void AuthService::forgetUser(int64_t user_id) {
  std::unique_lock lock(cache_mu_);
  for (auto it = cache_.begin(); it != cache_.end();) {
    bool match =
        it->second.principal.kind == Principal::Kind::kUser && it->second.principal.id == user_id;
    it = match ? cache_.erase(it) : std::next(it);
  }
}

void AuthService::forgetCredential(const std::string& token_hash) {
  std::unique_lock lock(cache_mu_);
  cache_.erase(token_hash);
}

}  // namespace ioc::auth
