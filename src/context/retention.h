#pragma once
// How long time series are kept: the configured defaults plus per-attribute overrides that an
// administrator sets through the API (kept as "retention" documents, audited). A background
// thread applies the policy once an hour; applying it drops whole chunks, so a point may outlive
// its limit by at most one chunk.
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "core/clock.h"
#include "model/audit_entry.h"
#include "storage/store.h"

namespace ioc::context {

class RetentionService {
 public:
  RetentionService(storage::Store& store, const core::Clock& clock,
                   storage::RetentionPolicy defaults);
  ~RetentionService();

  core::Status load();
  storage::RetentionPolicy policy() const;
  //! `attribute` expanded; days 0 = for ever.
  core::Status setAttributeDays(const std::string& attribute, int64_t days,
                                const model::Actor& actor);
  core::Status clearAttribute(const std::string& attribute, const model::Actor& actor);
  //! Applies the policy now (blocking until durable).
  core::Status applyOnce();
  void start(std::chrono::milliseconds every = std::chrono::hours(1));
  void stop();

 private:
  storage::Store& store_;
  const core::Clock& clock_;
  mutable std::mutex mu_;
  storage::RetentionPolicy policy_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace ioc::context
