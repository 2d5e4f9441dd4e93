#include "core/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace ioc::core {
namespace {

namespace fs = std::filesystem;
using Args = std::vector<std::string>;
using Env = std::map<std::string, std::string>;

EnvLookup envFrom(Env vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "ioc_config_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string writeToml(const std::string& text, const std::string& name = "cityioc.toml") {
    fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }

  //! Loads expecting failure; returns the message.
  std::string loadError(const Args& args, Env env = {}) {
    auto r = loadServeConfig(args, envFrom(std::move(env)));
    EXPECT_FALSE(r.ok());
    if (r.ok()) return "";
    EXPECT_EQ(r.error().code, Errc::kInvalidArgument) << r.error().message;
    return r.error().message;
  }

  ServeConfig load(const Args& args, Env env = {}) {
    auto r = loadServeConfig(args, envFrom(std::move(env)));
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? r.value() : ServeConfig{};
  }

  fs::path dir_;
};

TEST_F(ConfigTest, Defaults) {
  ServeConfig c = load({});
  EXPECT_EQ(c.listen_host, "127.0.0.1");
  EXPECT_EQ(c.listen_port, 8080);
  EXPECT_EQ(c.io_threads, 0);
  EXPECT_EQ(c.max_connections, 10000);
  EXPECT_EQ(c.max_header_bytes, 16384);
  EXPECT_EQ(c.max_body_bytes, 1048576);
  EXPECT_EQ(c.read_timeout_ms, 10000);
  EXPECT_EQ(c.idle_timeout_ms, 60000);
  EXPECT_EQ(c.shutdown_grace_ms, 10000);
  EXPECT_EQ(c.web_root, "");
  EXPECT_EQ(c.data_dir, "./var");
  EXPECT_EQ(c.busy_timeout_ms, 5000);
  EXPECT_EQ(c.units_file, "");
  EXPECT_EQ(c.token_ttl_s, 43200);
  EXPECT_EQ(c.login_max_failures_per_user, 5);
  EXPECT_EQ(c.login_max_failures_per_ip, 20);
  EXPECT_EQ(c.login_window_s, 900);
  EXPECT_EQ(c.log_level, "info");
  EXPECT_TRUE(c.access_log);
  EXPECT_FALSE(c.demo);
  EXPECT_EQ(c.config_file, "");
}

TEST_F(ConfigTest, FileLayer) {
  std::string path = writeToml(R"(
[server]
listen = "0.0.0.0:9000"
io_threads = 4
max_connections = 50
max_body_bytes = 1073741824
web_root = "/srv/web"

[store]
data_dir = "/data"
units_file = "/u.json"

[auth]
token_ttl_s = 3600

[log]
level = "debug"
access = false

[demo]
enabled = true
)");
  ServeConfig c = load({"--config", path});
  EXPECT_EQ(c.config_file, path);
  EXPECT_EQ(c.listen_host, "0.0.0.0");
  EXPECT_EQ(c.listen_port, 9000);
  EXPECT_EQ(c.io_threads, 4);
  EXPECT_EQ(c.max_connections, 50);
  EXPECT_EQ(c.max_body_bytes, 1073741824);
  EXPECT_EQ(c.web_root, "/srv/web");
  EXPECT_EQ(c.data_dir, "/data");
  EXPECT_EQ(c.units_file, "/u.json");
  EXPECT_EQ(c.token_ttl_s, 3600);
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_FALSE(c.access_log);
  EXPECT_TRUE(c.demo);
  // Untouched settings keep their defaults.
  EXPECT_EQ(c.idle_timeout_ms, 60000);
}

TEST_F(ConfigTest, ConfigFileFromEnvironment) {
  std::string path = writeToml("[server]\nio_threads = 3\n");
  ServeConfig c = load({}, {{"CITYIOC_CONFIG", path}});
  EXPECT_EQ(c.config_file, path);
  EXPECT_EQ(c.io_threads, 3);
}

TEST_F(ConfigTest, ConfigFlagBeatsConfigEnv) {
  std::string a = writeToml("[server]\nio_threads = 1\n", "a.toml");
  std::string b = writeToml("[server]\nio_threads = 2\n", "b.toml");
  ServeConfig c = load({"--config=" + b}, {{"CITYIOC_CONFIG", a}});
  EXPECT_EQ(c.config_file, b);
  EXPECT_EQ(c.io_threads, 2);
}

