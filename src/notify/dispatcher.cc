#include "notify/dispatcher.h"

#include <algorithm>

#include "core/log.h"
#include "core/thread_name.h"
#include "model/identity.h"
#include "net/http_client.h"
#include "net/url_fetch.h"
#include "notify/signature.h"
#include "obs/metrics.h"
#include "stream/hub.h"

namespace ioc::notify {

using json = ioc::Json;
using std::chrono::steady_clock;

namespace {

constexpr const char* kWebhookKind = "notify.webhook";
constexpr const char* kEmailKind = "notify.email";
constexpr size_t kMaxText = 2048;

const char* kindDocument(Channel::Kind k) {
  return k == Channel::Kind::kWebhook ? kWebhookKind : kEmailKind;
}

core::Error invalid(std::string message) {
  return core::makeError(core::Errc::kInvalidArgument, std::move(message));
}

json channelDocument(const Channel& c) {
  json j = Dispatcher::toJson(c);
  if (c.kind == Channel::Kind::kWebhook) j["secret"] = c.secret;
  return j;
}

core::Result<Channel> channelFromDocument(const json& j, Channel::Kind kind) {
  try {
    Channel c;
    c.kind = kind;
    c.id = j.at("id").get<std::string>();
    c.url = j.value("url", "");
    c.secret = j.value("secret", "");
    c.address = j.value("address", "");
    c.min_severity = parseSeverity(j.value("min_severity", "Minor")).value_or(Severity::kMinor);
    c.events = j.value("events", std::vector<std::string>{});
    c.roles = j.value("roles", std::vector<std::string>{});
    c.unit = j.value("unit", "");
    c.description = j.value("description", "");
    c.created_at_ms = j.value("created_at_ms", int64_t{0});
    c.created_by = j.value("created_by", "");
    return c;
  } catch (const std::exception& e) {
    return core::makeError(core::Errc::kInternal, std::string("bad channel document: ") + e.what());
  }
}

core::Result<std::vector<std::string>> stringList(const json& v, const char* name, size_t max) {
  if (!v.is_array() || v.size() > max) {
    return invalid(std::string(name) + " must be an array of at most " + std::to_string(max) +
                   " strings");
  }
  std::vector<std::string> out;
  for (const auto& x : v) {
    if (!x.is_string() || x.get_ref<const std::string&>().empty() ||
        x.get_ref<const std::string&>().size() > 128) {
      return invalid(std::string(name) + " must hold non-empty strings");
    }
    out.push_back(x.get<std::string>());
  }
  return out;
}

}  // namespace

const char* severityName(Severity s) {
  switch (s) {
    case Severity::kMinor:
      return "Minor";
    case Severity::kModerate:
      return "Moderate";
    case Severity::kSevere:
      return "Severe";
    case Severity::kExtreme:
      return "Extreme";
  }
  return "Minor";
}

std::optional<Severity> parseSeverity(std::string_view s) {
  for (Severity v :
       {Severity::kMinor, Severity::kModerate, Severity::kSevere, Severity::kExtreme}) {
    if (s == severityName(v)) return v;
  }
  return std::nullopt;
}

json toJson(const StaffNotification& n, int64_t at_ms) {
  return {{"event", n.event},    {"severity", severityName(n.severity)},
          {"unit", n.unit_code}, {"roles", n.roles},
          {"title", n.title},    {"body", n.body},
          {"link", n.link},      {"at", core::formatRfc3339(at_ms)},
          {"data", n.payload}};
}

bool Channel::wants(const StaffNotification& n, const units::UnitCatalog& units) const {
  if (n.severity < min_severity) return false;
  if (!events.empty() && std::find(events.begin(), events.end(), n.event) == events.end()) {
    return false;
  }
  if (!unit.empty() && (n.unit_code.empty() || !units.isWithin(n.unit_code, unit))) return false;
  if (!roles.empty() && !n.roles.empty()) {
    bool any = std::any_of(roles.begin(), roles.end(), [&](const std::string& r) {
      return std::find(n.roles.begin(), n.roles.end(), r) != n.roles.end();
    });
    if (!any) return false;
  }
  return true;
}

core::Status postHttp(const std::string& url, const std::string& body,
                      const std::vector<std::pair<std::string, std::string>>& headers,
                      std::chrono::milliseconds timeout) {
  return net::postForStatus(url, body, headers, timeout);
}

WebhookPost httpPoster(std::string ca_file) {
  return [ca_file = std::move(ca_file)](
             const std::string& url, const std::string& body,
             const std::vector<std::pair<std::string, std::string>>& headers,
             std::chrono::milliseconds timeout) {
    return net::postForStatus(url, body, headers, timeout, ca_file);
  };
}

// ---------------------------------------------------------------------------------------------

Dispatcher::Dispatcher(storage::Store& store, const units::UnitCatalog& units,
                       const core::Clock& clock, stream::Hub* hub, DispatcherOptions options,
                       WebhookPost post)
    : store_(store),
      units_(units),
      clock_(clock),
      hub_(hub),
      options_(std::move(options)),
      post_(std::move(post)) {
  auto& family =
      obs::defaultRegistry().counter("staff_notifications_total",
                                     "Staff notifications by channel (in_app, webhook, email) "
                                     "and result (sent, failed, dropped)",
                                     {"channel", "result"});
  webhook_sent_ = &family.with({"webhook", "sent"});
  webhook_failed_ = &family.with({"webhook", "failed"});
  email_sent_ = &family.with({"email", "sent"});
  email_failed_ = &family.with({"email", "failed"});
  dropped_ = &family.with({"any", "dropped"});
  in_app_ = &family.with({"in_app", "sent"});
}

Dispatcher::~Dispatcher() {
  stop(std::chrono::milliseconds(0));
}

core::Status Dispatcher::load() {
  std::map<std::string, std::shared_ptr<const Channel>> loaded;
  for (auto kind : {Channel::Kind::kWebhook, Channel::Kind::kEmail}) {
    auto docs = store_.listDocuments(kindDocument(kind));
    if (!docs.ok()) return docs.error();
    for (const auto& d : *docs) {
      json j = json::parse(d.doc, nullptr, false);
      auto c = channelFromDocument(j, kind);
      if (!c.ok()) {
        core::logWarn("notification channel skipped", {{"id", d.id}, {"error", c.error().message}});
        continue;
      }
      std::string id = c->id;
      loaded[id] = std::make_shared<const Channel>(std::move(*c));
    }
  }
  std::lock_guard lock(channels_mu_);
  channels_ = std::move(loaded);
  return core::Status::success();
}

void Dispatcher::start() {
  std::lock_guard lock(mu_);
  if (!threads_.empty()) return;
  stopping_ = false;
  for (int i = 0; i < std::max(1, options_.workers); ++i) {
    threads_.emplace_back([this] {
      core::nameThisThread("ioc-notify");
      work();
    });
  }
}

void Dispatcher::stop(std::chrono::milliseconds grace) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    drain_until_ = steady_clock::now() + grace;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  std::lock_guard lock(mu_);
  dropped_->inc(ready_.size() + retry_.size());
  ready_.clear();
  retry_.clear();
  idle_cv_.notify_all();
}

