#include "auth/permissions.h"

#include <gtest/gtest.h>

#include <array>
#include <map>
#include <set>
#include <string>

namespace ioc::auth {
namespace {

using model::KeyScope;
using model::Role;
using P = Permission;

// The reviewed access matrix, written out in full so that any change to permissions.cc shows up
// here as a failing cell. Columns follow kAllPermissions:
//   public, authenticated, units:read, users:read, users:manage, keys:manage, audit:read, ingest,
//   context:read, subscriptions:manage, settings:manage, alerts:read, alerts:manage, rules:manage,
//   incidents:read, incidents:manage, operations:configure, reports:read, reports:manage,
//   reports:moderate, reports:identity
constexpr int kColumns = 21;
const std::map<Role, std::array<bool, kColumns>> kRoleMatrix = {
    {Role::kAdmin, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {Role::kLeader, {1, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0}},
    {Role::kSupervisor, {1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {Role::kOperator, {1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 0}},
    {Role::kAgencyStaff, {1, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 1, 0, 1, 1, 0, 0}},
    {Role::kCitizen, {1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
};
const std::map<KeyScope, std::array<bool, kColumns>> kScopeMatrix = {
    {KeyScope::kIngest, {1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
    {KeyScope::kRead, {1, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0}},
    {KeyScope::kIntegration, {1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 1, 0, 0}},
};

TEST(Permissions, ColumnsMatchKAllPermissions) {
  ASSERT_EQ(std::size(kAllPermissions), static_cast<size_t>(kColumns));
  const P expected[kColumns] = {P::kPublic,
                                P::kAuthenticated,
                                P::kUnitsRead,
                                P::kUsersRead,
                                P::kUsersManage,
                                P::kKeysManage,
                                P::kAuditRead,
                                P::kIngest,
                                P::kContextRead,
                                P::kSubscriptionsManage,
                                P::kSettingsManage,
                                P::kAlertsRead,
                                P::kAlertsManage,
                                P::kRulesManage,
                                P::kIncidentsRead,
                                P::kIncidentsManage,
                                P::kOperationsConfigure,
                                P::kReportsRead,
                                P::kReportsManage,
                                P::kReportsModerate,
                                P::kReportsIdentity};
  for (int i = 0; i < kColumns; ++i) EXPECT_EQ(kAllPermissions[i], expected[i]) << i;
}

TEST(Permissions, RoleMatrix) {
  ASSERT_EQ(kRoleMatrix.size(), std::size(model::kAllRoles));
  for (Role role : model::kAllRoles) {
    const auto& row = kRoleMatrix.at(role);
    for (int i = 0; i < kColumns; ++i) {
      const P p = kAllPermissions[i];
      EXPECT_EQ(roleGrants(role, p), row[static_cast<size_t>(i)])
          << model::roleName(role) << " × " << permissionName(p);
      Principal user;
      user.kind = Principal::Kind::kUser;
      user.role = role;
      EXPECT_EQ(user.has(p), row[static_cast<size_t>(i)])
          << "Principal " << model::roleName(role) << " × " << permissionName(p);
    }
  }
}

TEST(Permissions, ScopeMatrix) {
  ASSERT_EQ(kScopeMatrix.size(), std::size(model::kAllScopes));
  for (KeyScope scope : model::kAllScopes) {
    const auto& row = kScopeMatrix.at(scope);
    for (int i = 0; i < kColumns; ++i) {
      const P p = kAllPermissions[i];
      EXPECT_EQ(scopeGrants(scope, p), row[static_cast<size_t>(i)])
          << model::scopeName(scope) << " × " << permissionName(p);
      Principal key;
      key.kind = Principal::Kind::kApiKey;
      key.scope = scope;
      EXPECT_EQ(key.has(p), row[static_cast<size_t>(i)])
          << "key " << model::scopeName(scope) << " × " << permissionName(p);
    }
  }
}

TEST(Permissions, NoKeyEverAdministers) {
  for (KeyScope scope : model::kAllScopes) {
    for (P p : {P::kUsersRead, P::kUsersManage, P::kKeysManage, P::kAuditRead}) {
      EXPECT_FALSE(scopeGrants(scope, p)) << model::scopeName(scope) << " " << permissionName(p);
    }
  }
}

TEST(Permissions, OnlyAdminManagesUsersKeysAndAudit) {
  for (Role role : model::kAllRoles) {
    for (P p : {P::kUsersManage, P::kKeysManage, P::kAuditRead}) {
      EXPECT_EQ(roleGrants(role, p), role == Role::kAdmin)
          << model::roleName(role) << " " << permissionName(p);
    }
  }
}

TEST(Permissions, AnonymousPrincipalHasOnlyPublic) {
  Principal nobody;
  for (P p : kAllPermissions) EXPECT_EQ(nobody.has(p), p == P::kPublic) << permissionName(p);
  EXPECT_EQ(nobody.roleLabel(), "anonymous");
}

TEST(Permissions, NamesAreDistinctAndKnown) {
  std::set<std::string> names;
  for (P p : kAllPermissions) {
    std::string n = permissionName(p);
    EXPECT_NE(n, "unknown");
    EXPECT_FALSE(n.empty());
    names.insert(n);
  }
  EXPECT_EQ(names.size(), std::size(kAllPermissions));
  EXPECT_STREQ(permissionName(P::kUsersManage), "users:manage");
  EXPECT_STREQ(permissionName(P::kContextRead), "context:read");
}

TEST(Permissions, LabelsAndActorNames) {
  Principal user;
  user.kind = Principal::Kind::kUser;
  user.name = "alice";
  user.role = Role::kAgencyStaff;
  EXPECT_EQ(user.roleLabel(), "agency_staff");
  EXPECT_EQ(user.actorName(), "alice");
  EXPECT_FALSE(user.isAdmin());
  user.role = Role::kAdmin;
  EXPECT_TRUE(user.isAdmin());

  Principal key;
  key.kind = Principal::Kind::kApiKey;
  key.name = "gateway";
  key.scope = KeyScope::kIntegration;
  EXPECT_EQ(key.roleLabel(), "key:integration");
  EXPECT_EQ(key.actorName(), "key:gateway");
  EXPECT_FALSE(key.isAdmin());
}

}  // namespace
}  // namespace ioc::auth
