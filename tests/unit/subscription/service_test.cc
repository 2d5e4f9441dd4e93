// The subscription service over a real SQLite store and broker: CRUD durable and audited,
// reloading, notifications for committed changes (attribute filtering, keyValues), throttling,
// unit visibility, periodic notifications, and drops counted when the change queue is full.
#include "subscription/service.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "obs/metrics.h"
#include "storage/sqlite/sqlite_store.h"
#include "unit/subscription/test_util.h"

namespace ioc::subscription {
namespace {

namespace fs = std::filesystem;
using namespace test;
using namespace std::chrono_literals;

//! Records what would have gone out; fails for URIs containing "fail".
struct Recorder {
  std::mutex mu;
  std::vector<Message> got;
  size_t size() {
    std::lock_guard lock(mu);
    return got.size();
  }
};

class RecordingSender : public Sender {
 public:
  explicit RecordingSender(Recorder& r) : r_(r) {}
  core::Status send(const Message& m, std::chrono::milliseconds) override {
    if (m.sub->endpoint.uri.find("fail") != std::string::npos) {
      return core::makeError(core::Errc::kUnavailable, "refused");
    }
    std::lock_guard lock(r_.mu);
    r_.got.push_back(m);
    return core::Status::success();
  }

 private:
  Recorder& r_;
};

uint64_t counter(const char* name, std::string_view result = "") {
  auto& registry = obs::defaultRegistry();
  if (result.empty()) return registry.counter(name, "").with({}).value();
  return registry.counter(name, "", {"result"}).with({result}).value();
}

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 5s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

class ServiceTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "ioc_subs_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    storage::sqlite::SqliteOptions o;
    o.path = dir_ + "/ioc.db";
    auto s = storage::sqlite::SqliteStore::open(o);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
    broker_ = std::make_unique<context::Broker>(*store_, catalog(), clock_);
    ASSERT_TRUE(broker_->load().ok());
    contexts_ = std::make_unique<context::ContextRegistry>(context::ContextFetcher{}, store_.get());
    options_.delivery.workers = 1;
    options_.delivery.backoff = 5ms;
    options_.delivery.max_attempts = 2;
  }
  void TearDown() override {
    service_.reset();
    broker_.reset();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  SubscriptionService& service(bool start = true) {
    service_ = std::make_unique<SubscriptionService>(
        *store_, *broker_, *contexts_, catalog(), clock_, options_,
        [this] { return std::make_unique<RecordingSender>(recorder_); });
    EXPECT_TRUE(service_->load().ok());
    if (!attached_) service_->attach();  // listeners live as long as the broker
    attached_ = true;
    if (start) service_->start();
    return *service_;
  }
  std::string create(const json& b, const std::string& unit = "46") {
    auto id = service_->create(b, context::TermMap::core(), caller(unit));
    EXPECT_TRUE(id.ok()) << b.dump() << ": " << (id.ok() ? "" : id.error().message);
    return id.ok() ? *id : "";
  }
  static Caller caller(const std::string& unit) {
    return {unit, model::Actor{"tester", "operator", unit, "127.0.0.1", "rid"}};
  }
  void write(const json& e, const std::string& unit = "46") {
    auto parsed = context::parseEntity(e, *context::TermMap::core(), clock_.nowUnixMs());
    ASSERT_TRUE(parsed.ok());
    if (!broker_->get(parsed->id, {})) {
      ASSERT_TRUE(broker_->create(std::move(*parsed), {unit}, actor_).ok());
      return;
    }
    json attrs = e;
    attrs.erase("id");
    attrs.erase("type");
    auto a = context::parseAttributes(attrs, *context::TermMap::core(), clock_.nowUnixMs());
    ASSERT_TRUE(a.ok());
    ASSERT_TRUE(
        broker_->mergeAttrs(parsed->id, *a, context::MergeMode::kAppend, {unit}, actor_).ok());
  }
  std::vector<std::string> auditActions() {
    storage::AuditFilter f;
    f.limit = 1000;
    std::vector<std::string> out;
    auto entries = store_->listAudit(f);
    EXPECT_TRUE(entries.ok());
    if (!entries.ok()) return out;
    for (const auto& e : *entries) out.push_back(e.action);
    return out;
  }

  std::string dir_;
  core::FakeClock clock_{kNow};
  std::unique_ptr<storage::sqlite::SqliteStore> store_;
  std::unique_ptr<context::Broker> broker_;
  std::unique_ptr<context::ContextRegistry> contexts_;
  ServiceOptions options_;
  Recorder recorder_;
  std::unique_ptr<SubscriptionService> service_;
  bool attached_ = false;
  model::Actor actor_{"device", "key:ingest", "46", "", ""};
};

json sensor(double t, double h = 50) {
  return {{"id", "urn:ngsi-ld:Sensor:1"},
          {"type", "Sensor"},
          {"temperature", prop(t)},
          {"humidity", prop(h)}};
}

TEST_F(ServiceTest, CrudIsDurableAuditedAndScoped) {
  auto& s = service(false);
  const std::string id = create(body({{"id", "urn:ngsi-ld:Subscription:a"}}));
  EXPECT_EQ(id, "urn:ngsi-ld:Subscription:a");
  const std::string generated = create(body());
  EXPECT_EQ(generated.rfind("urn:ngsi-ld:Subscription:", 0), 0u);
  auto dup = s.create(body({{"id", id}}), context::TermMap::core(), caller("46"));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, core::Errc::kAlreadyExists);

