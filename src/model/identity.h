#pragma once
// Who acts in the IOC: people (users with a role) and machines (API keys with a scope).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ioc::model {

enum class Role { kAdmin, kLeader, kSupervisor, kOperator, kAgencyStaff, kCitizen };
inline constexpr Role kAllRoles[] = {Role::kAdmin,    Role::kLeader,      Role::kSupervisor,
                                     Role::kOperator, Role::kAgencyStaff, Role::kCitizen};
const char* roleName(Role role);
std::optional<Role> parseRole(std::string_view name);

enum class KeyScope { kIngest, kRead, kIntegration };
inline constexpr KeyScope kAllScopes[] = {KeyScope::kIngest, KeyScope::kRead,
                                          KeyScope::kIntegration};
const char* scopeName(KeyScope scope);
std::optional<KeyScope> parseScope(std::string_view name);

struct User {
  int64_t id = 0;
  std::string username;
  Role role = Role::kCitizen;
  std::string unit_code;      //!< "" = the whole country (admin only)
  std::string password_hash;  //!< argon2id encoded string (libsodium crypto_pwhash_str)
  bool disabled = false;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

struct ApiKey {
  int64_t id = 0;
  std::string name;
  KeyScope scope = KeyScope::kRead;
  std::string unit_code;
  std::string key_hash;  //!< hex SHA-256 of the key; the key itself is never stored
  std::string prefix;    //!< first characters of the key, to recognise it in listings
  bool revoked = false;
  int64_t created_at_ms = 0;
};

struct Session {
  std::string token_hash;  //!< hex SHA-256 of the bearer token
  int64_t user_id = 0;
  int64_t created_at_ms = 0;
  int64_t expires_at_ms = 0;
  bool revoked = false;
  std::string client;
};

//! Usernames: 3–64 of [a-z0-9._-], starting with a letter or digit.
bool isValidUsername(std::string_view name);

}  // namespace ioc::model