void Dispatcher::notify(StaffNotification n) {
  if (n.at_ms == 0) n.at_ms = clock_.nowUnixMs();
  if (hub_) {
    stream::Event e;
    e.topic = "notifications";
    e.unit_code = n.unit_code;
    e.subtype = n.event;
    e.key = n.key;
    e.roles = n.roles;
    e.at_ms = n.at_ms;
    e.payload = {{"severity", severityName(n.severity)},
                 {"title", n.title},
                 {"body", n.body},
                 {"link", n.link},
                 {"data", n.payload}};
    if (hub_->publish(std::move(e))) in_app_->inc();
  }
  std::vector<std::shared_ptr<const Channel>> targets;
  {
    std::lock_guard lock(channels_mu_);
    for (const auto& [id, c] : channels_) {
      if (c->kind == Channel::Kind::kEmail && options_.smtp.host.empty()) continue;
      if (c->wants(n, units_)) targets.push_back(c);
    }
  }
  for (const auto& c : targets) enqueue(c, n);
}

void Dispatcher::enqueue(const std::shared_ptr<const Channel>& channel,
                         const StaffNotification& n) {
  Job job;
  job.channel = channel;
  job.event = n.event;
  if (channel->kind == Channel::Kind::kWebhook) {
    job.body = notify::toJson(n, n.at_ms).dump(-1, ' ', false, json::error_handler_t::replace);
  } else {
    job.subject = std::string("[CityIOC][") + severityName(n.severity) + "] " + n.title;
    job.text = n.body + "\n\n";
    if (!n.link.empty()) job.text += n.link + "\n";
    job.text += std::string("Event: ") + n.event +
                "\nUnit: " + (n.unit_code.empty() ? std::string("(national)") : n.unit_code) +
                "\nAt: " + core::formatRfc3339(n.at_ms) + "\n";
  }
  push(std::move(job));
}

