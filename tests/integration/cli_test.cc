// The command line: user and key administration, and serve's start-up validation.
#include <fstream>

#include "integration/harness.h"

namespace ioc::it {
namespace {

std::vector<std::string> userAdd(const std::string& dir, const std::string& username,
                                 const std::string& role, const std::string& unit = "") {
  std::vector<std::string> args = {"user",       "add",    "--data", dir,
                                   "--username", username, "--role", role};
  if (!unit.empty()) {
    args.push_back("--unit");
    args.push_back(unit);
  }
  return args;
}

std::string lastLine(const std::string& text) {
  std::string t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  size_t nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

TEST(Cli, UserAddValidatesItsInput) {
  TempDir dir;
  auto ok = runCli(userAdd(dir.path(), "hue.op", "operator", "46"), "good-password-1\n");
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("created user hue.op"), std::string::npos) << ok.out;

  auto short_pw = runCli(userAdd(dir.path(), "short.pw", "operator", "46"), "short\n");
  EXPECT_NE(short_pw.exit_code, 0) << short_pw.out;
  EXPECT_NE(short_pw.err.find("at least 10"), std::string::npos) << short_pw.err;

  auto no_pw = runCli(userAdd(dir.path(), "no.pw", "admin"), "");
  EXPECT_NE(no_pw.exit_code, 0) << no_pw.out;
  EXPECT_FALSE(no_pw.err.empty());

  auto role = runCli(userAdd(dir.path(), "mayor.one", "mayor", "46"), "good-password-1\n");
  EXPECT_NE(role.exit_code, 0) << role.out;
  EXPECT_NE(role.err.find("mayor"), std::string::npos) << role.err;

  auto dup = runCli(userAdd(dir.path(), "hue.op", "operator", "46"), "good-password-1\n");
  EXPECT_NE(dup.exit_code, 0) << dup.out;
  EXPECT_NE(dup.err.find("already"), std::string::npos) << dup.err;

  auto no_unit = runCli(userAdd(dir.path(), "unitless", "operator"), "good-password-1\n");
  EXPECT_NE(no_unit.exit_code, 0) << no_unit.out;
  EXPECT_NE(no_unit.err.find("unit"), std::string::npos) << no_unit.err;

  auto bad_unit = runCli(userAdd(dir.path(), "nowhere", "operator", "99999"), "good-password-1\n");
  EXPECT_NE(bad_unit.exit_code, 0) << bad_unit.out;
  EXPECT_NE(bad_unit.err.find("99999"), std::string::npos) << bad_unit.err;

  auto bad_name = runCli(userAdd(dir.path(), "Bad Name", "admin"), "good-password-1\n");
  EXPECT_NE(bad_name.exit_code, 0) << bad_name.out;
  EXPECT_NE(bad_name.err.find("username"), std::string::npos) << bad_name.err;

  auto flag = runCli({"user", "add", "--data", dir.path(), "--username", "x.y", "--role", "admin",
                      "--colour", "red"},
                     "good-password-1\n");
  EXPECT_NE(flag.exit_code, 0) << flag.out;
  EXPECT_NE(flag.err.find("--colour"), std::string::npos) << flag.err;

  auto missing = runCli({"user", "add", "--data", dir.path(), "--role", "admin"}, "x\n");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("--username"), std::string::npos) << missing.err;
}

TEST(Cli, KeyAddPrintsAWorkingKeyOnItsLastLine) {
  ServerProcess server;
  auto r = runCli({"key", "add", "--data", server.dataDir(), "--name", "dashboard", "--scope",
                   "read", "--unit", "46"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string key = lastLine(r.out);
  ASSERT_FALSE(key.empty()) << r.out;
  EXPECT_EQ(key.find(' '), std::string::npos) << "the last line is not the key alone: " << key;
  EXPECT_GE(key.size(), 20u) << key;

  auto bad_scope =
      runCli({"key", "add", "--data", server.dataDir(), "--name", "x", "--scope", "superuser"});
  EXPECT_NE(bad_scope.exit_code, 0);
  EXPECT_NE(bad_scope.err.find("scope"), std::string::npos) << bad_scope.err;

  ASSERT_TRUE(server.start());
  auto units = get(server.port(), "/api/v1/units", key);
  EXPECT_EQ(units.status, 200u) << units.describe();
  EXPECT_GT(units.json().value("total", 0), 1) << units.body;
  auto me = get(server.port(), "/api/v1/auth/me", key);
  ASSERT_EQ(me.status, 200u) << me.describe();
  EXPECT_EQ(me.json().value("kind", ""), "api_key");
  EXPECT_EQ(me.json().value("scope", ""), "read");
  EXPECT_EQ(me.json().value("unit_code", ""), "46");
  // A read key reads nothing outside its unit and administers nothing.
  EXPECT_EQ(get(server.port(), "/api/v1/units/01", key).status, 404u);
  EXPECT_EQ(get(server.port(), "/api/v1/users", key).status, 403u);
  EXPECT_EQ(server.terminate(), 0) << server.stderrText();
}

TEST(Cli, ServeRefusesBadSettingsAndNamesThem) {
  TempDir dir;
  auto serve = [&](std::vector<std::string> args, const Env& env = {}) {
    args.insert(args.begin(), {"serve", "--data", dir.path()});
    return runCli(args, "", env, 60s);  // a mistake here would serve forever
  };
  auto listen = serve({"--listen", "nonsense"});
  EXPECT_NE(listen.exit_code, 0);
  EXPECT_NE(listen.exit_code, -1) << "it started serving";
  EXPECT_TRUE(listen.err.find("--listen") != std::string::npos ||
              listen.err.find("server.listen") != std::string::npos)
      << listen.err;

  auto port = serve({"--listen", "127.0.0.1:99999"});
  EXPECT_NE(port.exit_code, 0);
  EXPECT_NE(port.exit_code, -1) << "it started serving";
  EXPECT_NE(port.err.find("listen"), std::string::npos) << port.err;

  auto flag = serve({"--listen", "127.0.0.1:0", "--frobnicate", "1"});
  EXPECT_NE(flag.exit_code, 0);
  EXPECT_NE(flag.exit_code, -1) << "it started serving";
  EXPECT_NE(flag.err.find("--frobnicate"), std::string::npos) << flag.err;

  auto env = serve({"--listen", "127.0.0.1:0"}, {{"CITYIOC_AUTH_TOKEN_TTL_S", "forever"}});
  EXPECT_NE(env.exit_code, 0);
  EXPECT_NE(env.exit_code, -1) << "it started serving";
  EXPECT_NE(env.err.find("CITYIOC_AUTH_TOKEN_TTL_S"), std::string::npos) << env.err;

  const std::string config = dir.path() + "/cityioc.toml";
  std::ofstream(config) << "[server]\nlisten = \"127.0.0.1:0\"\nmax_connectoins = 5\n";
  auto file = serve({"--config", config});
  EXPECT_NE(file.exit_code, 0);
  EXPECT_NE(file.exit_code, -1) << "it started serving";
  EXPECT_NE(file.err.find("server.max_connectoins"), std::string::npos) << file.err;

  auto missing = serve({"--config", dir.path() + "/nope.toml"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.exit_code, -1) << "it started serving";
  EXPECT_NE(missing.err.find("nope.toml"), std::string::npos) << missing.err;
}

TEST(Cli, UnknownCommandFailsAndHelpWorks) {
  auto r = runCli({"frobnicate"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("frobnicate"), std::string::npos) << r.err;
  auto help = runCli({"serve", "--help"});
  EXPECT_EQ(help.exit_code, 0) << help.err;
  EXPECT_NE(help.out.find("CITYIOC_SERVER_LISTEN"), std::string::npos) << help.out;
  auto version = runCli({"version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out.rfind("cityioc ", 0), 0u) << version.out;
}

TEST(Cli, AuditVerifyOnAFreshStore) {
  TempDir dir;
  addUserCli(dir.path(), kAdminUser, kAdminPassword, "admin");
  auto r = runCli({"audit", "verify", "--data", dir.path()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("1 entries"), std::string::npos) << r.out;
  auto no_data = runCli({"audit", "verify"});
  EXPECT_NE(no_data.exit_code, 0);
  EXPECT_NE(no_data.err.find("--data"), std::string::npos) << no_data.err;
}

}  // namespace
}  // namespace ioc::it
