#pragma once
// Default deny: every route names one Permission; a principal gets only what its role or key
// scope grants below. kPublic is an explicit, reviewed choice, never a fallback.
#include <cstdint>
#include <optional>
#include <string>

#include "model/identity.h"

namespace ioc::auth {

enum class Permission {
  kPublic,         //!< no credentials (health, metrics, login)
  kAuthenticated,  //!< any valid user or key (who am I, logout)
  kUnitsRead,      //!< administrative units
  kUsersRead,
  kUsersManage,
  kKeysManage,
  kAuditRead,
  kIngest,       //!< telemetry and entity writes (devices, integrations)
  kContextRead,  //!< entity and time-series reads
  //! NGSI-LD subscriptions (read and write): a subscription makes the server call a URL of the
  //! caller's choosing, so it is granted apart from plain reads and ingest.
  kSubscriptionsManage,
  kSettingsManage,   //!< system-wide settings held in the store (time-series retention, …)
  kAlertsRead,       //!< alerts and their history
  kAlertsManage,     //!< acknowledge, resolve and close alerts
  kRulesManage,      //!< detection rules: what raises alerts city-wide
  kIncidentsRead,    //!< incidents, their timelines and SOP progress
  kIncidentsManage,  //!< open, assign, escalate, work SOP steps, resolve incidents; hotline calls
  //! SOP templates, routing tables, SLA policies, staff notification channels: how the centre
  //! runs, so granted to those who run it.
  kOperationsConfigure,
  kReportsRead,      //!< citizen reports as staff see them (never the reporter's identity)
  kReportsManage,    //!< triage, assign, work and resolve citizen reports
  kReportsModerate,  //!< hide, redact, edit reports; lock abusive citizen accounts
  kReportsIdentity,  //!< who reported: IOC staff only, every view audited
};
inline constexpr Permission kAllPermissions[] = {Permission::kPublic,
                                                 Permission::kAuthenticated,
                                                 Permission::kUnitsRead,
                                                 Permission::kUsersRead,
                                                 Permission::kUsersManage,
                                                 Permission::kKeysManage,
                                                 Permission::kAuditRead,
                                                 Permission::kIngest,
                                                 Permission::kContextRead,
                                                 Permission::kSubscriptionsManage,
                                                 Permission::kSettingsManage,
                                                 Permission::kAlertsRead,
                                                 Permission::kAlertsManage,
                                                 Permission::kRulesManage,
                                                 Permission::kIncidentsRead,
                                                 Permission::kIncidentsManage,
                                                 Permission::kOperationsConfigure,
                                                 Permission::kReportsRead,
                                                 Permission::kReportsManage,
                                                 Permission::kReportsModerate,
                                                 Permission::kReportsIdentity};

const char* permissionName(Permission p);
bool roleGrants(model::Role role, Permission p);
bool scopeGrants(model::KeyScope scope, Permission p);

//! An authenticated caller: a signed-in user or an API key.
struct Principal {
  enum class Kind { kUser, kApiKey };
  Kind kind = Kind::kUser;
  int64_t id = 0;
  std::string name;
  std::optional<model::Role> role;       //!< set for users
  std::optional<model::KeyScope> scope;  //!< set for keys
  std::string unit_code;                 //!< "" = the whole country
  std::string token_hash;                //!< hash of the credential used (for logout)

  bool has(Permission p) const;
  bool isAdmin() const { return role == model::Role::kAdmin; }
  //! "admin", "operator" … for users; "key:ingest" … for keys.
  std::string roleLabel() const;
  //! "alice" for users; "key:<name>" for keys.
  std::string actorName() const;
};

}  // namespace ioc::auth
