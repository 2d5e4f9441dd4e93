#include "app/cli.h"

#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <iostream>
#include <map>
#include <thread>

#include "api/api.h"
#include "app/application.h"
#include "app/import_csv.h"
#include "app/paths.h"
#include "audit/verify.h"
#include "auth/identity_service.h"
#include "core/config.h"
#include "core/json.h"
#include "core/log.h"
#include "mqtt/ingest.h"
#include "sim/simulator.h"

namespace ioc::app {

namespace {

constexpr const char* kUsage = R"(cityioc — Intelligent Operations Center server

Usage:
  cityioc serve [--listen HOST:PORT] [--data DIR] [--config FILE] [--demo] [...]
  cityioc user add --data DIR --username U --role ROLE [--unit CODE]   (password on stdin)
  cityioc key add --data DIR --name N --scope ingest|read|integration [--unit CODE]
  cityioc audit verify --data DIR
  cityioc simulate --url http://HOST:PORT --key KEY [--devices N] [--interval-ms MS | --rate R]
                   [--ticks N] [--mqtt mqtt://HOST:PORT [--mqtt-qos 0|1] [--mqtt-prefix P]]
                            run the simulated Huế city (60..100000 devices; R device reports/s)
                            against a running server; with --mqtt the air-quality, river,
                            streetlight and waste-bin devices publish through that broker
  cityioc import csv --data DIR FILE --entity-type T [--entity-id ID | --id-column C]
                   [--time-column C] [--attr COLUMN=NAME[:UNITCODE]]... [--unit CODE]
                   [--context URL]
                            load a CSV history as time-series points (server stopped)
  cityioc routes            the HTTP routes with the permission each needs (JSON)
  cityioc version
  cityioc serve --help      every setting, its flag, environment variable and default

Roles: admin, leader, supervisor, operator, agency_staff, citizen.
)";

//! "--name value" / "--name=value" options of a CLI subcommand; unknown names are errors.
struct Options {
  std::map<std::string, std::string> values;
  std::string error;
};

Options parseOptions(const std::vector<std::string>& args, size_t from,
                     std::initializer_list<std::string_view> known) {
  Options o;
  for (size_t i = from; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg.rfind("--", 0) != 0) {
      o.error = "unexpected argument " + arg;
      return o;
    }
    std::string name = arg.substr(2);
    std::string value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      o.error = "--" + name + " needs a value";
      return o;
    }
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      o.error = "unknown option --" + name;
      return o;
    }
    o.values[name] = value;
  }
  return o;
}

int fail(const std::string& message) {
  std::fprintf(stderr, "cityioc: %s\n", message.c_str());
  return 2;
}

std::string osUser() {
  const char* u = std::getenv("USER");  // NOLINT(concurrency-mt-unsafe): single-threaded CLI
  return u ? u : "unknown";
}

model::Actor cliActor() {
  return model::Actor{"cli:" + osUser(), "cli", "", "", ""};
}

int serve(const std::vector<std::string>& args) {
  std::vector<std::string> rest(args.begin() + 1, args.end());
  for (const auto& a : rest) {
    if (a == "--help" || a == "-h") {
      std::printf("%s\n%s", kUsage, core::configReference().c_str());
      return 0;
    }
  }
  auto config = core::loadServeConfig(rest, core::processEnv());
  if (!config.ok()) return fail(config.error().message);
  blockShutdownSignals();
  auto app = Application::create(*config);
  if (!app.ok()) {
    core::logError("start-up failed", {{"error", app.error().message}});
    core::Logger::instance().flush();
    return fail(app.error().message);
  }
  auto s = (*app)->run();
  return s.ok() ? 0 : 1;
}

struct CliContext {
  std::unique_ptr<storage::sqlite::SqliteStore> store;
  units::UnitCatalog units;
};

core::Result<CliContext> openForCli(const Options& o) {
  auto data = o.values.find("data");
  if (data == o.values.end())
    return core::makeError(core::Errc::kInvalidArgument, "--data DIR is required");
  CliContext ctx;
  auto store = openStore(data->second, 5000);
  if (!store.ok()) return store.error();
  ctx.store = std::move(*store);
  auto units_file = o.values.count("units-file") ? o.values.at("units-file") : "";
  auto units = loadUnits(units_file);
  if (!units.ok()) return units.error();
  ctx.units = std::move(*units);
  return ctx;
}

