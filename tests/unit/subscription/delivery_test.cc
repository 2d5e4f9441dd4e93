// The delivery queue: bounded (a full queue refuses), retries with back-off, one attempt in
// flight per endpoint so a slow receiver does not hold up others; and the payload formats.
#include "subscription/delivery.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "unit/subscription/test_util.h"

namespace ioc::subscription {
namespace {

using namespace test;
using namespace std::chrono_literals;

//! A scripted receiver: per endpoint URI, how many attempts fail first and whether to hang.
struct Script {
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, int> failures;
  bool hang = false;  // "http://slow/" blocks until released
  std::vector<std::string> sent;
  std::vector<std::pair<std::string, Outcome>> outcomes;

  void release() {
    std::lock_guard lock(mu);
    hang = false;
    cv.notify_all();
  }
  template <class Pred>
  bool waitFor(Pred pred, std::chrono::milliseconds t = 5s) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, t, pred);
  }
};

class ScriptedSender : public Sender {
 public:
  explicit ScriptedSender(Script& s) : s_(s) {}
  core::Status send(const Message& m, std::chrono::milliseconds) override {
    std::unique_lock lock(s_.mu);
    const std::string uri = m.sub->endpoint.uri;
    if (uri == "http://slow/") s_.cv.wait(lock, [&] { return !s_.hang; });
    if (s_.failures[uri] > 0) {
      --s_.failures[uri];
      return core::makeError(core::Errc::kUnavailable, "scripted failure");
    }
    s_.sent.push_back(uri + " " + m.notification.value("id", ""));
    s_.cv.notify_all();
    return core::Status::success();
  }

 private:
  Script& s_;
};

SubscriptionPtr to(const std::string& uri) {
  return make(body({{"notification", {{"endpoint", {{"uri", uri}}}}}}));
}

Message message(SubscriptionPtr sub, const std::string& id = "n1") {
  Message m;
  m.sub = std::move(sub);
  m.notification = {{"id", id}, {"type", "Notification"}, {"data", json::array()}};
  m.committed = std::chrono::steady_clock::now();
  return m;
}

struct Fixture {
  explicit Fixture(DeliveryOptions o)
      : dispatcher(
            o, [this] { return std::make_unique<ScriptedSender>(script); },
            [this](const Message& m, Outcome out) {
              std::lock_guard lock(script.mu);
              script.outcomes.emplace_back(m.notification.value("id", ""), out);
              script.cv.notify_all();
            }) {}
  Script script;
  Dispatcher dispatcher;
};

DeliveryOptions fast() {
  DeliveryOptions o;
  o.workers = 2;
  o.backoff = 5ms;
  o.capacity = 100;
  return o;
}

TEST(Delivery, RetriesWithBackoffUntilSent) {
  Fixture f(fast());
  f.script.failures["http://a/"] = 2;
  f.dispatcher.start();
  ASSERT_TRUE(f.dispatcher.enqueue(message(to("http://a/"))));
  ASSERT_TRUE(f.script.waitFor([&] { return f.script.outcomes.size() == 3; }));
  EXPECT_EQ(f.script.outcomes[0].second, Outcome::kRetrying);
  EXPECT_EQ(f.script.outcomes[1].second, Outcome::kRetrying);
  EXPECT_EQ(f.script.outcomes[2].second, Outcome::kSent);
  f.dispatcher.stop(1s);
}

TEST(Delivery, GivesUpAfterMaxAttempts) {
  DeliveryOptions o = fast();
  o.max_attempts = 2;
  Fixture f(o);
  f.script.failures["http://a/"] = 10;
  f.dispatcher.start();
  ASSERT_TRUE(f.dispatcher.enqueue(message(to("http://a/"))));
  ASSERT_TRUE(f.script.waitFor([&] { return f.script.outcomes.size() == 2; }));
  EXPECT_EQ(f.script.outcomes[1].second, Outcome::kFailed);
  f.dispatcher.stop(1s);
  EXPECT_TRUE(f.script.sent.empty());
}

