#include "auth/permissions.h"

namespace ioc::auth {

using model::KeyScope;
using model::Role;

const char* permissionName(Permission p) {
  switch (p) {
    case Permission::kPublic:
      return "public";
    case Permission::kAuthenticated:
      return "authenticated";
    case Permission::kUnitsRead:
      return "units:read";
    case Permission::kUsersRead:
      return "users:read";
    case Permission::kUsersManage:
      return "users:manage";
    case Permission::kKeysManage:
      return "keys:manage";
    case Permission::kAuditRead:
      return "audit:read";
    case Permission::kIngest:
      return "ingest";
    case Permission::kContextRead:
      return "context:read";
    case Permission::kSubscriptionsManage:
      return "subscriptions:manage";
    case Permission::kSettingsManage:
      return "settings:manage";
    case Permission::kAlertsRead:
      return "alerts:read";
    case Permission::kAlertsManage:
      return "alerts:manage";
    case Permission::kRulesManage:
      return "rules:manage";
    case Permission::kIncidentsRead:
      return "incidents:read";
    case Permission::kIncidentsManage:
      return "incidents:manage";
    case Permission::kOperationsConfigure:
      return "operations:configure";
    case Permission::kReportsRead:
      return "reports:read";
    case Permission::kReportsManage:
      return "reports:manage";
    case Permission::kReportsModerate:
      return "reports:moderate";
    case Permission::kReportsIdentity:
      return "reports:identity";
  }
  return "unknown";
}

bool roleGrants(Role role, Permission p) {
  switch (p) {
    case Permission::kPublic:
    case Permission::kAuthenticated:
    case Permission::kUnitsRead:
      return true;
    case Permission::kContextRead:
    case Permission::kAlertsRead:
    case Permission::kIncidentsRead:
      // Raw sensor and entity data is for staff; citizens get curated public views instead.
      return role != Role::kCitizen;
    case Permission::kAlertsManage:
      return role == Role::kAdmin || role == Role::kSupervisor || role == Role::kOperator;
    case Permission::kIncidentsManage:
      // Agency staff work the steps of the incidents routed to them.
      return role == Role::kAdmin || role == Role::kSupervisor || role == Role::kOperator ||
             role == Role::kAgencyStaff;
    case Permission::kRulesManage:
    case Permission::kOperationsConfigure:
      return role == Role::kAdmin || role == Role::kSupervisor;
    case Permission::kReportsRead:
      return role != Role::kCitizen;
    case Permission::kReportsManage:
      // Agencies answer the reports routed to them; leaders watch, they do not work them.
      return role == Role::kAdmin || role == Role::kSupervisor || role == Role::kOperator ||
             role == Role::kAgencyStaff;
    case Permission::kReportsModerate:
    case Permission::kReportsIdentity:
      // The IOC's own staff who run the channel; never agencies (the reporter is protected).
      return role == Role::kAdmin || role == Role::kSupervisor;
    case Permission::kUsersRead:
      return role == Role::kAdmin || role == Role::kSupervisor;
    case Permission::kUsersManage:
    case Permission::kKeysManage:
    case Permission::kAuditRead:
    case Permission::kSettingsManage:
      return role == Role::kAdmin;
    case Permission::kIngest:
      return role == Role::kAdmin || role == Role::kOperator;
    case Permission::kSubscriptionsManage:
      // Staff who run the operations centre wire alerts to their tools.
      return role == Role::kAdmin || role == Role::kSupervisor || role == Role::kOperator;
  }
  return false;
}

bool scopeGrants(KeyScope scope, Permission p) {
  switch (p) {
    case Permission::kPublic:
    case Permission::kAuthenticated:
    case Permission::kUnitsRead:
      return true;
    case Permission::kContextRead:
    case Permission::kAlertsRead:
    case Permission::kIncidentsRead:
    case Permission::kReportsRead:
      return scope != KeyScope::kIngest;
    case Permission::kReportsManage:
      return scope == KeyScope::kIntegration;  // agencies' own case systems
    case Permission::kIncidentsManage:
      return scope == KeyScope::kIntegration;  // hotline and dispatch systems
    case Permission::kIngest:
      return scope != KeyScope::kRead;
    case Permission::kSubscriptionsManage:
      return scope == KeyScope::kIntegration;  // systems that consume notifications
    default:
      return false;  // keys never administer users, keys or the audit log
  }
}

bool Principal::has(Permission p) const {
  if (role) return roleGrants(*role, p);
  if (scope) return scopeGrants(*scope, p);
  return p == Permission::kPublic;
}

std::string Principal::roleLabel() const {
  if (role) return model::roleName(*role);
  if (scope) return std::string("key:") + model::scopeName(*scope);
  return "anonymous";
}

std::string Principal::actorName() const {
  return kind == Kind::kApiKey ? "key:" + name : name;
}

}  // namespace ioc::auth
