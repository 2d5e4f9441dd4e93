#pragma once
// Configuration for `cityioc serve`. Every setting is declared once in a table (config.cc) that
// drives the TOML file, environment variables, command-line flags, validation and the docs, so
// the sources cannot disagree. Precedence: flags > environment > config file > defaults.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace ioc::core {

struct ServeConfig {
  std::string listen_host;   // IPv6 without brackets, e.g. "::1"
  uint16_t listen_port = 0;  // 0 = let the OS pick a free port
  int io_threads = 0;        // 0 = one per core (resolved by the server)
  int max_connections = 0;
  int max_header_bytes = 0;
  int64_t max_body_bytes = 0;
  int read_timeout_ms = 0;
  int idle_timeout_ms = 0;
  int shutdown_grace_ms = 0;
  std::string web_root;  // "" = auto-detect web/dist next to the binary or CWD
  std::string data_dir;
  int busy_timeout_ms = 0;
  std::string units_file;                // "" = auto-detect data/admin/vn34_units_2025_full.json
  int raw_retention_days = 0;            // 0 = for ever
  int minute_rollup_retention_days = 0;  // 0 = for ever
  int compact_interval_ms = 10000;
  int token_ttl_s = 0;
  int login_max_failures_per_user = 0;
  int login_max_failures_per_ip = 0;
  int login_window_s = 0;
  std::string log_level;  // "debug" | "info" | "warn" | "error"
  bool access_log = false;
  bool demo = false;
  std::string mqtt_url;  // "" = MQTT ingest off; "mqtt://HOST[:PORT]"
  std::string mqtt_client_id;
  int mqtt_qos = 1;
  std::string mqtt_topic_prefix;  // "" = IoT Agent JSON topics /{apikey}/{device_id}/attrs
  int mqtt_subscribers = 1;       // > 1: that many clients sharing the subscription ($share)
  int mqtt_commit_interval_ms = 100;
  int subscriptions_max_count = 0;
  int subscriptions_max_uri_bytes = 0;
  int subscriptions_queue_size = 0;
  int subscriptions_workers = 0;
  int subscriptions_timeout_ms = 0;
  int subscriptions_max_attempts = 0;
  int subscriptions_retry_backoff_ms = 0;
  std::string incidents_calendar;  // "" = data/calendar/vn_holidays.json; "24x7" = always
  int incidents_tick_ms = 5000;
  std::string reports_file;  // "" = data/reports/services.json
  int reports_submissions_per_minute = 20;
  std::string reports_public_url;  // "" = no link in citizens' email
  std::string smtp_host;           // "" = staff email off
  int smtp_port = 25;
  std::string smtp_from;
  int smtp_timeout_ms = 10000;
  std::string tls_ca_file;  // "" = the system's CAs for outgoing HTTPS
  bool context_allow_remote_fetch = true;
  int context_fetch_timeout_ms = 5000;
  int context_max_document_bytes = 1048576;
  std::string context_preload_dir;  // "" = none
  std::string rules_file;           // "" = none (the demo loads data/rules/default.json)
  std::string config_file;          // "" if none
};

//! Environment lookup; tests inject a map, production passes processEnv().
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

//! args = the arguments after "serve", e.g. {"--listen", "127.0.0.1:0", "--data", "/tmp/x"};
//! both "--flag X" and "--flag=X" are accepted, and a boolean flag alone means true.
//! The config file is named by --config FILE or CITYIOC_CONFIG. Errors are kInvalidArgument and
//! name the source, the key and the reason.
Result<ServeConfig> loadServeConfig(const std::vector<std::string>& args, const EnvLookup& env);

//! Reads the real process environment (getenv).
EnvLookup processEnv();

//! Markdown table of every setting: name, flag, env var, default, meaning. Used for
//! docs/CONFIGURATION.md and `cityioc serve --help`.
std::string configReference();

}  // namespace ioc::core