TEST_F(ConfigTest, EnvironmentLayer) {
  ServeConfig c = load({}, {{"CITYIOC_SERVER_LISTEN", "localhost:81"},
                            {"CITYIOC_SERVER_MAX_CONNECTIONS", "7"},
                            {"CITYIOC_STORE_DATA_DIR", "/env/data"},
                            {"CITYIOC_AUTH_LOGIN_MAX_FAILURES_PER_IP", "99"},
                            {"CITYIOC_LOG_LEVEL", "WARN"},
                            {"CITYIOC_LOG_ACCESS", "no"},
                            {"CITYIOC_DEMO_ENABLED", "yes"}});
  EXPECT_EQ(c.listen_host, "localhost");
  EXPECT_EQ(c.listen_port, 81);
  EXPECT_EQ(c.max_connections, 7);
  EXPECT_EQ(c.data_dir, "/env/data");
  EXPECT_EQ(c.login_max_failures_per_ip, 99);
  EXPECT_EQ(c.log_level, "warn");  // normalized
  EXPECT_FALSE(c.access_log);
  EXPECT_TRUE(c.demo);
}

TEST_F(ConfigTest, BoolSpellings) {
  for (const auto& [text, want] : std::vector<std::pair<std::string, bool>>{{"true", true},
                                                                            {"1", true},
                                                                            {"yes", true},
                                                                            {"TRUE", true},
                                                                            {"false", false},
                                                                            {"0", false},
                                                                            {"no", false}}) {
    EXPECT_EQ(load({}, {{"CITYIOC_DEMO_ENABLED", text}}).demo, want) << text;
    EXPECT_EQ(load({"--demo=" + text}).demo, want) << text;
  }
}

TEST_F(ConfigTest, FlagLayerBothForms) {
  ServeConfig c = load({"--listen", "127.0.0.1:0", "--data=/tmp/x", "--io-threads", "2",
                        "--web-root=/w", "--units-file", "/units.json", "--log-level=error"});
  EXPECT_EQ(c.listen_host, "127.0.0.1");
  EXPECT_EQ(c.listen_port, 0);
  EXPECT_EQ(c.data_dir, "/tmp/x");
  EXPECT_EQ(c.io_threads, 2);
  EXPECT_EQ(c.web_root, "/w");
  EXPECT_EQ(c.units_file, "/units.json");
  EXPECT_EQ(c.log_level, "error");
}

TEST_F(ConfigTest, DemoFlagWithoutValueDoesNotConsumeNext) {
  ServeConfig c = load({"--demo", "--listen", "127.0.0.1:1"});
  EXPECT_TRUE(c.demo);
  EXPECT_EQ(c.listen_port, 1);
  EXPECT_FALSE(load({"--demo=false"}).demo);
}

TEST_F(ConfigTest, Precedence) {
  std::string path = writeToml(R"(
[server]
listen = "10.0.0.1:1"
io_threads = 1
max_connections = 1
)");
  Env env = {{"CITYIOC_SERVER_LISTEN", "10.0.0.2:2"}, {"CITYIOC_SERVER_IO_THREADS", "2"}};
  ServeConfig c = load({"--config", path, "--listen", "10.0.0.3:3"}, env);
  EXPECT_EQ(c.listen_host, "10.0.0.3");  // flag beats env and file
  EXPECT_EQ(c.listen_port, 3);
  EXPECT_EQ(c.io_threads, 2);       // env beats file
  EXPECT_EQ(c.max_connections, 1);  // file beats default
  EXPECT_EQ(c.max_header_bytes, 16384);
}

TEST_F(ConfigTest, LastFlagWins) {
  EXPECT_EQ(load({"--io-threads=1", "--io-threads=5"}).io_threads, 5);
}

TEST_F(ConfigTest, ListenForms) {
  ServeConfig v6 = load({"--listen", "[::1]:8443"});
  EXPECT_EQ(v6.listen_host, "::1");
  EXPECT_EQ(v6.listen_port, 8443);
  ServeConfig any6 = load({"--listen=[::]:0"});
  EXPECT_EQ(any6.listen_host, "::");
  EXPECT_EQ(any6.listen_port, 0);
  ServeConfig name = load({"--listen", "api.example-city.vn:65535"});
  EXPECT_EQ(name.listen_host, "api.example-city.vn");
  EXPECT_EQ(name.listen_port, 65535);
}