bool Dispatcher::push(Job job) {
  job.due = steady_clock::now();
  {
    std::lock_guard lock(mu_);
    if (stopping_ || ready_.size() + retry_.size() >= options_.capacity) {
      dropped_->inc();
      return false;
    }
    ready_.push_back(std::move(job));
  }
  cv_.notify_one();
  return true;
}

bool Dispatcher::mail(const std::string& address, std::string subject, std::string text,
                      std::string event) {
  if (options_.smtp.host.empty() || !isValidEmail(address)) return false;
  auto channel = std::make_shared<Channel>();
  channel->kind = Channel::Kind::kEmail;
  channel->id = "direct";
  channel->address = address;
  Job job;
  job.channel = std::move(channel);
  job.event = std::move(event);
  job.subject = std::move(subject);
  job.text = std::move(text);
  return push(std::move(job));
}

core::Status Dispatcher::test(const std::string& id, const model::Actor& who) {
  auto c = [&]() -> std::shared_ptr<const Channel> {
    std::lock_guard lock(channels_mu_);
    auto it = channels_.find(id);
    return it == channels_.end() ? nullptr : it->second;
  }();
  if (!c) return core::makeError(core::Errc::kNotFound, "no channel " + id);
  if (c->kind == Channel::Kind::kEmail && options_.smtp.host.empty()) {
    return core::makeError(core::Errc::kConflict, "email is off: smtp.host is not set");
  }
  StaffNotification n;
  n.event = "webhook.test";
  n.severity = Severity::kMinor;
  n.unit_code = c->unit;
  n.title = "CityIOC test notification";
  n.body = "A test notification sent by " + who.name + " to check this channel.";
  n.payload = {{"channel", c->id}, {"requested_by", who.name}};
  n.at_ms = clock_.nowUnixMs();
  enqueue(c, n);
  return core::Status::success();
}

void Dispatcher::work() {
  std::unique_lock lock(mu_);
  while (true) {
    const auto now = steady_clock::now();
    if (stopping_ && now >= drain_until_) return;
    // Retries that are due join the ready queue.
    while (!retry_.empty() && retry_.begin()->first <= now) {
      ready_.push_back(std::move(retry_.begin()->second));
      retry_.erase(retry_.begin());
    }
    if (ready_.empty()) {
      if (stopping_) return;  // retries are not waited for at shutdown
      if (in_flight_ == 0 && retry_.empty()) idle_cv_.notify_all();
      if (retry_.empty()) {
        cv_.wait(lock);
      } else {
        cv_.wait_until(lock, retry_.begin()->first);
      }
      continue;
    }
    Job job = std::move(ready_.front());
    ready_.pop_front();
    ++in_flight_;
    lock.unlock();
    core::Status s = attempt(job);
    lock.lock();
    --in_flight_;
    const bool webhook = job.channel->kind == Channel::Kind::kWebhook;
    if (s.ok()) {
      (webhook ? webhook_sent_ : email_sent_)->inc();
    } else if (++job.attempt >= options_.max_attempts ||
               s.error().code == core::Errc::kInvalidArgument) {
      (webhook ? webhook_failed_ : email_failed_)->inc();
      core::logWarn("notification failed", {{"channel", job.channel->id},
                                            {"event", job.event},
                                            {"attempts", job.attempt},
                                            {"error", s.error().message}});
    } else {
      auto delay = options_.backoff * (1 << std::min(job.attempt - 1, 16));
      delay = std::min(delay, options_.max_backoff);
      auto due = steady_clock::now() + delay;
      retry_.emplace(due, std::move(job));
    }
    if (ready_.empty() && retry_.empty() && in_flight_ == 0) idle_cv_.notify_all();
  }
}

