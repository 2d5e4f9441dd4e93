#include "core/config.h"

#include <arpa/inet.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <span>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

namespace ioc::core {
namespace {

enum class Kind { kString, kInt, kBool, kEnum, kHostPort };

struct HostPort {
  std::string host;
  uint16_t port = 0;
};

//! A parsed, not yet validated, setting value.
using Value = std::variant<int64_t, bool, std::string, HostPort>;

//! Writes a validated value into the matching ServeConfig field.
using Apply = void (*)(ServeConfig&, const Value&);

//! One row of the settings table. Validation is declarative: the kind (syntax), [min, max] for
//! ints, choices for enums, non_empty for strings.
// NOLINTNEXTLINE(clang-analyzer-optin.performance.Padding): a 20-row constexpr table.
struct Setting {
  std::string_view name;  // "section.key"; also the TOML path and the env var stem
  Kind kind = Kind::kString;
  std::string_view def = {};   // textual default, parsed and validated like any other source
  std::string_view flag = {};  // "" = no flag
  std::string_view doc = {};
  int64_t min = 0;
  int64_t max = 0;
  std::span<const std::string_view> choices = {};
  bool non_empty = false;
  Apply apply = nullptr;
};

template <auto kMember>
void assign(ServeConfig& c, const Value& v) {
  using T = std::remove_cvref_t<decltype(c.*kMember)>;
  if constexpr (std::is_same_v<T, bool>) {
    c.*kMember = std::get<bool>(v);
  } else if constexpr (std::is_integral_v<T>) {
    c.*kMember = static_cast<T>(std::get<int64_t>(v));  // range already checked
  } else {
    c.*kMember = std::get<std::string>(v);
  }
}

void assignListen(ServeConfig& c, const Value& v) {
  const auto& hp = std::get<HostPort>(v);
  c.listen_host = hp.host;
  c.listen_port = hp.port;
}

constexpr std::string_view kLogLevels[] = {"debug", "info", "warn", "error"};

// clang-format off
constexpr Setting kSettings[] = {
  {.name = "server.listen", .kind = Kind::kHostPort, .def = "127.0.0.1:8080", .flag = "--listen",
   .doc = "Address to listen on: `HOST:PORT`, host is IPv4, `[IPv6]` or a hostname; "
          "port 0 picks a free port.",
   .apply = assignListen},
  {.name = "server.io_threads", .kind = Kind::kInt, .def = "0", .flag = "--io-threads",
   .doc = "I/O threads; 0 = one per core.",
   .min = 0, .max = 256, .apply = assign<&ServeConfig::io_threads>},
  {.name = "server.max_connections", .kind = Kind::kInt, .def = "10000",
   .doc = "Maximum concurrently open connections.",
   .min = 1, .max = 1000000, .apply = assign<&ServeConfig::max_connections>},
  {.name = "server.max_header_bytes", .kind = Kind::kInt, .def = "16384",
   .doc = "Maximum bytes of a request's start line and headers.",
   .min = 1024, .max = 1048576, .apply = assign<&ServeConfig::max_header_bytes>},
  {.name = "server.max_body_bytes", .kind = Kind::kInt, .def = "1048576",
   .doc = "Default per-route limit on request body bytes.",
   .min = 1024, .max = 1073741824, .apply = assign<&ServeConfig::max_body_bytes>},
  {.name = "server.read_timeout_ms", .kind = Kind::kInt, .def = "10000",
   .doc = "Milliseconds within which a whole request must arrive (anti-slowloris).",
   .min = 100, .max = 3600000, .apply = assign<&ServeConfig::read_timeout_ms>},
  {.name = "server.idle_timeout_ms", .kind = Kind::kInt, .def = "60000",
   .doc = "Milliseconds after which an idle keep-alive connection is closed.",
   .min = 100, .max = 3600000, .apply = assign<&ServeConfig::idle_timeout_ms>},
  {.name = "server.shutdown_grace_ms", .kind = Kind::kInt, .def = "10000",
   .doc = "Milliseconds that in-flight requests get to finish on shutdown.",
   .min = 0, .max = 600000, .apply = assign<&ServeConfig::shutdown_grace_ms>},
  {.name = "server.web_root", .kind = Kind::kString, .def = "", .flag = "--web-root",
   .doc = "Directory of the web UI; empty = auto-detect `web/dist` next to the binary or the CWD.",
   .apply = assign<&ServeConfig::web_root>},
  {.name = "store.data_dir", .kind = Kind::kString, .def = "./var", .flag = "--data",
   .doc = "Directory holding the database and other state.",
   .non_empty = true, .apply = assign<&ServeConfig::data_dir>},
  {.name = "store.busy_timeout_ms", .kind = Kind::kInt, .def = "5000",
   .doc = "Milliseconds a database operation waits for a lock.",
   .min = 0, .max = 600000, .apply = assign<&ServeConfig::busy_timeout_ms>},
  {.name = "store.units_file", .kind = Kind::kString, .def = "", .flag = "--units-file",
   .doc = "Administrative units JSON; empty = auto-detect "
          "`data/admin/vn34_units_2025_full.json`.",
   .apply = assign<&ServeConfig::units_file>},
  {.name = "timeseries.raw_retention_days", .kind = Kind::kInt, .def = "0",
   .doc = "Days raw time-series points are kept (0 = for ever); per-attribute overrides through "
          "`PUT /api/v1/timeseries/retention/{attr}`. Hour and day rollups are always kept.",
   .min = 0, .max = 36500, .apply = assign<&ServeConfig::raw_retention_days>},
  {.name = "timeseries.minute_rollup_retention_days", .kind = Kind::kInt, .def = "400",
   .doc = "Days the 1-minute rollups are kept (0 = for ever).",
   .min = 0, .max = 36500, .apply = assign<&ServeConfig::minute_rollup_retention_days>},
  {.name = "timeseries.compact_interval_ms", .kind = Kind::kInt, .def = "10000",
   .doc = "Milliseconds between moves of freshly logged points into compressed chunks and "
          "rollups (also after every 100,000 points).",
   .min = 100, .max = 3600000, .apply = assign<&ServeConfig::compact_interval_ms>},
  {.name = "auth.token_ttl_s", .kind = Kind::kInt, .def = "43200",
   .doc = "Session token lifetime in seconds.",
   .min = 1, .max = 2592000, .apply = assign<&ServeConfig::token_ttl_s>},
  {.name = "auth.login_max_failures_per_user", .kind = Kind::kInt, .def = "5",
   .doc = "Failed logins per user within the window before further attempts are refused.",
   .min = 1, .max = 1000, .apply = assign<&ServeConfig::login_max_failures_per_user>},
  {.name = "auth.login_max_failures_per_ip", .kind = Kind::kInt, .def = "20",
   .doc = "Failed logins per client IP within the window before further attempts are refused.",
   .min = 1, .max = 100000, .apply = assign<&ServeConfig::login_max_failures_per_ip>},
  {.name = "auth.login_window_s", .kind = Kind::kInt, .def = "900",
   .doc = "Seconds over which failed logins are counted.",
   .min = 1, .max = 86400, .apply = assign<&ServeConfig::login_window_s>},
  {.name = "log.level", .kind = Kind::kEnum, .def = "info", .flag = "--log-level",
   .doc = "Minimum level of log lines.",
   .choices = kLogLevels, .apply = assign<&ServeConfig::log_level>},
  {.name = "log.access", .kind = Kind::kBool, .def = "true",
   .doc = "Write one access log line per request.",
   .apply = assign<&ServeConfig::access_log>},
  {.name = "demo.enabled", .kind = Kind::kBool, .def = "false", .flag = "--demo",
   .doc = "Run in demo mode; `--demo` alone means true.",
   .apply = assign<&ServeConfig::demo>},
  {.name = "mqtt.url", .kind = Kind::kString, .def = "",
   .doc = "MQTT broker for device telemetry, `mqtt://HOST[:PORT]` (port 1883 if omitted, IPv6 "
          "bracketed); empty = MQTT ingest off. Devices are provisioned with `POST /api/v1/devices`.",
   .apply = assign<&ServeConfig::mqtt_url>},
  {.name = "mqtt.client_id", .kind = Kind::kString, .def = "cityioc",
   .doc = "MQTT client id (letters, digits and `_.:-`, at most 128), unique per cityioc "
          "instance; the broker keeps this client's session, so QoS 1 readings sent while "
          "cityioc is down arrive when it is back.",
   .non_empty = true, .apply = assign<&ServeConfig::mqtt_client_id>},
  {.name = "mqtt.qos", .kind = Kind::kInt, .def = "1",
   .doc = "QoS of the device-topic subscription: 0 at most once, 1 at least once.",
   .min = 0, .max = 1, .apply = assign<&ServeConfig::mqtt_qos>},
  {.name = "mqtt.topic_prefix", .kind = Kind::kString, .def = "",
   .doc = "Topic levels before `/{apikey}/{device_id}/attrs`; empty = the IoT Agent JSON topics "
          "`/{apikey}/{device_id}/attrs`, `json` gives `json/{apikey}/{device_id}/attrs`. No `+`, "
          "`#` or trailing `/`.",
   .apply = assign<&ServeConfig::mqtt_topic_prefix>},
  {.name = "mqtt.subscribers", .kind = Kind::kInt, .def = "1",
   .doc = "MQTT client connections that share the device-topic subscription "
          "(`$share/{client_id}/…`, Mosquitto ≥ 2.0), each parsing on its own thread; ids "
          "`{client_id}-1`, `-2`, …. 1 = one plain subscription. More only helps with spare "
          "cores (docs/BENCHMARKS.md).",
   .min = 1, .max = 16, .apply = assign<&ServeConfig::mqtt_subscribers>},
  {.name = "mqtt.commit_interval_ms", .kind = Kind::kInt, .def = "100",
   .doc = "Longest MQTT readings wait for their group commit when no API write brings it "
          "forward. Nobody waits for them (the client library acknowledges a QoS 1 message before "
          "cityioc sees it), and each commit rewrites the row of every entity it touches, so a "
          "device reporting faster than this costs one row write per interval instead of one "
          "per reading. Also the most readings a crash (not a clean stop) can lose. 0 = commit "
          "at once.",
   .min = 0, .max = 5000, .apply = assign<&ServeConfig::mqtt_commit_interval_ms>},
  {.name = "context.allow_remote_fetch", .kind = Kind::kBool, .def = "true",
   .doc = "Download user @contexts named in requests that are neither built in, preloaded nor "
          "hosted (once; then cached in the store). `false` = such requests get 503 "
          "LdContextNotAvailable.",
   .apply = assign<&ServeConfig::context_allow_remote_fetch>},
  {.name = "context.fetch_timeout_ms", .kind = Kind::kInt, .def = "5000",
   .doc = "Milliseconds one @context download may take, redirects included.",
   .min = 100, .max = 60000, .apply = assign<&ServeConfig::context_fetch_timeout_ms>},
  {.name = "context.max_document_bytes", .kind = Kind::kInt, .def = "1048576",
   .doc = "Largest @context document downloaded, in bytes.",
   .min = 1024, .max = 67108864, .apply = assign<&ServeConfig::context_max_document_bytes>},
  {.name = "context.preload_dir", .kind = Kind::kString, .def = "",
   .doc = "Directory of @context documents loaded at start-up for air-gapped sites: "
          "`manifest.json` maps each URL to a file, `{\"<URL>\": \"<file>.jsonld\"}`.",
   .apply = assign<&ServeConfig::context_preload_dir>},
  {.name = "rules.file", .kind = Kind::kString, .def = "",
   .doc = "A versioned detection rules file `{\"version\": N, \"rules\": [...]}` loaded at "
          "start-up; a rule replaces the stored one when its version is higher. The demo city "
          "uses `data/rules/default.json`.",
   .apply = assign<&ServeConfig::rules_file>},
  {.name = "subscriptions.max_count", .kind = Kind::kInt, .def = "1000",
   .doc = "Most NGSI-LD subscriptions the server keeps (each makes it call a URL); more are "
          "refused with 403.",
   .min = 0, .max = 100000, .apply = assign<&ServeConfig::subscriptions_max_count>},
  {.name = "subscriptions.max_uri_bytes", .kind = Kind::kInt, .def = "2048",
   .doc = "Longest notification endpoint URI accepted.",
   .min = 64, .max = 8192, .apply = assign<&ServeConfig::subscriptions_max_uri_bytes>},
  {.name = "subscriptions.queue_size", .kind = Kind::kInt, .def = "10000",
   .doc = "Notifications (and committed change batches) that may wait for delivery; beyond it "
          "they are dropped and counted in `ngsild_notifications_total{result=\"dropped\"}`.",
   .min = 10, .max = 1000000, .apply = assign<&ServeConfig::subscriptions_queue_size>},
  {.name = "subscriptions.workers", .kind = Kind::kInt, .def = "4",
   .doc = "Threads delivering notifications; one endpoint never holds more than one.",
   .min = 1, .max = 64, .apply = assign<&ServeConfig::subscriptions_workers>},
  {.name = "subscriptions.timeout_ms", .kind = Kind::kInt, .def = "5000",
   .doc = "Milliseconds one delivery attempt may take (an endpoint's `timeout` may lower it).",
   .min = 100, .max = 60000, .apply = assign<&ServeConfig::subscriptions_timeout_ms>},
  {.name = "subscriptions.max_attempts", .kind = Kind::kInt, .def = "3",
   .doc = "Delivery attempts per notification before it counts as failed.",
   .min = 1, .max = 10, .apply = assign<&ServeConfig::subscriptions_max_attempts>},
  {.name = "subscriptions.retry_backoff_ms", .kind = Kind::kInt, .def = "500",
   .doc = "Wait before the second attempt; doubles for each further one (at most 30 s).",
   .min = 10, .max = 60000, .apply = assign<&ServeConfig::subscriptions_retry_backoff_ms>},
  {.name = "incidents.calendar", .kind = Kind::kString, .def = "",
   .doc = "Working-day calendar of incident SLAs: a calendar document (see "
          "`src/calendar/README.md`); empty = the shipped `data/calendar/vn_holidays.json`; "
          "`24x7` = every hour of every day counts.",
   .apply = assign<&ServeConfig::incidents_calendar>},
  {.name = "incidents.tick_ms", .kind = Kind::kInt, .def = "5000",
   .doc = "Milliseconds between SLA passes over open incidents (due soon, overdue, reminders, "
          "escalation).",
   .min = 50, .max = 600000, .apply = assign<&ServeConfig::incidents_tick_ms>},
  {.name = "reports.file", .kind = Kind::kString, .def = "",
   .doc = "The citizen-report categories (Open311 services): names, questions, SLA tiers, "
          "redirects; empty = the shipped `data/reports/services.json`.",
   .apply = assign<&ServeConfig::reports_file>},
  {.name = "reports.submissions_per_minute", .kind = Kind::kInt, .def = "20",
   .doc = "Citizen reports accepted per minute from one client address and from one account "
          "(more get 429 with Retry-After).",
   .min = 1, .max = 10000000, .apply = assign<&ServeConfig::reports_submissions_per_minute>},
  {.name = "reports.public_url", .kind = Kind::kString, .def = "",
   .doc = "Address where citizens reach the dashboard (e.g. `https://ioc.hue.gov.vn`), for the "
          "tracking link in the email a reporter gets on each change; empty = the email gives "
          "the tracking code only.",
   .apply = assign<&ServeConfig::reports_public_url>},
  {.name = "smtp.host", .kind = Kind::kString, .def = "",
   .doc = "SMTP relay for email notifications (plain SMTP, no TLS or AUTH: a local relay); "
          "empty = email off. Staff recipients are the email channels "
          "(`/api/v1/email-channels`); reporters who leave an address get their report's changes.",
   .apply = assign<&ServeConfig::smtp_host>},
  {.name = "smtp.port", .kind = Kind::kInt, .def = "25",
   .doc = "Port of the SMTP relay.",
   .min = 1, .max = 65535, .apply = assign<&ServeConfig::smtp_port>},
  {.name = "smtp.from", .kind = Kind::kString, .def = "cityioc@localhost.localdomain",
   .doc = "Sender address of email (envelope and From header): an address with a dotted domain.",
   .apply = assign<&ServeConfig::smtp_from>},
  {.name = "smtp.timeout_ms", .kind = Kind::kInt, .def = "10000",
   .doc = "Milliseconds each SMTP step (connect, each reply) may take.",
   .min = 100, .max = 120000, .apply = assign<&ServeConfig::smtp_timeout_ms>},
  {.name = "tls.ca_file", .kind = Kind::kString, .def = "",
   .doc = "PEM file of the certificate authorities trusted by outgoing HTTPS (NGSI-LD "
          "notifications, webhooks, remote @contexts) in place of the system's, for a private "
          "PKI; empty = the system's store. Peers' certificates and host names are always "
          "verified.",
   .apply = assign<&ServeConfig::tls_ca_file>},
};
// clang-format on

constexpr std::string_view kConfigFlag = "--config";
constexpr std::string_view kConfigEnv = "CITYIOC_CONFIG";

const Setting* findSetting(std::string_view name) {
  for (const auto& s : kSettings) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const Setting* findFlag(std::string_view flag) {
  for (const auto& s : kSettings) {
    if (!s.flag.empty() && s.flag == flag) return &s;
  }
  return nullptr;
}

std::string envName(std::string_view name) {
  std::string out = "CITYIOC_";
  for (char c : name) {
    out += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

//! Joins pieces without the temporaries of an operator+ chain.
template <typename... Parts>
std::string concat(const Parts&... parts) {
  std::string out;
  (out.append(std::string_view(parts)), ...);
  return out;
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  out += s;
  out += '"';
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Error invalid(std::string message) {
  return makeError(Errc::kInvalidArgument, std::move(message));
}

std::optional<int64_t> parseInt(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<bool> parseBool(std::string_view s) {
  std::string l = lower(s);
  if (l == "true" || l == "1" || l == "yes") return true;
  if (l == "false" || l == "0" || l == "no") return false;
  return std::nullopt;
}

//! RFC 1123 hostname: dot-separated labels of letters, digits and inner hyphens.
bool validHostname(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  size_t start = 0;
  while (start <= h.size()) {
    size_t dot = h.find('.', start);
    if (dot == std::string_view::npos) dot = h.size();
    std::string_view label = h.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
    start = dot + 1;
  }
  return true;
}

Result<Value> parseHostPort(std::string_view s) {
  std::string host;
  std::string_view port;
  if (!s.empty() && s.front() == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') {
      return invalid("expected [IPV6]:PORT (got " + quoted(s) + ")");
    }
    host = std::string(s.substr(1, close - 1));
    port = s.substr(close + 2);
    in6_addr addr{};
    if (inet_pton(AF_INET6, host.c_str(), &addr) != 1) {
      return invalid("invalid IPv6 address " + quoted(host));
    }
  } else {
    size_t colon = s.find(':');
    if (colon == std::string_view::npos)
      return invalid("expected HOST:PORT (got " + quoted(s) + ")");
    if (s.find(':', colon + 1) != std::string_view::npos) {
      return invalid("IPv6 hosts must be bracketed, e.g. [::1]:8080 (got " + quoted(s) + ")");
    }
    host = std::string(s.substr(0, colon));
    port = s.substr(colon + 1);
    if (host.empty()) return invalid("host must not be empty (got " + quoted(s) + ")");
    bool numeric = host.find_first_not_of("0123456789.") == std::string::npos;
    in_addr addr{};
    if (numeric && inet_pton(AF_INET, host.c_str(), &addr) != 1) {
      return invalid("invalid IPv4 address " + quoted(host));
    }
    if (!numeric && !validHostname(host)) return invalid("invalid hostname " + quoted(host));
  }
  // Digits only: from_chars alone would accept "-0".
  auto n = parseInt(port);
  if (port.find_first_not_of("0123456789") != std::string_view::npos || !n || *n > 65535) {
    return invalid("port must be 0..65535 (got " + quoted(port) + ")");
  }
  return Value(HostPort{std::move(host), static_cast<uint16_t>(*n)});
}

//! Checks the declarative constraints and normalizes (enum case). Message = reason only.
Result<Value> validate(const Setting& s, Value v) {
  switch (s.kind) {
    case Kind::kInt: {
      int64_t n = std::get<int64_t>(v);
      if (n < s.min || n > s.max) {
        return invalid("must be between " + std::to_string(s.min) + " and " +
                       std::to_string(s.max) + " (got " + std::to_string(n) + ")");
      }
      break;
    }
    case Kind::kEnum: {
      std::string l = lower(std::get<std::string>(v));
      if (std::find(s.choices.begin(), s.choices.end(), l) == s.choices.end()) {
        std::string list;
        for (auto c : s.choices) list += (list.empty() ? "" : ", ") + std::string(c);
        return invalid("must be one of " + list + " (got " + quoted(std::get<std::string>(v)) +
                       ")");
      }
      v = std::move(l);
      break;
    }
    case Kind::kString:
      if (s.non_empty && std::get<std::string>(v).empty()) return invalid("must not be empty");
      break;
    case Kind::kBool:
    case Kind::kHostPort:
      break;
  }
  return v;
}

//! Parses a value given as text (defaults, environment, flags).
Result<Value> fromText(const Setting& s, std::string_view text) {
  switch (s.kind) {
    case Kind::kInt: {
      auto n = parseInt(text);
      if (!n) return invalid("expected an integer (got " + quoted(text) + ")");
      return validate(s, *n);
    }
    case Kind::kBool: {
      auto b = parseBool(text);
      if (!b) return invalid("expected true/false/1/0/yes/no (got " + quoted(text) + ")");
      return validate(s, *b);
    }
    case Kind::kHostPort: {
      auto hp = parseHostPort(text);
      if (!hp) return hp;
      return validate(s, std::move(hp.value()));
    }
    case Kind::kString:
    case Kind::kEnum:
      break;
  }
  return validate(s, std::string(text));
}

const char* tomlTypeName(toml::node_type t) {
  switch (t) {
    case toml::node_type::none:
      return "nothing";
    case toml::node_type::table:
      return "table";
    case toml::node_type::array:
      return "array";
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "float";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
  }
  return "unknown";
}

//! Converts a TOML node; TOML values are typed, so e.g. `io_threads = "4"` is an error.
Result<Value> fromToml(const Setting& s, const toml::node& node) {
  const char* want = "string";
  if (s.kind == Kind::kInt) {
    if (auto v = node.value_exact<int64_t>()) return validate(s, *v);
    want = "integer";
  } else if (s.kind == Kind::kBool) {
    if (auto v = node.value_exact<bool>()) return validate(s, *v);
    want = "boolean";
  } else if (auto v = node.value_exact<std::string>()) {
    return fromText(s, *v);
  }
  return invalid(std::string("expected ") + want + " (got " + tomlTypeName(node.type()) + ")");
}

//! Values gathered from one source, in the order they will be applied.
struct Layer {
  std::vector<std::pair<const Setting*, Value>> values;
};

void applyLayer(ServeConfig& cfg, const Layer& layer) {
  for (const auto& [s, v] : layer.values) s->apply(cfg, v);
}

//! Thread-safe strerror.
std::string errnoText(int err) {
  return std::generic_category().message(err);
}

Result<std::string> readFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr)
    return invalid(concat("config file ", path, ": cannot open: ", errnoText(errno)));
  std::string data;
  char buf[8192];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) data.append(buf, n);
  int err = std::ferror(f) ? errno : 0;
  std::fclose(f);
  if (err != 0) return invalid(concat("config file ", path, ": cannot read: ", errnoText(err)));
  return data;
}

Result<Layer> loadFile(const std::string& path) {
  auto text = readFile(path);
  if (!text) return text.error();
  const std::string prefix = "config file " + path + ": ";
  toml::table root;
  try {
    root = toml::parse(text.value(), path);
  } catch (const toml::parse_error& e) {
    const auto& pos = e.source().begin;
    return invalid(prefix + "line " + std::to_string(pos.line) + ", column " +
                   std::to_string(pos.column) + ": " + std::string(e.description()));
  } catch (const std::exception& e) {
    return makeError(Errc::kInternal, prefix + e.what());
  }

  Layer layer;
  for (const auto& [section_key, section_node] : root) {
    std::string section(section_key.str());
    const toml::table* table = section_node.as_table();
    bool known_section = std::any_of(std::begin(kSettings), std::end(kSettings), [&](auto& s) {
      return s.name.starts_with(concat(section, "."));
    });
    if (table == nullptr) {
      if (!known_section) return invalid(concat(prefix, "unknown key ", section));
      return invalid(concat(prefix, section, ": expected table (got ",
                            tomlTypeName(section_node.type()), ")"));
    }
    if (!known_section && table->empty())
      return invalid(concat(prefix, "unknown section [", section, "]"));
    for (const auto& [key, node] : *table) {
      std::string name = concat(section, ".", key.str());
      const Setting* s = findSetting(name);
      if (s == nullptr) return invalid(concat(prefix, "unknown key ", name));
      auto v = fromToml(*s, node);
      if (!v) return invalid(concat(prefix, name, ": ", v.error().message));
      layer.values.emplace_back(s, std::move(v.value()));
    }
  }
  return layer;
}

Result<Layer> loadEnv(const EnvLookup& env) {
  Layer layer;
  for (const auto& s : kSettings) {
    std::string var = envName(s.name);
    auto text = env(var);
    if (!text) continue;
    auto v = fromText(s, *text);
    if (!v) return invalid("environment " + var + ": " + v.error().message);
    layer.values.emplace_back(&s, std::move(v.value()));
  }
  return layer;
}

struct Flags {
  Layer layer;
  std::optional<std::string> config_file;
};

Result<Flags> parseFlags(const std::vector<std::string>& args) {
  Flags out;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (!arg.starts_with("--")) {
      if (arg.starts_with("-")) return invalid("unknown flag " + std::string(arg));
      return invalid("unexpected argument " + quoted(arg));
    }
    std::string_view flag = arg;
    std::optional<std::string> value;
    if (size_t eq = arg.find('='); eq != std::string_view::npos) {
      flag = arg.substr(0, eq);
      value = std::string(arg.substr(eq + 1));
    }
    const Setting* s = findFlag(flag);
    if (s == nullptr && flag != kConfigFlag) return invalid("unknown flag " + std::string(flag));
    const std::string name(flag);
    // A boolean flag never consumes the next argument, so `--demo --listen X` works.
    if (!value && s != nullptr && s->kind == Kind::kBool) value = "true";
    if (!value) {
      if (i + 1 >= args.size()) return invalid("flag " + name + ": missing value");
      value = args[++i];
    }
    if (s == nullptr) {
      if (value->empty()) return invalid("flag " + name + ": must not be empty");
      out.config_file = *value;
      continue;
    }
    auto v = fromText(*s, *value);
    if (!v) return invalid("flag " + name + ": " + v.error().message);
    out.layer.values.emplace_back(s, std::move(v.value()));
  }
  return out;
}

}  // namespace

Result<ServeConfig> loadServeConfig(const std::vector<std::string>& args, const EnvLookup& env) {
  ServeConfig cfg;
  for (const auto& s : kSettings) {
    auto v = fromText(s, s.def);
    if (!v) {
      return makeError(Errc::kInternal,
                       "default " + std::string(s.name) + ": " + v.error().message);
    }
    s.apply(cfg, v.value());
  }

  // Flags are parsed first so a typo on the command line is reported before file errors.
  auto flags = parseFlags(args);
  if (!flags) return flags.error();
  if (flags->config_file) {
    cfg.config_file = *flags->config_file;
  } else if (auto path = env(std::string(kConfigEnv)); path && !path->empty()) {
    cfg.config_file = *path;
  }

  if (!cfg.config_file.empty()) {
    auto file = loadFile(cfg.config_file);
    if (!file) return file.error();
    applyLayer(cfg, file.value());
  }
  auto environment = loadEnv(env);
  if (!environment) return environment.error();
  applyLayer(cfg, environment.value());
  applyLayer(cfg, flags->layer);
  return cfg;
}

EnvLookup processEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    // Reading only; the server does not setenv() while running.
    const char* v = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe)
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

