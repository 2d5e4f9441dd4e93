#pragma once
// Creating and changing users and API keys, each change audited in the same transaction.
// Used by the HTTP API and by the CLI (`cityioc user add`, `cityioc key add`). Blocking: call from
// a worker thread or the CLI.
#include <optional>
#include <string>

#include "auth/auth_service.h"
#include "core/clock.h"
#include "storage/store.h"
#include "units/catalog.h"

namespace ioc::auth {

struct NewUser {
  std::string username;
  std::string password;
  model::Role role = model::Role::kCitizen;
  std::string unit_code;
};

struct UserPatch {
  std::optional<model::Role> role;
  std::optional<std::string> unit_code;
  std::optional<std::string> password;
  std::optional<bool> disabled;
};

struct NewKey {
  std::string name;
  model::KeyScope scope = model::KeyScope::kRead;
  std::string unit_code;
};

struct CreatedKey {
  model::ApiKey key;
  std::string secret;  //!< shown once, never stored
};

class IdentityService {
 public:
  //! `auth` may be null (the CLI has no credential cache to invalidate).
  IdentityService(storage::Store& store, const units::UnitCatalog& units, const core::Clock& clock,
                  AuthService* auth);

  core::Result<model::User> createUser(const NewUser& in, const model::Actor& actor);
  core::Result<model::User> updateUser(int64_t id, const UserPatch& patch,
                                       const model::Actor& actor);
  core::Result<CreatedKey> createKey(const NewKey& in, const model::Actor& actor);
  core::Status revokeKey(int64_t id, const model::Actor& actor);

 private:
  core::Status checkUnit(model::Role role, const std::string& unit_code) const;

  storage::Store& store_;
  const units::UnitCatalog& units_;
  const core::Clock& clock_;
  AuthService* auth_;
};

}  // namespace ioc::auth
