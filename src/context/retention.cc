#include "context/retention.h"

#include "core/json.h"
#include "core/log.h"
#include "core/thread_name.h"

namespace ioc::context {

namespace {
constexpr const char* kKind = "retention";
}  // namespace

RetentionService::RetentionService(storage::Store& store, const core::Clock& clock,
                                   storage::RetentionPolicy defaults)
    : store_(store), clock_(clock), policy_(std::move(defaults)) {}

RetentionService::~RetentionService() {
  stop();
}

core::Status RetentionService::load() {
  auto docs = store_.listDocuments(kKind);
  if (!docs.ok()) return docs.error();
  std::lock_guard lock(mu_);
  for (const auto& d : *docs) {
    auto j = ioc::Json::parse(d.doc, nullptr, false);
    if (j.is_object() && j.contains("rawDays") && j["rawDays"].is_number_integer()) {
      policy_.raw_days_by_attribute[d.id] = j["rawDays"].get<int64_t>();
    }
  }
  return core::Status::success();
}

storage::RetentionPolicy RetentionService::policy() const {
  std::lock_guard lock(mu_);
  return policy_;
}

core::Status RetentionService::setAttributeDays(const std::string& attribute, int64_t days,
                                                const model::Actor& actor) {
  const int64_t now = clock_.nowUnixMs();
  ioc::Json doc = {{"rawDays", days}};
  auto audit = model::makeAuditEntry(actor, "timeseries.retention.set", attribute, doc.dump(), now);
  auto s = store_.writeSync([&](storage::WriteTx& tx) -> core::Status {
    if (auto put = tx.putDocument({kKind, attribute, doc.dump(), now}); !put.ok()) return put;
    auto seq = tx.appendAudit(audit);
    return seq.ok() ? core::Status::success() : core::Status(seq.error());
  });
  if (!s.ok()) return s;
  std::lock_guard lock(mu_);
  policy_.raw_days_by_attribute[attribute] = days;
  return s;
}

core::Status RetentionService::clearAttribute(const std::string& attribute,
                                              const model::Actor& actor) {
  {
    std::lock_guard lock(mu_);
    if (!policy_.raw_days_by_attribute.count(attribute)) {
      return core::makeError(core::Errc::kNotFound, "no retention override for " + attribute);
    }
  }
  auto audit =
      model::makeAuditEntry(actor, "timeseries.retention.clear", attribute, "", clock_.nowUnixMs());
  auto s = store_.writeSync([&](storage::WriteTx& tx) -> core::Status {
    if (auto del = tx.deleteDocument(kKind, attribute); !del.ok()) return del;
    auto seq = tx.appendAudit(audit);
    return seq.ok() ? core::Status::success() : core::Status(seq.error());
  });
  if (!s.ok()) return s;
  std::lock_guard lock(mu_);
  policy_.raw_days_by_attribute.erase(attribute);
  return s;
}

core::Status RetentionService::applyOnce() {
  auto policy = this->policy();
  const int64_t now = clock_.nowUnixMs();
  return store_.writeSync([&](storage::WriteTx& tx) { return tx.applyRetention(policy, now); });
}

void RetentionService::start(std::chrono::milliseconds every) {
  thread_ = std::thread([this, every] {
    core::nameThisThread("ioc-retention");
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, every, [this] { return stopping_; })) {
      lock.unlock();
      if (auto s = applyOnce(); !s.ok()) {
        core::logWarn("time-series retention failed", {{"error", s.error().message}});
      }
      lock.lock();
    }
  });
}

void RetentionService::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace ioc::context
