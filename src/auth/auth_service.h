#pragma once
// Sign-in, sign-out and bearer-credential checks.
// Thread-safety: all methods may be called concurrently. login/logout block (argon2id and a
// durable write): call them from a worker thread, never from an I/O thread. authenticate() is the
// per-request hot path: a SHA-256 and a shared-locked cache lookup when the credential is warm.
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/permissions.h"
#include "auth/rate_limiter.h"
#include "core/clock.h"
#include "core/result.h"
#include "storage/store.h"

namespace ioc::auth {

struct AuthSettings {
  int64_t token_ttl_ms = 12 * 3600 * 1000;
  int max_failures_per_user = 5;
  int max_failures_per_ip = 20;
  int64_t failure_window_ms = 15 * 60 * 1000;
  //! How long a cached credential is trusted before the store is asked again; bounds how long
  //! a revocation made by another process (the CLI) takes to bite.
  int64_t cache_recheck_ms = 30 * 1000;
};

struct LoginResult {
  std::string token;
  int64_t expires_at_ms = 0;
  Principal principal;
};

class AuthService {
 public:
  AuthService(storage::Store& store, const core::Clock& clock, AuthSettings settings);

  core::Result<LoginResult> login(std::string_view username, std::string_view password,
                                  const std::string& client, const std::string& request_id);
  core::Status logout(const Principal& who, const std::string& client,
                      const std::string& request_id);
  core::Result<Principal> authenticate(std::string_view bearer);

  //! Drop cached credentials after a change made in this process (role, disable, revoke).
  void forgetUser(int64_t user_id);
  void forgetCredential(const std::string& token_hash);

 private:
  struct Cached {
    Principal principal;
    int64_t expires_at_ms;
    int64_t recheck_at_ms;
  };
  core::Result<Principal> loadSession(const std::string& token_hash, int64_t now, int64_t* expiry);
  core::Result<Principal> loadKey(const std::string& key_hash);
  void remember(const std::string& hash, const Principal& p, int64_t expires_at_ms, int64_t now);

  storage::Store& store_;
  const core::Clock& clock_;
  AuthSettings settings_;
  FailureLimiter per_user_;
  FailureLimiter per_ip_;
  std::shared_mutex cache_mu_;
  std::unordered_map<std::string, Cached> cache_;
};

Principal principalForUser(const model::User& user);
Principal principalForKey(const model::ApiKey& key);
model::Actor actorFor(const Principal& p, const std::string& client, const std::string& request_id);

}  // namespace ioc::auth