TEST_F(ConfigTest, ListenErrors) {
  EXPECT_EQ(loadError({"--listen", "abc"}), "flag --listen: expected HOST:PORT (got \"abc\")");
  EXPECT_EQ(loadError({}, {{"CITYIOC_SERVER_LISTEN", "127.0.0.1:99999"}}),
            "environment CITYIOC_SERVER_LISTEN: port must be 0..65535 (got \"99999\")");
  EXPECT_EQ(loadError({"--listen=:80"}), "flag --listen: host must not be empty (got \":80\")");
  EXPECT_EQ(loadError({"--listen=h:"}), "flag --listen: port must be 0..65535 (got \"\")");
  EXPECT_EQ(loadError({"--listen=h:-1"}), "flag --listen: port must be 0..65535 (got \"-1\")");
  EXPECT_EQ(loadError({"--listen=h:8x"}), "flag --listen: port must be 0..65535 (got \"8x\")");
  EXPECT_NE(loadError({"--listen=::1:80"}).find("bracketed"), std::string::npos);
  EXPECT_NE(loadError({"--listen=[::1]"}).find("expected [IPV6]:PORT"), std::string::npos);
  EXPECT_NE(loadError({"--listen=[zz]:80"}).find("invalid IPv6"), std::string::npos);
  EXPECT_NE(loadError({"--listen=300.1.1.1:80"}).find("invalid IPv4"), std::string::npos);
  EXPECT_NE(loadError({"--listen=bad_host:80"}).find("invalid hostname"), std::string::npos);
}

TEST_F(ConfigTest, IntErrors) {
  EXPECT_EQ(loadError({}, {{"CITYIOC_SERVER_IO_THREADS", "4x"}}),
            "environment CITYIOC_SERVER_IO_THREADS: expected an integer (got \"4x\")");
  EXPECT_EQ(loadError({"--io-threads", " 4"}),
            "flag --io-threads: expected an integer (got \" 4\")");
  EXPECT_EQ(loadError({"--io-threads", ""}), "flag --io-threads: expected an integer (got \"\")");
  EXPECT_EQ(loadError({"--io-threads=99999999999999999999"}),
            "flag --io-threads: expected an integer (got \"99999999999999999999\")");
  EXPECT_EQ(loadError({"--io-threads=257"}),
            "flag --io-threads: must be between 0 and 256 (got 257)");
  EXPECT_EQ(loadError({}, {{"CITYIOC_SERVER_MAX_BODY_BYTES", "1073741825"}}),
            "environment CITYIOC_SERVER_MAX_BODY_BYTES: must be between 1024 and 1073741824 "
            "(got 1073741825)");
}

TEST_F(ConfigTest, OtherValueErrors) {
  EXPECT_EQ(loadError({"--demo=maybe"}),
            "flag --demo: expected true/false/1/0/yes/no (got \"maybe\")");
  EXPECT_EQ(loadError({"--log-level", "trace"}),
            "flag --log-level: must be one of debug, info, warn, error (got \"trace\")");
  EXPECT_EQ(loadError({"--data="}), "flag --data: must not be empty");
}

TEST_F(ConfigTest, FlagErrors) {
  EXPECT_EQ(loadError({"--foo"}), "unknown flag --foo");
  EXPECT_EQ(loadError({"--foo=1"}), "unknown flag --foo");
  EXPECT_EQ(loadError({"-x"}), "unknown flag -x");
  EXPECT_EQ(loadError({"stray"}), "unexpected argument \"stray\"");
  EXPECT_EQ(loadError({"--listen"}), "flag --listen: missing value");
  EXPECT_EQ(loadError({"--config"}), "flag --config: missing value");
  EXPECT_EQ(loadError({"--config="}), "flag --config: must not be empty");
  // Flags without a flag entry in the table are not accepted.
  EXPECT_EQ(loadError({"--max-connections=5"}), "unknown flag --max-connections");
}

TEST_F(ConfigTest, FileRangeError) {
  std::string path = writeToml("[server]\nmax_connections = 0\n");
  EXPECT_EQ(
      loadError({"--config", path}),
      "config file " + path + ": server.max_connections: must be between 1 and 1000000 (got 0)");
}

TEST_F(ConfigTest, FileUnknownKeys) {
  std::string typo = writeToml("[server]\nlisen = \"1.2.3.4:5\"\n", "typo.toml");
  EXPECT_EQ(loadError({"--config", typo}), "config file " + typo + ": unknown key server.lisen");
  std::string top = writeToml("listen = \"1.2.3.4:5\"\n", "top.toml");
  EXPECT_EQ(loadError({"--config", top}), "config file " + top + ": unknown key listen");
  std::string section = writeToml("[sever]\n", "section.toml");
  EXPECT_EQ(loadError({"--config", section}),
            "config file " + section + ": unknown section [sever]");
  std::string nested = writeToml("[server.tls]\ncert = \"x\"\n", "nested.toml");
  EXPECT_EQ(loadError({"--config", nested}), "config file " + nested + ": unknown key server.tls");
  std::string not_table = writeToml("server = 1\n", "nottable.toml");
  EXPECT_EQ(loadError({"--config", not_table}),
            "config file " + not_table + ": server: expected table (got integer)");
}