  EXPECT_TRUE(s.update(id, {{"isActive", false}}, context::TermMap::core(), caller("46")).ok());
  auto bad = s.update(id, {{"timeInterval", 5}, {"throttling", 1}}, context::TermMap::core(),
                      caller("46"));
  EXPECT_EQ(bad.error().code, core::Errc::kInvalidArgument);
  EXPECT_EQ(s.update("urn:x:none", {{"isActive", true}}, context::TermMap::core(), caller("46"))
                .error()
                .code,
            core::Errc::kNotFound);

  // Another province sees nothing; the national admin sees all.
  EXPECT_EQ(s.get(id, *context::TermMap::core(), caller("01")).error().code, core::Errc::kNotFound);
  EXPECT_EQ(s.list(*context::TermMap::core(), caller("01"), 10, 0).total, 0u);
  EXPECT_EQ(s.list(*context::TermMap::core(), caller(""), 10, 0).total, 2u);
  auto page = s.list(*context::TermMap::core(), caller("46"), 1, 1);
  EXPECT_EQ(page.total, 2u);
  EXPECT_EQ(page.items.size(), 1u);

  // A fresh service on the same store has both, with the update.
  service(false);
  auto got = service_->get(id, *context::TermMap::core(), caller("46"));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)["isActive"], false);
  EXPECT_EQ((*got)["status"], "paused");
  EXPECT_EQ(service_->size(), 2u);
  EXPECT_TRUE(service_->remove(generated, caller("46")).ok());
  EXPECT_EQ(store_->listDocuments(kDocumentKind)->size(), 1u);
  EXPECT_EQ(auditActions(),
            (std::vector<std::string>{"subscription.create", "subscription.create",
                                      "subscription.update", "subscription.delete"}));
}

TEST_F(ServiceTest, LimitOnTheNumberOfSubscriptions) {
  options_.max_subscriptions = 1;
  auto& s = service(false);
  create(body());
  auto second = s.create(body(), context::TermMap::core(), caller("46"));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, core::Errc::kForbidden);
}

TEST_F(ServiceTest, NotifiesFilteredKeyValuesAndUpdatesStatus) {
  service();
  const std::string id = create(body({{"notification",
                                       {{"attributes", {"temperature"}},
                                        {"format", "keyValues"},
                                        {"endpoint", {{"uri", "http://r/"}}}}}}));
  const uint64_t sent = counter("ngsild_notifications_total", "sent");
  write(sensor(20));
  ASSERT_TRUE(eventually([&] { return recorder_.size() == 1; }));
  json n = recorder_.got[0].notification;
  EXPECT_EQ(n["type"], "Notification");
  EXPECT_EQ(n["subscriptionId"], id);
  EXPECT_EQ(n["id"].get<std::string>().rfind("urn:ngsi-ld:Notification:", 0), 0u);
  EXPECT_EQ(n["data"], json::parse(R"([{"id":"urn:ngsi-ld:Sensor:1","type":"Sensor",
                                        "temperature":20}])"));
  EXPECT_TRUE(eventually([&] { return counter("ngsild_notifications_total", "sent") > sent; }));
  auto got = service_->get(id, *context::TermMap::core(), caller("46"));
  EXPECT_EQ((*got)["notification"]["timesSent"], 1);
  EXPECT_EQ((*got)["notification"]["status"], "ok");
  EXPECT_TRUE((*got)["notification"].contains("lastSuccess"));
}

