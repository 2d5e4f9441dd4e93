// Batching of observations into broker ingest calls: lingering, size cap, grouping by unit, the
// in-flight bound with back-pressure, and flush on stop.
#include "mqtt/batcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

namespace ioc::mqtt {
namespace {

using namespace std::chrono_literals;

context::Observation obs(int i) {
  return {"urn:ngsi-ld:T:" + std::to_string(i), "https://x/T", ioc::Json::object()};
}

//! A sink that records calls and completes them inline or on demand.
struct FakeSink {
  struct Call {
    std::vector<context::Observation> observations;
    std::string unit;
    std::function<void(core::Status)> done;
  };
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Call> calls;
  bool complete_inline = true;

  Batcher::Sink sink() {
    return [this](std::vector<context::Observation> o, const context::Visibility& who,
                  std::function<void(core::Status)> done) {
      std::unique_lock lock(mu);
      calls.push_back({std::move(o), who.unit_code, done});
      cv.notify_all();
      if (complete_inline) {
        lock.unlock();
        done(core::Status::success());
      }
    };
  }
  size_t count() {
    std::lock_guard lock(mu);
    return calls.size();
  }
  bool waitFor(size_t n, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, timeout, [&] { return calls.size() >= n; });
  }
  void completeAll() {
    std::vector<std::function<void(core::Status)>> pending;
    {
      std::lock_guard lock(mu);
      for (auto& c : calls) {
        if (c.done) pending.push_back(std::exchange(c.done, nullptr));
      }
    }
    for (auto& d : pending) d(core::Status::success());
  }
};

TEST(Batcher, ObservationsArrivingTogetherShareOneCall) {
  FakeSink fake;
  std::atomic<size_t> done_total{0};
  Batcher::Hooks hooks;
  hooks.on_done = [&](size_t n, const core::Status& s) {
    EXPECT_TRUE(s.ok());
    done_total += n;
  };
  Batcher b(fake.sink(), {.linger = 50ms, .max_batch = 1000, .max_in_flight = 64}, hooks);
  for (int i = 0; i < 10; ++i) b.add("46", obs(i));
  ASSERT_TRUE(fake.waitFor(1));
  b.flush();
  ASSERT_EQ(fake.count(), 1u);
  EXPECT_EQ(fake.calls[0].observations.size(), 10u);
  EXPECT_EQ(fake.calls[0].unit, "46");
  EXPECT_EQ(fake.calls[0].observations[3].entity_id, "urn:ngsi-ld:T:3");  // order kept
  EXPECT_EQ(done_total.load(), 10u);
}

TEST(Batcher, LingerIsBounded) {
  FakeSink fake;
  Batcher b(fake.sink(), {.linger = 2ms, .max_batch = 1000, .max_in_flight = 64});
  auto start = std::chrono::steady_clock::now();
  b.add("46", obs(1));
  ASSERT_TRUE(fake.waitFor(1, 2s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);
}

TEST(Batcher, FullBatchGoesAtOnceAndUnitsAreSeparated) {
  FakeSink fake;
  std::vector<size_t> sizes;
  std::mutex sizes_mu;
  Batcher::Hooks hooks;
  hooks.on_dispatch = [&](size_t n) {
    std::lock_guard lock(sizes_mu);
    sizes.push_back(n);
  };
  Batcher b(fake.sink(), {.linger = 10s, .max_batch = 4, .max_in_flight = 64}, hooks);
  b.add("46", obs(1));
  b.add("01", obs(2));
  b.add("46", obs(3));
  b.add("", obs(4));  // the 4th fills the batch: no 10 s linger
  ASSERT_TRUE(fake.waitFor(3, 5s));
  b.flush();
  std::map<std::string, size_t> by_unit;
  for (const auto& c : fake.calls) by_unit[c.unit] += c.observations.size();
  EXPECT_EQ(by_unit, (std::map<std::string, size_t>{{"", 1}, {"01", 1}, {"46", 2}}));
  std::lock_guard lock(sizes_mu);
  EXPECT_EQ(sizes.size(), 3u);
}

TEST(Batcher, InFlightIsBoundedAndProducersWait) {
  FakeSink fake;
  fake.complete_inline = false;
  Batcher b(fake.sink(), {.linger = 1ms, .max_batch = 2, .max_in_flight = 2});
  // Two batches in flight, one full batch pending: the next add must block.
  for (int i = 0; i < 2; ++i) {
    b.add("46", obs(i));
    ASSERT_TRUE(fake.waitFor(static_cast<size_t>(i + 1)));
  }
  EXPECT_EQ(b.inFlight(), 2u);
  // The batcher thread takes {10, 11} and waits for a slot; {12, 13} fill the next batch, so 14
  // must wait. All five go from another thread: if the batcher thread is slow to take {10, 11},
  // 12 waits too, and this thread must stay free to complete the calls.
  std::atomic<bool> added{false};
  std::thread producer([&] {
    for (int i = 10; i < 15; ++i) b.add("46", obs(i));
    added = true;
  });
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(added.load()) << "add() should wait while the batch is full and slots are taken";
  EXPECT_EQ(fake.count(), 2u);
  fake.completeAll();  // frees both slots: the pending batch goes, the producer continues
  producer.join();
  EXPECT_TRUE(added.load());
  ASSERT_TRUE(fake.waitFor(3));
  std::thread finisher([&] {
    while (b.pending() > 0 || b.inFlight() > 0) {
      fake.completeAll();
      std::this_thread::sleep_for(1ms);
    }
  });
  b.flush();
  finisher.join();
  size_t total = 0;
  for (const auto& c : fake.calls) total += c.observations.size();
  EXPECT_EQ(total, 7u);  // nothing dropped
}

TEST(Batcher, StopSendsPendingAndWaitsForCompletions) {
  FakeSink fake;
  fake.complete_inline = false;
  auto b = std::make_unique<Batcher>(
      fake.sink(), Batcher::Options{.linger = 10s, .max_batch = 1000, .max_in_flight = 4});
  b->add("46", obs(1));
  b->add("46", obs(2));
  std::thread completer([&] {
    EXPECT_TRUE(fake.waitFor(1));
    std::this_thread::sleep_for(50ms);
    fake.completeAll();
  });
  b->stop();  // does not wait the 10 s linger, but does wait for the completion
  EXPECT_EQ(b->inFlight(), 0u);
  completer.join();
  ASSERT_EQ(fake.count(), 1u);
  EXPECT_EQ(fake.calls[0].observations.size(), 2u);
  b->stop();  // idempotent
}

TEST(Batcher, FailuresAreReported) {
  std::atomic<size_t> failed{0};
  Batcher::Hooks hooks;
  hooks.on_done = [&](size_t n, const core::Status& s) {
    if (!s.ok()) failed += n;
  };
  Batcher b(
      [](std::vector<context::Observation>, const context::Visibility&,
         std::function<void(core::Status)> done) {
        done(core::makeError(core::Errc::kUnavailable, "disk full"));
      },
      {.linger = 1ms, .max_batch = 1000, .max_in_flight = 4}, hooks);
  b.add("46", obs(1));
  b.add("46", obs(2));
  b.flush();
  EXPECT_EQ(failed.load(), 2u);
}

TEST(Batcher, AFullBurstIsDispatchedOnTheProducersThread) {
  std::vector<std::thread::id> callers;
  std::mutex mu;
  Batcher b(
      [&](std::vector<context::Observation>, const context::Visibility&,
          std::function<void(core::Status)> done) {
        {
          std::lock_guard lock(mu);
          callers.push_back(std::this_thread::get_id());
        }
        done(core::Status::success());
      },
      {.linger = 10s, .max_batch = 1000, .max_in_flight = 4, .dispatch_inline_at = 3});
  for (int i = 0; i < 3; ++i) b.add("46", obs(i));
  {
    std::lock_guard lock(mu);  // the third add() sent the batch before it returned
    ASSERT_EQ(callers.size(), 1u);
    EXPECT_EQ(callers[0], std::this_thread::get_id());
  }
  b.flush();
}

TEST(Batcher, AnInlineBatchNeverOvertakesOneTheBatcherThreadIsSending) {
  // The batcher thread's first batch blocks inside the sink; meanwhile the producer fills the
  // inline threshold. Sending that batch inline would put the newer readings first.
  std::mutex mu;
  std::condition_variable cv;
  bool first_entered = false, release = false;
  std::vector<std::string> applied;
  Batcher b(
      [&](std::vector<context::Observation> o, const context::Visibility&,
          std::function<void(core::Status)> done) {
        std::unique_lock lock(mu);
        if (!first_entered) {
          first_entered = true;
          cv.notify_all();
          cv.wait(lock, [&] { return release; });
        }
        applied.push_back(o.front().entity_id);  // in the order the broker would apply them
        lock.unlock();
        done(core::Status::success());
      },
      {.linger = 1ms, .max_batch = 1000, .max_in_flight = 4, .dispatch_inline_at = 3});
  b.add("46", obs(1));
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 5s, [&] { return first_entered; }));
  }
  for (int i = 2; i <= 4; ++i) b.add("46", obs(i));  // reaches the threshold: must not send
  {
    std::lock_guard lock(mu);
    release = true;
    cv.notify_all();
  }
  b.flush();
  std::lock_guard lock(mu);
  ASSERT_EQ(applied.size(), 2u);
  EXPECT_EQ(applied[0], "urn:ngsi-ld:T:1");
  EXPECT_EQ(applied[1], "urn:ngsi-ld:T:2");
}

}  // namespace
}  // namespace ioc::mqtt
