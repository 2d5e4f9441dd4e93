#include "model/identity.h"

namespace ioc::model {

const char* roleName(Role role) {
  switch (role) {
    case Role::kAdmin:
      return "admin";
    case Role::kLeader:
      return "leader";
    case Role::kSupervisor:
      return "supervisor";
    case Role::kOperator:
      return "operator";
    case Role::kAgencyStaff:
      return "agency_staff";
    case Role::kCitizen:
      return "citizen";
  }
  return "citizen";
}

std::optional<Role> parseRole(std::string_view name) {
  for (Role r : kAllRoles) {
    if (name == roleName(r)) return r;
  }
  return std::nullopt;
}

const char* scopeName(KeyScope scope) {
  switch (scope) {
    case KeyScope::kIngest:
      return "ingest";
    case KeyScope::kRead:
      return "read";
    case KeyScope::kIntegration:
      return "integration";
  }
  return "read";
}

std::optional<KeyScope> parseScope(std::string_view name) {
  for (KeyScope s : kAllScopes) {
    if (name == scopeName(s)) return s;
  }
  return std::nullopt;
}

bool isValidUsername(std::string_view name) {
  if (name.size() < 3 || name.size() > 64) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return false;
  }
  return true;
}

}  // namespace ioc::model