TEST_F(ServiceTest, FailedDeliveryIsCountedInTheStatus) {
  service();
  const std::string id =
      create(body({{"notification", {{"endpoint", {{"uri", "http://fail/"}}}}}}));
  const uint64_t failed = counter("ngsild_notifications_total", "failed");
  write(sensor(20));
  ASSERT_TRUE(eventually([&] { return counter("ngsild_notifications_total", "failed") > failed; }));
  auto got = service_->get(id, *context::TermMap::core(), caller("46"));
  EXPECT_EQ((*got)["notification"]["status"], "failed");
  EXPECT_EQ((*got)["notification"]["timesFailed"], 2);  // max_attempts
  EXPECT_TRUE((*got)["notification"].contains("lastFailure"));
}

TEST_F(ServiceTest, ThrottlingSkipsNotificationsInsideTheWindow) {
  service();
  create(body({{"throttling", 60}}));
  const uint64_t throttled = counter("ngsild_notifications_throttled_total");
  write(sensor(20));
  service_->waitIdle();
  write(sensor(21));
  service_->waitIdle();
  EXPECT_EQ(counter("ngsild_notifications_throttled_total"), throttled + 1);
  clock_.advance(61s);
  write(sensor(22));
  ASSERT_TRUE(eventually([&] { return recorder_.size() == 2; }));
  EXPECT_EQ(recorder_.got[1].notification["data"][0]["temperature"]["value"], 22);
}

TEST_F(ServiceTest, OnlyEntitiesVisibleToTheCreatorsUnit) {
  service();
  create(body({{"notification", {{"endpoint", {{"uri", "http://hanoi/"}}}}}}), "01");
  create(body({{"notification", {{"endpoint", {{"uri", "http://national/"}}}}}}), "");
  write(sensor(20), "46");
  ASSERT_TRUE(eventually([&] { return recorder_.size() == 1; }));
  service_->waitIdle();
  service_->stop();  // delivers whatever was queued
  ASSERT_EQ(recorder_.size(), 1u);
  EXPECT_EQ(recorder_.got[0].sub->endpoint.uri, "http://national/");
}

TEST_F(ServiceTest, FullChangeQueueDropsAndCounts) {
  options_.change_queue = 2;
  auto& s = service(false);  // no matcher thread: the queue only fills
  create(body());
  const uint64_t dropped = counter("ngsild_notifications_total", "dropped");
  write(sensor(20));
  write(sensor(21));
  write(sensor(22));
  EXPECT_EQ(counter("ngsild_notifications_total", "dropped"), dropped + 1);
  (void)s;
}

TEST_F(ServiceTest, PeriodicNotifications) {
  service();
  write(sensor(20));
  create(body({{"timeInterval", 2}}));
  const int64_t start = clock_.nowUnixMs();
  ASSERT_TRUE(eventually(
      [&] {
        clock_.set(clock_.nowUnixMs() + 100);  // the fake clock runs fast
        return recorder_.size() >= 2;
      },
      10s));
  EXPECT_GE(clock_.nowUnixMs() - start, 4000);
  EXPECT_EQ(recorder_.got[0].notification["data"][0]["id"], "urn:ngsi-ld:Sensor:1");
}

TEST_F(ServiceTest, DeletionNotifiesWithEntityDeleted) {
  service();
  create(body({{"notificationTrigger", {"entityDeleted"}}}));
  write(sensor(20));
  ASSERT_TRUE(broker_->remove("urn:ngsi-ld:Sensor:1", {"46"}, actor_).ok());
  ASSERT_TRUE(eventually([&] { return recorder_.size() == 1; }));
  json d = recorder_.got[0].notification["data"][0];
  EXPECT_EQ(d["id"], "urn:ngsi-ld:Sensor:1");
  EXPECT_EQ(d["type"], "Sensor");
  EXPECT_TRUE(d.contains("deletedAt"));
}

}  // namespace
}  // namespace ioc::subscription
