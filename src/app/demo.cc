#include "app/demo.h"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>

#include "auth/tokens.h"
#include "core/log.h"

namespace ioc::app {

core::Status seedDemo(auth::IdentityService& identity, storage::Store& store,
                      const std::string& data_dir) {
  auto existing = store.listUsers(storage::UserFilter{});
  if (!existing.ok()) return existing.error();
  if (!existing->empty()) return core::Status::success();  // seeded before: keep their passwords
  const model::Actor actor{"demo-seed", "system", "", "", ""};
  const std::string path = data_dir + "/demo-credentials.txt";
  std::ofstream out(path, std::ios::trunc);
  ::chmod(path.c_str(), 0600);
  out << "# CityIOC demo accounts (Huế). Delete this file after noting the passwords.\n";
  std::printf("\nDemo accounts (also in %s):\n", path.c_str());
  for (model::Role role : model::kAllRoles) {
    auth::NewUser user;
    user.username = std::string("demo.") + model::roleName(role);
    std::replace(user.username.begin(), user.username.end(), '_', '-');
    user.password = auth::randomHex(8);
    user.role = role;
    user.unit_code = role == model::Role::kAdmin ? "" : kDemoProvince;
    auto created = identity.createUser(user, actor);
    if (!created.ok()) return created.error();
    out << user.username << ' ' << user.password << ' ' << model::roleName(role) << '\n';
    std::printf("  %-22s %s  (%s)\n", user.username.c_str(), user.password.c_str(),
                model::roleName(role));
  }
  std::printf("\n");
  std::fflush(stdout);
  core::logInfo("demo accounts created", {{"file", path}});
  return core::Status::success();
}

core::Result<std::string> demoSimulatorKey(auth::IdentityService& identity, storage::Store& store) {
  const model::Actor actor{"demo-seed", "system", "", "", ""};
  constexpr const char* kName = "demo-simulator";
  auto keys = store.listApiKeys();
  if (!keys.ok()) return keys.error();
  for (const auto& k : *keys) {
    if (k.name == kName && !k.revoked) (void)identity.revokeKey(k.id, actor);
  }
  auto key = identity.createKey({kName, model::KeyScope::kIntegration, kDemoProvince}, actor);
  if (!key.ok()) return key.error();
  return key->secret;
}

}  // namespace ioc::app