TEST(Delivery, FullQueueRefusesAndShutdownDropsTheRest) {
  DeliveryOptions o = fast();
  o.capacity = 3;
  o.workers = 1;
  Fixture f(o);
  f.script.hang = true;
  f.dispatcher.start();
  auto slow = to("http://slow/");
  ASSERT_TRUE(f.dispatcher.enqueue(message(slow, "first")));
  // The worker takes "first" and hangs on it; then three fit and the fourth does not.
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (f.dispatcher.depth() != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_EQ(f.dispatcher.depth(), 0u);
  int accepted = 0;
  for (int i = 0; i < 5; ++i) accepted += f.dispatcher.enqueue(message(slow, "m")) ? 1 : 0;
  EXPECT_EQ(accepted, 3);
  std::thread releaser([&] {
    std::this_thread::sleep_for(50ms);
    f.script.release();
  });
  f.dispatcher.stop(0ms);
  releaser.join();
  int dropped = 0;
  for (const auto& [id, out] : f.script.outcomes) dropped += out == Outcome::kDropped ? 1 : 0;
  EXPECT_EQ(dropped, 3);
}

TEST(Delivery, ASlowEndpointDoesNotHoldUpOthers) {
  Fixture f(fast());  // two workers
  f.script.hang = true;
  f.dispatcher.start();
  auto slow = to("http://slow/");
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(f.dispatcher.enqueue(message(slow, "s")));
  ASSERT_TRUE(f.dispatcher.enqueue(message(to("http://fast/"), "f")));
  // One worker is stuck on the slow endpoint; it never takes a second slow message, so the other
  // delivers the fast one.
  EXPECT_TRUE(f.script.waitFor([&] { return !f.script.sent.empty(); }, 3s));
  EXPECT_EQ(f.script.sent.front(), "http://fast/ f");
  f.script.release();
  EXPECT_TRUE(f.script.waitFor([&] { return f.script.sent.size() == 6; }));
  f.dispatcher.stop(1s);
}

TEST(Delivery, HttpPayloadCarriesContextAsLinkOrInBody) {
  auto json_sub = make(body(
      {{"notification",
        {{"endpoint",
          {{"uri", "http://h/"}, {"receiverInfo", {{{"key", "X-Token"}, {"value", "abc"}}}}}}}}}));
  Message m = message(json_sub);
  HttpPayload p = httpPayload(m);
  std::map<std::string, std::string> h(p.headers.begin(), p.headers.end());
  EXPECT_EQ(h["Content-Type"], "application/json");
  EXPECT_NE(h["Link"].find("rel=\"http://www.w3.org/ns/json-ld#context\""), std::string::npos);
  EXPECT_EQ(h["X-Token"], "abc");
  EXPECT_FALSE(json::parse(p.body).contains("@context"));

  auto ld_sub =
      make(body({{"notification",
                  {{"endpoint", {{"uri", "http://h/"}, {"accept", "application/ld+json"}}}}}}));
  HttpPayload ld = httpPayload(message(ld_sub));
  std::map<std::string, std::string> lh(ld.headers.begin(), ld.headers.end());
  EXPECT_EQ(lh["Content-Type"], "application/ld+json");
  EXPECT_EQ(lh.count("Link"), 0u);
  EXPECT_TRUE(json::parse(ld.body).contains("@context"));
}

TEST(Delivery, MqttPayloadHasMetadataAndBody) {
  auto sub = make(body(
      {{"notification",
        {{"endpoint",
          {{"uri", "mqtt://h/t"}, {"receiverInfo", {{{"key", "X-Site"}, {"value", "hue"}}}}}}}}}));
  json p = json::parse(mqttPayload(message(sub, "n9")));
  EXPECT_EQ(p["metadata"]["Content-Type"], "application/json");
  EXPECT_EQ(p["metadata"]["X-Site"], "hue");
  EXPECT_TRUE(p["metadata"].contains("Link"));
  EXPECT_EQ(p["body"]["id"], "n9");
  EXPECT_EQ(p["body"]["type"], "Notification");
}

}  // namespace
}  // namespace ioc::subscription
