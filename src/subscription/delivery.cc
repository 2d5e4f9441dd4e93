#include "subscription/delivery.h"

#include <algorithm>

#include "core/thread_name.h"

namespace ioc::subscription {

using json = ioc::Json;

Dispatcher::Dispatcher(DeliveryOptions options, SenderFactory senders, OutcomeFn outcome)
    : options_(options), senders_(std::move(senders)), outcome_(std::move(outcome)) {}

Dispatcher::~Dispatcher() {
  stop(std::chrono::milliseconds(0));
}

void Dispatcher::start() {
  for (int i = 0; i < std::max(1, options_.workers); ++i)
    threads_.emplace_back([this] {
      core::nameThisThread("ioc-delivery");
      work();
    });
}

bool Dispatcher::enqueue(Message m) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || ready_.size() + retry_.size() >= options_.capacity) return false;
    ready_.push_back(std::move(m));
  }
  cv_.notify_one();
  return true;
}

size_t Dispatcher::depth() const {
  std::lock_guard lock(mu_);
  return ready_.size() + retry_.size();
}

std::chrono::milliseconds Dispatcher::backoffFor(int attempt) const {
  auto d = options_.backoff;
  for (int i = 1; i < attempt && d < options_.max_backoff; ++i) d *= 2;
  return std::min(d, options_.max_backoff);
}

std::optional<Message> Dispatcher::takeLocked(SteadyTime now) {
  auto free = [this](const Message& m) { return !in_flight_.contains(m.sub->endpoint.uri); };
  // Due retries first: they are the oldest notifications.
  for (auto it = retry_.begin(); it != retry_.end() && it->first <= now; ++it) {
    if (!stopping_ && free(it->second)) {
      Message m = std::move(it->second);
      retry_.erase(it);
      return m;
    }
  }
  for (auto it = ready_.begin(); it != ready_.end(); ++it) {
    if (free(*it)) {
      Message m = std::move(*it);
      ready_.erase(it);
      return m;
    }
  }
  return std::nullopt;
}

void Dispatcher::work() {
  std::unique_ptr<Sender> sender = senders_();
  std::unique_lock lock(mu_);
  while (true) {
    const auto now = std::chrono::steady_clock::now();
    if (stopping_ && (now >= drain_until_ || ready_.empty())) break;
    std::optional<Message> m = takeLocked(now);
    if (!m) {
      auto until = stopping_ ? drain_until_ : now + std::chrono::seconds(1);
      if (!stopping_ && !retry_.empty()) until = std::min(until, retry_.begin()->first);
      cv_.wait_until(lock, until);
      continue;
    }
    const std::string key = m->sub->endpoint.uri;
    ++in_flight_[key];
    lock.unlock();
    auto timeout = options_.timeout;
    if (m->sub->endpoint.timeout_ms > 0) {
      timeout = std::min(timeout, std::chrono::milliseconds(m->sub->endpoint.timeout_ms));
    }
    const bool ok = sender->send(*m, timeout).ok();
    ++m->attempt;
    const bool again = !ok && m->attempt < options_.max_attempts;
    outcome_(*m, ok ? Outcome::kSent : again ? Outcome::kRetrying : Outcome::kFailed);
    lock.lock();
    if (--in_flight_[key] == 0) in_flight_.erase(key);
    if (again) {
      m->due = std::chrono::steady_clock::now() + backoffFor(m->attempt);
      retry_.emplace(m->due, std::move(*m));
    }
    cv_.notify_all();  // the endpoint is free again
  }
}

void Dispatcher::stop(std::chrono::milliseconds grace) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      stopping_ = true;
      drain_until_ = std::chrono::steady_clock::now() + grace;
    }
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  std::deque<Message> left;
  {
    std::lock_guard lock(mu_);
    left.swap(ready_);
    for (auto& [due, m] : retry_) left.push_back(std::move(m));
    retry_.clear();
  }
  for (const auto& m : left) outcome_(m, Outcome::kDropped);
}

namespace {

std::string linkHeader(const Subscription& s) {
  const std::string url = s.terms && !s.terms->linkUrl().empty()
                              ? s.terms->linkUrl()
                              : std::string(context::kCoreContextUrl);
  return "<" + url +
         ">; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"";
}

bool wantsLd(const Subscription& s) {
  return s.endpoint.accept == "application/ld+json";
}

json withContext(const Message& m) {
  json n = m.notification;
  if (wantsLd(*m.sub)) {
    n["@context"] = m.sub->context.is_null() ? json(context::kCoreContextUrl) : m.sub->context;
  }
  return n;
}

}  // namespace

HttpPayload httpPayload(const Message& m) {
  HttpPayload p;
  p.body = withContext(m).dump(-1, ' ', false, json::error_handler_t::replace);
  const Subscription& s = *m.sub;
  p.headers.emplace_back("Content-Type", s.endpoint.accept);
  if (!wantsLd(s)) p.headers.emplace_back("Link", linkHeader(s));
  for (const auto& kv : s.endpoint.receiver_info) p.headers.push_back(kv);
  return p;
}

std::string mqttPayload(const Message& m) {
  const Subscription& s = *m.sub;
  json metadata = {{"Content-Type", s.endpoint.accept}};
  if (!wantsLd(s)) metadata["Link"] = linkHeader(s);
  for (const auto& [k, v] : s.endpoint.receiver_info) metadata[k] = v;
  json out = {{"metadata", metadata}, {"body", withContext(m)}};
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace ioc::subscription