int userAdd(const std::vector<std::string>& args) {
  auto o = parseOptions(args, 2, {"data", "username", "role", "unit", "units-file"});
  if (!o.error.empty()) return fail(o.error);
  for (const char* required : {"username", "role"}) {
    if (!o.values.count(required)) return fail(std::string("--") + required + " is required");
  }
  auto role = model::parseRole(o.values["role"]);
  if (!role) return fail("unknown role " + o.values["role"]);
  std::string password;
  if (isatty(STDIN_FILENO)) std::fprintf(stderr, "Password: ");
  std::getline(std::cin, password);
  while (!password.empty() && (password.back() == '\r' || password.back() == '\n')) {
    password.pop_back();
  }
  auto ctx = openForCli(o);
  if (!ctx.ok()) return fail(ctx.error().message);
  const core::Clock& clock = core::SystemClock::instance();
  auth::IdentityService identity(*ctx->store, ctx->units, clock, nullptr);
  auto user =
      identity.createUser({o.values["username"], password, *role, o.values["unit"]}, cliActor());
  if (!user.ok()) return fail(user.error().message);
  std::printf("created user %s (id %lld, role %s, unit %s)\n", user->username.c_str(),
              static_cast<long long>(user->id), model::roleName(user->role),
              user->unit_code.empty() ? "all" : user->unit_code.c_str());
  return 0;
}

int keyAdd(const std::vector<std::string>& args) {
  auto o = parseOptions(args, 2, {"data", "name", "scope", "unit", "units-file"});
  if (!o.error.empty()) return fail(o.error);
  for (const char* required : {"name", "scope"}) {
    if (!o.values.count(required)) return fail(std::string("--") + required + " is required");
  }
  auto scope = model::parseScope(o.values["scope"]);
  if (!scope) return fail("--scope must be ingest, read or integration");
  auto ctx = openForCli(o);
  if (!ctx.ok()) return fail(ctx.error().message);
  auth::IdentityService identity(*ctx->store, ctx->units, core::SystemClock::instance(), nullptr);
  auto key = identity.createKey({o.values["name"], *scope, o.values["unit"]}, cliActor());
  if (!key.ok()) return fail(key.error().message);
  std::printf(
      "created API key %lld \"%s\" (scope %s, unit %s); store it now, it is not shown "
      "again:\n%s\n",
      static_cast<long long>(key->key.id), key->key.name.c_str(), model::scopeName(key->key.scope),
      key->key.unit_code.empty() ? "all" : key->key.unit_code.c_str(), key->secret.c_str());
  return 0;
}

int auditVerify(const std::vector<std::string>& args) {
  auto o = parseOptions(args, 2, {"data"});
  if (!o.error.empty()) return fail(o.error);
  if (!o.values.count("data")) return fail("--data DIR is required");
  auto store = openStore(o.values["data"], 5000);
  if (!store.ok()) return fail(store.error().message);
  auto report = audit::verifyChain(**store);
  if (!report.ok()) return fail(report.error().message);
  if (!report->intact) {
    std::printf("audit log TAMPERED at seq %lld: %s (%lld entries verified before it)\n",
                static_cast<long long>(report->first_bad_seq), report->problem.c_str(),
                static_cast<long long>(report->entries));
    return 1;
  }
  std::printf("audit log intact: %lld entries, head %s\n", static_cast<long long>(report->entries),
              report->head_hash.c_str());
  return 0;
}