std::string configReference() {
  std::string out =
      "| Setting | Flag | Environment variable | Default | Meaning |\n"
      "|---|---|---|---|---|\n";
  out += "| — | `" + std::string(kConfigFlag) + " FILE` | `" + std::string(kConfigEnv) +
         "` | — | TOML config file to read; none if unset. |\n";
  for (const auto& s : kSettings) {
    std::string meaning(s.doc);
    switch (s.kind) {
      case Kind::kInt:
        meaning += " Integer, " + std::to_string(s.min) + ".." + std::to_string(s.max) + ".";
        break;
      case Kind::kBool:
        meaning += " Boolean: true/false/1/0/yes/no.";
        break;
      case Kind::kEnum: {
        meaning += " One of";
        const char* sep = " ";
        for (auto c : s.choices) {
          meaning += sep + ("`" + std::string(c) + "`");
          sep = ", ";
        }
        meaning += ".";
        break;
      }
      case Kind::kString:
        if (s.non_empty) meaning += " Must not be empty.";
        break;
      case Kind::kHostPort:
        break;
    }
    std::string flag = s.flag.empty() ? "—" : concat("`", s.flag, "`");
    std::string def = s.def.empty() ? "`\"\"`" : concat("`", s.def, "`");
    out += concat("| `", s.name, "` | ", flag, " | `", envName(s.name), "` | ", def, " | ", meaning,
                  " |\n");
  }
  return out;
}

}  // namespace ioc::core
