#pragma once
// Delivery of notifications: a bounded queue served by a few worker threads, a deadline per
// attempt, retries with exponential back-off, and at most one attempt in flight per endpoint, so
// that a slow or dead receiver holds one worker at a time and never the others' notifications.
// Nothing here blocks the producer: a full queue refuses the message and the caller counts it.
// Lifecycle: start() → enqueue()… → stop(grace): no new messages; what is ready is still sent
// until the grace ends; retries waiting and anything left then are dropped (and reported).
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "subscription/subscription.h"

namespace ioc::subscription {

using SteadyTime = std::chrono::steady_clock::time_point;

//! One notification on its way: the subscription (its endpoint and @context) and the compacted
//! Notification object, without @context (the sender adds it as the endpoint wants).
struct Message {
  SubscriptionPtr sub;
  ioc::Json notification;
  SteadyTime committed;  //!< when the change that caused it was durable (latency metric)
  int attempt = 0;       //!< attempts made so far
  SteadyTime due;        //!< for retries
};

//! Sends one message, synchronously, within `timeout`. One instance per worker thread.
class Sender {
 public:
  virtual ~Sender() = default;
  virtual core::Status send(const Message& m, std::chrono::milliseconds timeout) = 0;
};
using SenderFactory = std::function<std::unique_ptr<Sender>()>;

struct DeliveryOptions {
  size_t capacity = 10000;
  int workers = 4;
  int max_attempts = 3;
  std::chrono::milliseconds timeout{5000};  //!< per attempt, unless the endpoint asks for less
  std::chrono::milliseconds backoff{500};   //!< before the 2nd attempt; doubles, capped below
  std::chrono::milliseconds max_backoff{30000};
};

enum class Outcome {
  kSent,      //!< delivered (2xx / broker acknowledgement)
  kRetrying,  //!< this attempt failed, another is scheduled
  kFailed,    //!< the last attempt failed
  kDropped,   //!< never attempted again: shutting down
};

class Dispatcher {
 public:
  //! `outcome` runs on a worker thread after each attempt (and for dropped messages).
  using OutcomeFn = std::function<void(const Message&, Outcome)>;
  Dispatcher(DeliveryOptions options, SenderFactory senders, OutcomeFn outcome);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  void start();
  //! False when the queue is full or stopping: the message is not taken.
  bool enqueue(Message m);
  void stop(std::chrono::milliseconds grace);
  size_t depth() const;

 private:
  void work();
  //! The next message this worker may send now (ready, endpoint not busy), or nullopt.
  std::optional<Message> takeLocked(SteadyTime now);
  std::chrono::milliseconds backoffFor(int attempt) const;

  DeliveryOptions options_;
  SenderFactory senders_;
  OutcomeFn outcome_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Message> ready_;
  std::multimap<SteadyTime, Message> retry_;
  std::map<std::string, int> in_flight_;  //!< per endpoint URI
  bool stopping_ = false;
  SteadyTime drain_until_{};
  std::vector<std::thread> threads_;
};

//! What a receiver gets. HTTP: the body and headers (Content-Type, Link for application/json,
//! receiverInfo). MQTT (clause 7.3 of the binding, MQTT 3.1.1): {"metadata": {headers}, "body":
//! notification}.
struct HttpPayload {
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};
HttpPayload httpPayload(const Message& m);
std::string mqttPayload(const Message& m);

//! The production sender: HTTP with a keep-alive client per endpoint, MQTT with a libmosquitto
//! connection per broker, both cached per worker.
std::unique_ptr<Sender> makeNetworkSender();
//! Network senders whose https:// deliveries trust the CAs in `ca_file` ("" = the system's).
SenderFactory networkSenders(std::string ca_file);

}  // namespace ioc::subscription