int simulate(const std::vector<std::string>& args) {
  auto o = parseOptions(args, 1,
                        {"url", "key", "devices", "interval-ms", "rate", "ticks", "data-root",
                         "mqtt", "mqtt-qos", "mqtt-prefix"});
  if (!o.error.empty()) return fail(o.error);
  if (!o.values.count("url") || !o.values.count("key")) return fail("--url and --key are required");
  sim::SimOptions options;
  const std::string& url = o.values["url"];
  constexpr std::string_view kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) return fail("--url must be http://HOST:PORT");
  std::string hostport = url.substr(kScheme.size());
  hostport = hostport.substr(0, hostport.find('/'));
  const size_t colon = hostport.rfind(':');
  options.host = hostport.substr(0, colon);
  int port = 80;
  if (colon != std::string::npos) {
    auto [p, ec] =
        std::from_chars(hostport.data() + colon + 1, hostport.data() + hostport.size(), port);
    if (ec != std::errc() || p != hostport.data() + hostport.size() || port < 1 || port > 65535) {
      return fail("--url has a bad port");
    }
  }
  options.port = static_cast<uint16_t>(port);
  options.key = o.values["key"];
  options.data_root = locateShipped(o.values["data-root"], "data");
  if (options.data_root.empty()) return fail("cannot find the data/ folder (use --data-root)");
  auto number = [&](const char* name, size_t lo, size_t hi, size_t def) -> std::optional<size_t> {
    if (!o.values.count(name)) return def;
    size_t v = 0;
    const std::string& s = o.values[name];
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v < lo || v > hi) return std::nullopt;
    return v;
  };
  auto devices = number("devices", 60, 100000, 300);
  auto interval = number("interval-ms", 100, 3600000, 5000);
  auto ticks = number("ticks", 0, SIZE_MAX, 0);
  if (!devices || !interval || !ticks) {
    return fail("--devices is 60..100000, --interval-ms 100..3600000, --ticks a whole number");
  }
  auto rate = number("rate", 1, 10000000, 0);
  if (!rate) return fail("--rate is 1..10000000 device reports per second");
  if (*rate != 0 && o.values.count("interval-ms"))
    return fail("--rate and --interval-ms exclude each other");
  options.devices = *devices;
  // --rate R: every device reports once per devices/R seconds (at least 100 ms apart).
  options.interval = std::chrono::milliseconds(
      *rate == 0 ? *interval : std::max<size_t>(100, *devices * 1000 / *rate));
  if (o.values.count("mqtt")) {
    auto qos = number("mqtt-qos", 0, 1, 1);
    if (!qos) return fail("--mqtt-qos is 0 or 1");
    auto m = mqtt::mqttOptions(o.values["mqtt"], "cityioc-sim", static_cast<int>(*qos),
                               o.values["mqtt-prefix"]);
    if (!m.ok()) return fail(m.error().message);
    options.mqtt_host = m->host;
    options.mqtt_port = static_cast<uint16_t>(m->port);
    options.mqtt_qos = m->qos;
    options.mqtt_topic_prefix = m->topic_prefix;
  }
  sim::Simulator simulator(options);
  if (auto s = simulator.setup(); !s.ok()) return fail(s.error().message);
  std::printf("simulating %zu devices (%zu over MQTT) against %s every %lld ms\n",
              simulator.devices().size(), simulator.mqttDevices(), url.c_str(),
              static_cast<long long>(options.interval.count()));
  std::fflush(stdout);
  auto next = std::chrono::steady_clock::now();
  for (size_t tick = 0; *ticks == 0 || tick < *ticks; ++tick) {
    auto accepted = simulator.tick();
    if (!accepted.ok()) return fail(accepted.error().message);
    std::printf("tick %zu: %zu readings accepted\n", tick + 1, *accepted);
    std::fflush(stdout);
    next += options.interval;  // a steady rate however long a tick takes (none skipped)
    if (*ticks == 0 || tick + 1 < *ticks) std::this_thread::sleep_until(next);
  }
  return 0;
}

int routes() {
  ioc::Json out = ioc::Json::array();
  for (const auto& r : api::Api::routeTable()) {
    out.push_back({{"method", std::string(net::http::to_string(r.method))},
                   {"path", r.pattern},
                   {"permission", auth::permissionName(r.permission)},
                   {"summary", r.summary}});
  }
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

}  // namespace

int runCli(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    std::printf("%s", kUsage);
    return args.empty() ? 2 : 0;
  }
  const std::string& cmd = args[0];
  std::string sub = args.size() > 1 ? args[1] : "";
  int rc = 2;
  if (cmd == "serve") {
    rc = serve(args);
  } else if (cmd == "user" && sub == "add") {
    rc = userAdd(args);
  } else if (cmd == "key" && sub == "add") {
    rc = keyAdd(args);
  } else if (cmd == "audit" && sub == "verify") {
    rc = auditVerify(args);
  } else if (cmd == "simulate") {
    rc = simulate(args);
  } else if (cmd == "import" && sub == "csv") {
    rc = importCsv(args);
  } else if (cmd == "routes") {
    rc = routes();
  } else if (cmd == "version" || cmd == "--version") {
    std::printf("cityioc %s\n", IOC_VERSION);
    rc = 0;
  } else {
    rc = fail("unknown command \"" + cmd + "\"; see cityioc --help");
  }
  core::Logger::instance().flush();
  return rc;
}

}  // namespace ioc::app