TEST_F(ConfigTest, FileWrongType) {
  std::string a = writeToml("[server]\nio_threads = \"4\"\n", "a.toml");
  EXPECT_EQ(loadError({"--config", a}),
            "config file " + a + ": server.io_threads: expected integer (got string)");
  std::string b = writeToml("[server]\nlisten = 8080\n", "b.toml");
  EXPECT_EQ(loadError({"--config", b}),
            "config file " + b + ": server.listen: expected string (got integer)");
  std::string c = writeToml("[log]\naccess = \"yes\"\n", "c.toml");
  EXPECT_EQ(loadError({"--config", c}),
            "config file " + c + ": log.access: expected boolean (got string)");
  std::string d = writeToml("[server]\nio_threads = 4.0\n", "d.toml");
  EXPECT_EQ(loadError({"--config", d}),
            "config file " + d + ": server.io_threads: expected integer (got float)");
}

TEST_F(ConfigTest, FileValueErrorsUseSameValidation) {
  std::string path = writeToml("[server]\nlisten = \"abc\"\n");
  EXPECT_EQ(loadError({"--config", path}),
            "config file " + path + ": server.listen: expected HOST:PORT (got \"abc\")");
}

TEST_F(ConfigTest, FileSyntaxError) {
  std::string path = writeToml("[server]\nio_threads = 4\nlisten = \n");
  std::string msg = loadError({"--config", path});
  EXPECT_EQ(msg.rfind("config file " + path + ": line 3, column ", 0), 0u) << msg;
}

TEST_F(ConfigTest, FileDuplicateKeyIsSyntaxError) {
  std::string path = writeToml("[server]\nio_threads = 4\nio_threads = 5\n");
  std::string msg = loadError({"--config", path});
  EXPECT_NE(msg.find("line 3"), std::string::npos) << msg;
}

TEST_F(ConfigTest, UnreadableFile) {
  std::string missing = (dir_ / "missing.toml").string();
  std::string msg = loadError({"--config", missing});
  EXPECT_EQ(msg.rfind("config file " + missing + ": cannot open: ", 0), 0u) << msg;
  std::string is_dir = dir_.string();
  msg = loadError({"--config", is_dir});
  EXPECT_EQ(msg.rfind("config file " + is_dir + ": cannot ", 0), 0u) << msg;
}

TEST_F(ConfigTest, BadEnvIsReportedEvenIfFlagOverrides) {
  // Every source is validated, so a broken deployment variable never hides behind a flag.
  EXPECT_EQ(loadError({"--io-threads=1"}, {{"CITYIOC_SERVER_IO_THREADS", "x"}}),
            "environment CITYIOC_SERVER_IO_THREADS: expected an integer (got \"x\")");
}

TEST(ConfigReference, ListsEverySetting) {
  std::string ref = configReference();
  for (const char* needle :
       {"`server.listen`", "`--listen`", "`CITYIOC_SERVER_LISTEN`", "`127.0.0.1:8080`",
        "`auth.login_max_failures_per_user`", "`CITYIOC_AUTH_LOGIN_MAX_FAILURES_PER_USER`",
        "`demo.enabled`", "`--demo`", "`--config FILE`", "`CITYIOC_CONFIG`"}) {
    EXPECT_NE(ref.find(needle), std::string::npos) << needle;
  }
}

TEST(ConfigReference, DocIsUpToDate) {
  std::ifstream in(std::string(IOC_SOURCE_DIR) + "/docs/CONFIGURATION.md");
  ASSERT_TRUE(in) << "docs/CONFIGURATION.md missing";
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_NE(ss.str().find(configReference()), std::string::npos)
      << "docs/CONFIGURATION.md is out of date; replace its table with:\n"
      << configReference();
}

TEST(ProcessEnv, ReadsRealEnvironment) {
  ASSERT_EQ(setenv("CITYIOC_TEST_PROCESS_ENV", "v", 1), 0);  // NOLINT(concurrency-mt-unsafe)
  EnvLookup env = processEnv();
  EXPECT_EQ(env("CITYIOC_TEST_PROCESS_ENV"), std::optional<std::string>("v"));
  unsetenv("CITYIOC_TEST_PROCESS_ENV");  // NOLINT(concurrency-mt-unsafe)
  EXPECT_EQ(env("CITYIOC_TEST_PROCESS_ENV"), std::nullopt);
}

}  // namespace
}  // namespace ioc::core