core::Status Dispatcher::attempt(const Job& job) {
  try {
    if (job.channel->kind == Channel::Kind::kWebhook) {
      const std::string ts = std::to_string(clock_.nowUnixMs() / 1000);
      std::vector<std::pair<std::string, std::string>> headers = {
          {"Content-Type", "application/json"},
          {"X-CityIOC-Event", job.event},
          {"X-CityIOC-Timestamp", ts},
          {"X-CityIOC-Signature", webhookSignature(job.channel->secret, ts, job.body)},
      };
      return post_(job.channel->url, job.body, headers, options_.timeout);
    }
    return sendMail(options_.smtp, Mail{{job.channel->address}, job.subject, job.text});
  } catch (const std::exception& e) {
    return core::makeError(core::Errc::kUnavailable, e.what());
  }
}

void Dispatcher::waitIdle() {
  std::unique_lock lock(mu_);
  idle_cv_.wait_for(lock, std::chrono::seconds(30),
                    [this] { return ready_.empty() && retry_.empty() && in_flight_ == 0; });
}

// ---------------------------------------------------------------------------------------------
// Configuration

json Dispatcher::toJson(const Channel& c) {
  json j = {{"id", c.id},
            {"min_severity", severityName(c.min_severity)},
            {"events", c.events},
            {"unit", c.unit},
            {"description", c.description},
            {"created_at", core::formatRfc3339(c.created_at_ms)},
            {"created_at_ms", c.created_at_ms},
            {"created_by", c.created_by}};
  if (c.kind == Channel::Kind::kWebhook) {
    j["url"] = c.url;
  } else {
    j["address"] = c.address;
    j["roles"] = c.roles;
  }
  return j;
}

core::Result<Channel> Dispatcher::create(const json& body, Channel::Kind kind,
                                         const model::Actor& who) {
  if (!body.is_object()) return invalid("the body must be a JSON object");
  Channel c;
  c.kind = kind;
  c.unit = who.unit;
  const bool webhook = kind == Channel::Kind::kWebhook;
  for (const auto& [name, v] : body.items()) {
    if (webhook && name == "url") {
      if (!v.is_string()) return invalid("url must be a string");
      c.url = v.get<std::string>();
    } else if (webhook && name == "secret") {
      if (!v.is_string() || v.get_ref<const std::string&>().size() < 16 ||
          v.get_ref<const std::string&>().size() > 256) {
        return invalid("secret must be a string of 16 to 256 characters");
      }
      c.secret = v.get<std::string>();
    } else if (!webhook && name == "address") {
      if (!v.is_string() || !isValidEmail(v.get_ref<const std::string&>())) {
        return invalid("address must be an email address");
      }
      c.address = v.get<std::string>();
    } else if (!webhook && name == "roles") {
      auto roles = stringList(v, "roles", 16);
      if (!roles.ok()) return roles.error();
      for (const auto& r : *roles) {
        if (!model::parseRole(r)) return invalid("unknown role " + r);
      }
      c.roles = std::move(*roles);
    } else if (name == "min_severity") {
      auto s = v.is_string() ? parseSeverity(v.get<std::string>()) : std::nullopt;
      if (!s) return invalid("min_severity must be one of Minor, Moderate, Severe, Extreme");
      c.min_severity = *s;
    } else if (name == "events") {
      auto events = stringList(v, "events", 64);
      if (!events.ok()) return events.error();
      c.events = std::move(*events);
    } else if (name == "unit") {
      if (!v.is_string()) return invalid("unit must be a unit code");
      c.unit = v.get<std::string>();
      if (!c.unit.empty() && !units_.find(c.unit)) return invalid("unknown unit " + c.unit);
      if (!units_.isWithin(c.unit, who.unit) || (c.unit.empty() && !who.unit.empty())) {
        return core::makeError(core::Errc::kForbidden, "unit " + c.unit + " is outside yours");
      }
    } else if (name == "description") {
      if (!v.is_string() || v.get_ref<const std::string&>().size() > kMaxText) {
        return invalid("description must be a string of at most 2048 bytes");
      }
      c.description = v.get<std::string>();
    } else {
      return invalid("unknown member " + name);
    }
  }
  if (webhook) {
    if (c.url.empty()) return invalid("url is required");
    auto parsed = net::parseHttpUrl(c.url);
    if (!parsed.ok()) return invalid("url must be an http:// or https:// URL");
    if (c.url.size() > 2048) return invalid("url is too long");
    if (c.secret.empty()) c.secret = randomHex(32);
  } else if (c.address.empty()) {
    return invalid("address is required");
  }
  c.id = (webhook ? "wh-" : "em-") + randomHex(8);
  c.created_at_ms = clock_.nowUnixMs();
  c.created_by = who.name;
  std::lock_guard write(write_mu_);
  {
    std::lock_guard lock(channels_mu_);
    if (channels_.size() >= options_.max_channels) {
      return core::makeError(
          core::Errc::kConflict,
          "too many notification channels (at most " + std::to_string(options_.max_channels) + ")");
    }
  }
  if (auto s = persist(c, false, webhook ? "webhook.create" : "email_channel.create", who);
      !s.ok()) {
    return s.error();
  }
  std::lock_guard lock(channels_mu_);
  channels_[c.id] = std::make_shared<const Channel>(c);
  return c;
}

