#pragma once
// Staff notifications by role, unit and severity, through three channels:
//  (a) in-app: the live stream's "notifications" topic (stream::Hub), filtered there by the
//      reader's unit and role;
//  (b) outbound webhooks (configured with /api/v1/webhooks, documents of kind "notify.webhook"):
//      JSON POSTs signed with HMAC-SHA256 (see signature.h for how receivers verify);
//  (c) email through an SMTP relay when smtp.host is set, to the addresses of "email channels"
//      (/api/v1/email-channels, documents of kind "notify.email": address, roles, unit, minimum
//      severity, event types).
// Threads. notify() never blocks: it publishes to the hub and queues one delivery job per
// matching channel on a bounded queue (a full queue drops the job, counted). Worker threads send,
// retrying failed attempts with exponential back-off. Channel CRUD blocks on the durable write
// (API worker threads).
// Lifecycle: construct → load() → start() → … → stop(grace).
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"
#include "model/audit_entry.h"
#include "notify/smtp.h"
#include "storage/store.h"
#include "units/catalog.h"

namespace ioc::stream {
class Hub;
}  // namespace ioc::stream
namespace ioc::obs {
class Counter;
}  // namespace ioc::obs

namespace ioc::notify {

//! CAP severities, ordered: a channel's minimum lets through that level and above.
enum class Severity { kMinor = 0, kModerate = 1, kSevere = 2, kExtreme = 3 };
const char* severityName(Severity s);  //!< "Minor", "Moderate", "Severe", "Extreme"
std::optional<Severity> parseSeverity(std::string_view s);

struct StaffNotification {
  std::string event;  //!< event type, e.g. "alert.opened", "incident.overdue", "webhook.test"
  Severity severity = Severity::kMinor;
  std::string unit_code;           //!< whose matter it is; "" = the whole country
  std::vector<std::string> roles;  //!< target roles (role names); empty = every role
  std::string title;
  std::string body;
  std::string link;  //!< a path or URL to open it, e.g. "/api/v1/alerts/42"
  ioc::Json payload = ioc::Json::object();
  std::string key;    //!< in-app coalescing key; "" = never coalesced
  int64_t at_ms = 0;  //!< 0 = now
};
//! {"event","severity","unit","roles","title","body","link","at","data"}: what webhooks get.
ioc::Json toJson(const StaffNotification& n, int64_t at_ms);

//! A configured destination: a webhook (url, secret) or an email address.
struct Channel {
  enum class Kind { kWebhook, kEmail };
  Kind kind = Kind::kWebhook;
  std::string id;
  std::string url;      //!< webhook: http://host[:port]/path
  std::string secret;   //!< webhook: HMAC key (never shown after creation)
  std::string address;  //!< email
  Severity min_severity = Severity::kMinor;
  std::vector<std::string> events;  //!< event types; empty = all
  std::vector<std::string> roles;   //!< email: only notifications for these roles; empty = all
  std::string unit;                 //!< only notifications of this unit and below; "" = all
  std::string description;
  int64_t created_at_ms = 0;
  std::string created_by;

  //! Whether `n` goes to this channel.
  bool wants(const StaffNotification& n, const units::UnitCatalog& units) const;
};

//! Sends one webhook POST within `timeout`; 2xx = success. Replaced in tests.
using WebhookPost =
    std::function<core::Status(const std::string& url, const std::string& body,
                               const std::vector<std::pair<std::string, std::string>>& headers,
                               std::chrono::milliseconds timeout)>;
//! The production WebhookPost: one HTTP/1.1 POST over http:// or https:// (the peer's certificate
//! and host name verified against the system's CAs), redirects not followed, 2xx = delivered.
core::Status postHttp(const std::string& url, const std::string& body,
                      const std::vector<std::pair<std::string, std::string>>& headers,
                      std::chrono::milliseconds timeout);
//! postHttp trusting the CAs in `ca_file` ("" = the system's) for https:// webhooks.
WebhookPost httpPoster(std::string ca_file);

struct DispatcherOptions {
  size_t capacity = 10000;  //!< delivery jobs waiting
  int workers = 2;
  int max_attempts = 4;
  std::chrono::milliseconds timeout{5000};  //!< per webhook attempt
  std::chrono::milliseconds backoff{1000};  //!< before the 2nd attempt; doubles
  std::chrono::milliseconds max_backoff{60000};
  size_t max_channels = 200;
  SmtpOptions smtp;  //!< smtp.host "" = email channels are kept but not sent
};

class Dispatcher {
 public:
  Dispatcher(storage::Store& store, const units::UnitCatalog& units, const core::Clock& clock,
             stream::Hub* hub, DispatcherOptions options, WebhookPost post = postHttp);
  ~Dispatcher();  // stop()
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  core::Status load();
  void start();
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));

  //! Never blocks: in-app now, webhooks and email queued.
  void notify(StaffNotification n);
  //! Queues one email to one address outside the channels (a citizen's report updates); false
  //! when email is off, the address is implausible or the queue is full.
  bool mail(const std::string& address, std::string subject, std::string text, std::string event);
  //! Queues a "webhook.test" notification to that one channel (ignores its filters).
  core::Status test(const std::string& id, const model::Actor& who);

  // Channel configuration (blocking: durable and audited).
  core::Result<Channel> create(const ioc::Json& body, Channel::Kind kind, const model::Actor& who);
  core::Status remove(const std::string& id, Channel::Kind kind, const model::Actor& who);
  std::vector<Channel> list(Channel::Kind kind) const;
  std::optional<Channel> find(const std::string& id) const;
  //! The API's view: the secret is never included.
  static ioc::Json toJson(const Channel& c);

  //! Test hook: waits until no job is queued, retrying or in flight.
  void waitIdle();
  bool emailEnabled() const { return !options_.smtp.host.empty(); }

 private:
  struct Job {
    std::shared_ptr<const Channel> channel;
    std::string event;
    std::string body;     //!< webhook JSON
    std::string subject;  //!< email
    std::string text;     //!< email
    int attempt = 0;
    std::chrono::steady_clock::time_point due;
  };

  void enqueue(const std::shared_ptr<const Channel>& channel, const StaffNotification& n);
  bool push(Job job);
  void work();
  core::Status attempt(const Job& job);
  core::Status persist(const Channel& c, bool removed, const std::string& action,
                       const model::Actor& who);

  storage::Store& store_;
  const units::UnitCatalog& units_;
  const core::Clock& clock_;
  stream::Hub* hub_;
  DispatcherOptions options_;
  WebhookPost post_;

  mutable std::mutex channels_mu_;
  std::map<std::string, std::shared_ptr<const Channel>> channels_;
  std::mutex write_mu_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  std::deque<Job> ready_;
  std::multimap<std::chrono::steady_clock::time_point, Job> retry_;
  int in_flight_ = 0;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point drain_until_{};
  std::vector<std::thread> threads_;

  obs::Counter* webhook_sent_;
  obs::Counter* webhook_failed_;
  obs::Counter* email_sent_;
  obs::Counter* email_failed_;
  obs::Counter* dropped_;
  obs::Counter* in_app_;
};

}  // namespace ioc::notify
