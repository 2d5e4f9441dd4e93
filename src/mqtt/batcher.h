#pragma once
// Groups observations arriving close together into one broker ingest call, so that a burst of
// MQTT messages shares one group commit, while bounding the ingests in flight.
// Threads: add() from any producer thread; the producer whose add() fills `dispatch_inline_at`
// sends the batch itself (its observations are still in its cache), the batcher thread sends
// what lingers; one batch is sent at a time, in the order batches filled. Back-pressure:
// add() blocks while the open batch is full and every in-flight slot is taken — the data is never
// dropped, the producer (the MQTT network thread) just stops reading, and TCP pushes back on the
// publishers. Lifecycle: construct → add()… → stop() (after the producers have stopped) sends
// what is pending and waits for every ingest to complete.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "context/broker.h"
#include "core/result.h"

namespace ioc::mqtt {

class Batcher {
 public:
  //! Broker::ingest's shape: must not block; calls `done` once, on any thread (possibly inline).
  using Sink = std::function<void(std::vector<context::Observation>, const context::Visibility&,
                                  std::function<void(core::Status)>)>;

  struct Options {
    std::chrono::microseconds linger{2000};  //!< how long the first observation waits for company
    size_t max_batch = 1000;                 //!< observations per batch (all units together)
    size_t max_in_flight = 64;               //!< ingest calls not yet completed
    size_t dispatch_inline_at = 256;  //!< a batch this full is sent by the producer; 0 = never
  };

  struct Hooks {
    //! Each ingest call, with its number of observations (before it is made).
    std::function<void(size_t)> on_dispatch;
    //! Each completed ingest call (on the sink's completion thread; keep it short).
    std::function<void(size_t, const core::Status&)> on_done;
  };

  Batcher(Sink sink, Options options, Hooks hooks = {});
  ~Batcher();  // stop()
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  //! Queues an observation for entities of `unit_code` (the device's unit: whose entities it may
  //! create and update). Blocks while the batch is full and no in-flight slot is free.
  void add(const std::string& unit_code, context::Observation observation);
  //! Dispatches what is pending now and waits until every ingest so far has completed.
  void flush();
  //! flush(), then ends the batcher thread. Idempotent. add() must not be called afterwards.
  void stop();

  size_t inFlight() const;
  size_t pending() const;

 private:
  void run();
  void dispatchPending(std::unique_lock<std::mutex>& lock);
  void completed(size_t n, const core::Status& s);

  Sink sink_;
  Options options_;
  Hooks hooks_;
  mutable std::mutex mu_;
  std::condition_variable wake_;   //!< batcher thread: work, flush or stop
  std::condition_variable space_;  //!< producers: the open batch has room
  std::condition_variable slots_;  //!< batcher thread: an in-flight slot is free
  std::condition_variable idle_;   //!< flush(): nothing pending and nothing in flight
  std::map<std::string, std::vector<context::Observation>> pending_;  //!< by unit
  size_t count_ = 0;
  std::chrono::steady_clock::time_point first_at_{};
  size_t in_flight_ = 0;
  size_t dispatching_ = 0;  //!< batches taken from pending_ but not yet all handed to the sink
  uint64_t flush_requests_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace ioc::mqtt