core::Status Dispatcher::remove(const std::string& id, Channel::Kind kind,
                                const model::Actor& who) {
  std::lock_guard write(write_mu_);
  std::shared_ptr<const Channel> c;
  {
    std::lock_guard lock(channels_mu_);
    auto it = channels_.find(id);
    if (it != channels_.end() && it->second->kind == kind) c = it->second;
  }
  if (!c) return core::makeError(core::Errc::kNotFound, "no such channel " + id);
  const bool webhook = kind == Channel::Kind::kWebhook;
  if (auto s = persist(*c, true, webhook ? "webhook.delete" : "email_channel.delete", who);
      !s.ok()) {
    return s;
  }
  std::lock_guard lock(channels_mu_);
  channels_.erase(id);
  return core::Status::success();
}

std::vector<Channel> Dispatcher::list(Channel::Kind kind) const {
  std::vector<Channel> out;
  std::lock_guard lock(channels_mu_);
  for (const auto& [id, c] : channels_) {
    if (c->kind == kind) out.push_back(*c);
  }
  return out;
}

std::optional<Channel> Dispatcher::find(const std::string& id) const {
  std::lock_guard lock(channels_mu_);
  auto it = channels_.find(id);
  if (it == channels_.end()) return std::nullopt;
  return *it->second;
}

core::Status Dispatcher::persist(const Channel& c, bool removed, const std::string& action,
                                 const model::Actor& who) {
  const int64_t now = clock_.nowUnixMs();
  const char* kind = kindDocument(c.kind);
  model::StoredDocument doc{kind, c.id, channelDocument(c).dump(), now};
  // The audit names the destination, never the secret.
  json detail =
      c.kind == Channel::Kind::kWebhook ? json{{"url", c.url}} : json{{"address", c.address}};
  detail["unit"] = c.unit;
  auto audit =
      model::makeAuditEntry(who, action, std::string(kind) + ":" + c.id, detail.dump(), now);
  return store_.writeSync([doc = std::move(doc), audit = std::move(audit), removed,
                           kind = std::string(kind), id = c.id](storage::WriteTx& tx) {
    auto s = removed ? tx.deleteDocument(kind, id) : tx.putDocument(doc);
    if (!s.ok()) return s;
    auto seq = tx.appendAudit(audit);
    return seq.ok() ? core::Status::success() : core::Status(seq.error());
  });
}

}  // namespace ioc::notify
