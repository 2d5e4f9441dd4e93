#include "mqtt/batcher.h"

#include "core/log.h"
#include "core/thread_name.h"

namespace ioc::mqtt {

Batcher::Batcher(Sink sink, Options options, Hooks hooks)
    : sink_(std::move(sink)), options_(options), hooks_(std::move(hooks)) {
  if (options_.max_batch == 0) options_.max_batch = 1;
  if (options_.max_in_flight == 0) options_.max_in_flight = 1;
  thread_ = std::thread([this] {
    core::nameThisThread("ioc-mqtt-ingest");
    run();
  });
}

Batcher::~Batcher() {
  stop();
}

void Batcher::add(const std::string& unit_code, context::Observation observation) {
  std::unique_lock lock(mu_);
  // The batcher thread empties a full batch as soon as it has a slot for it.
  space_.wait(lock, [this] { return count_ < options_.max_batch || stop_; });
  if (count_ == 0) first_at_ = std::chrono::steady_clock::now();
  auto& batch = pending_[unit_code];
  // One allocation per batch instead of ~10 doublings (each a large block for malloc to find).
  if (batch.empty()) batch.reserve(options_.max_batch);
  batch.push_back(std::move(observation));
  ++count_;
  if (options_.dispatch_inline_at > 0 && count_ >= options_.dispatch_inline_at &&
      dispatching_ == 0) {
    dispatchPending(lock);
    return;
  }
  if (count_ == 1 || count_ >= options_.max_batch) wake_.notify_one();
}

void Batcher::flush() {
  std::unique_lock lock(mu_);
  ++flush_requests_;
  wake_.notify_one();
  idle_.wait(lock, [this] { return count_ == 0 && dispatching_ == 0 && in_flight_ == 0; });
}

void Batcher::stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_ && !thread_.joinable()) return;
    stop_ = true;
    wake_.notify_one();
    space_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  // The thread sent everything before it ended; wait for the completions.
  std::unique_lock lock(mu_);
  idle_.wait(lock, [this] { return in_flight_ == 0; });
}

size_t Batcher::inFlight() const {
  std::lock_guard lock(mu_);
  return in_flight_;
}

size_t Batcher::pending() const {
  std::lock_guard lock(mu_);
  return count_;
}

void Batcher::completed(size_t n, const core::Status& s) {
  if (hooks_.on_done) hooks_.on_done(n, s);
  std::lock_guard lock(mu_);
  --in_flight_;
  slots_.notify_one();
  if (in_flight_ == 0 && count_ == 0 && dispatching_ == 0) idle_.notify_all();
}

void Batcher::run() {
  std::unique_lock lock(mu_);
  uint64_t flushes_seen = 0;
  while (true) {
    wake_.wait(lock, [&] { return count_ > 0 || stop_ || flush_requests_ != flushes_seen; });
    if (count_ == 0) {
      flushes_seen = flush_requests_;
      if (in_flight_ == 0) idle_.notify_all();
      if (stop_) break;
      continue;
    }
    // Linger so that what arrives within the next ~2 ms shares this batch (and its commit).
    wake_.wait_until(lock, first_at_ + options_.linger, [&] {
      return count_ >= options_.max_batch || stop_ || flush_requests_ != flushes_seen;
    });
    flushes_seen = flush_requests_;
    // A producer may be dispatching inline: batches leave in the order they were filled.
    wake_.wait(lock, [&] { return dispatching_ == 0; });
    if (count_ > 0) dispatchPending(lock);
  }
}

void Batcher::dispatchPending(std::unique_lock<std::mutex>& lock) {
  auto batch = std::move(pending_);
  pending_.clear();
  count_ = 0;
  ++dispatching_;
  space_.notify_all();
  for (auto& [unit, observations] : batch) {
    slots_.wait(lock, [&] { return in_flight_ < options_.max_in_flight; });
    ++in_flight_;
    const size_t n = observations.size();
    lock.unlock();
    if (hooks_.on_dispatch) hooks_.on_dispatch(n);
    try {
      sink_(std::move(observations), context::Visibility{unit},
            [this, n](const core::Status& s) { completed(n, s); });
    } catch (const std::exception& e) {
      // The broker does not throw; if it ever does, the batch is lost, not the ingest thread.
      core::logError("mqtt ingest failed", {{"error", e.what()}});
      completed(n, core::makeError(core::Errc::kInternal, e.what()));
    }
    lock.lock();
  }
  --dispatching_;
  wake_.notify_one();
  if (count_ == 0 && in_flight_ == 0) idle_.notify_all();
}

}  // namespace ioc::mqtt
