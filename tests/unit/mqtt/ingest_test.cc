// MqttIngest without a broker: settings validation, the per-message path (lookup, mapping,
// metrics), and a stop() that does not wait out the reconnect back-off.
#include "mqtt/ingest.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "obs/metrics.h"
#include "storage/sqlite/sqlite_store.h"

namespace ioc::mqtt {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using json = ioc::Json;

TEST(MqttOptions, ParsesUrls) {
  auto o = mqttOptions("mqtt://127.0.0.1:1883", "cityioc", 1, "");
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(o->host, "127.0.0.1");
  EXPECT_EQ(o->port, 1883);
  EXPECT_EQ(o->qos, 1);
  auto d = mqttOptions("mqtt://broker.hue.gov.vn", "c", 0, "json");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->host, "broker.hue.gov.vn");
  EXPECT_EQ(d->port, 1883);
  EXPECT_EQ(d->topic_prefix, "json");
  auto v6 = mqttOptions("mqtt://[::1]:8883/", "c", 1, "");
  ASSERT_TRUE(v6.ok()) << v6.error().message;
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 8883);
}

TEST(MqttOptions, RejectsBadSettings) {
  auto error = [](const std::string& url, const std::string& id, int qos,
                  const std::string& prefix) {
    auto o = mqttOptions(url, id, qos, prefix);
    if (o.ok()) return std::string("ok");
    EXPECT_EQ(o.error().code, core::Errc::kInvalidArgument);
    return o.error().message;
  };
  for (const char* url : {"127.0.0.1:1883", "tcp://h:1", "mqtts://h", "mqtt://",
                          "mqtt://h:", "mqtt://h:0", "mqtt://h:65536", "mqtt://h:x", "mqtt://u:p@h",
                          "mqtt://h/path", "mqtt://[::1", "mqtt://[zz]:1", "mqtt://h_b"}) {
    EXPECT_EQ(error(url, "c", 1, "").rfind("mqtt.url: ", 0), 0u) << url;
  }
  EXPECT_EQ(error("mqtt://h", "a b", 1, "").rfind("mqtt.client_id: ", 0), 0u);
  EXPECT_EQ(error("mqtt://h", "", 1, "").rfind("mqtt.client_id: ", 0), 0u);
  EXPECT_EQ(error("mqtt://h", "c", 2, ""), "mqtt.qos: must be 0 or 1");
  EXPECT_EQ(error("mqtt://h", "c", 1, "a/#").rfind("mqtt.topic_prefix: ", 0), 0u);
  EXPECT_EQ(error("mqtt://h", "c", 1, "a/").rfind("mqtt.topic_prefix: ", 0), 0u);
}

uint64_t counter(const std::string& name, std::initializer_list<std::string_view> labels = {}) {
  std::vector<std::string> label_names;
  if (labels.size() > 0) label_names.push_back("reason");
  return obs::defaultRegistry().counter(name, "", label_names).with(labels).value();
}
uint64_t dropped(const char* reason) {
  return counter("mqtt_messages_dropped_total", {reason});
}

class Ingest : public testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "ioc_mqtt_ingest_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    storage::sqlite::SqliteOptions o;
    o.path = dir_ + "/ioc.db";
    auto s = storage::sqlite::SqliteStore::open(o);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
    registry_ = std::make_unique<DeviceRegistry>(*store_, clock_);
    json spec = {{"device_id", "dev1"},
                 {"apikey", "KEY"},
                 {"entity_id", "urn:ngsi-ld:T:1"},
                 {"entity_type", "T"},
                 {"attributes", {{{"object_id", "t"}, {"name", "temperature"}}}}};
    auto d = parseDeviceSpec(spec, "46", clock_.nowUnixMs());
    ASSERT_TRUE(d.ok());
    ASSERT_TRUE(registry_->provision(*d, model::Actor{"test", "admin", "", "", ""}).ok());
  }
  void TearDown() override {
    ingest_.reset();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void make(std::string url = "mqtt://127.0.0.1:1", int subscribers = 1) {
    auto o = mqttOptions(url, "unit-test", 1, "");
    ASSERT_TRUE(o.ok());
    o->subscribers = subscribers;
    o->batching.linger = 1ms;
    ingest_ = std::make_unique<MqttIngest>(
        *o, *registry_,
        [this](std::vector<context::Observation> obs, const context::Visibility& who,
               std::function<void(core::Status)> done) {
          {
            std::lock_guard lock(mu_);
            for (auto& o : obs) received_.emplace_back(who.unit_code, std::move(o));
          }
          done(core::Status::success());
        },
        clock_);
  }

  std::string dir_;
  core::FakeClock clock_;
  std::unique_ptr<storage::sqlite::SqliteStore> store_;
  std::unique_ptr<DeviceRegistry> registry_;
  std::unique_ptr<MqttIngest> ingest_;
  std::mutex mu_;
  std::vector<std::pair<std::string, context::Observation>> received_;
};

TEST_F(Ingest, MessagePathCountsEveryOutcome) {
  make();
  const uint64_t total0 = counter("mqtt_messages_total");
  const uint64_t unknown0 = dropped("unknown_device"), bad_json0 = dropped("bad_json"),
                 unknown_attr0 = dropped("unknown_attribute"), bad_topic0 = dropped("bad_topic");
  ingest_->handleMessage("/KEY/nope/attrs", R"({"t": 1})");
  ingest_->handleMessage("/KEY/dev1/attrs", "{oops");
  ingest_->handleMessage("/KEY/dev 1/attrs", R"({"t": 1})");
  ingest_->handleMessage("/KEY/dev1/attrs", R"({"t": 21.5, "zz": 3})");
  ingest_->stop();  // flushes the batch
  EXPECT_EQ(counter("mqtt_messages_total") - total0, 4u);
  EXPECT_EQ(dropped("unknown_device") - unknown0, 1u);
  EXPECT_EQ(dropped("bad_json") - bad_json0, 1u);
  EXPECT_EQ(dropped("bad_topic") - bad_topic0, 1u);
  EXPECT_EQ(dropped("unknown_attribute") - unknown_attr0, 1u);
  std::lock_guard lock(mu_);
  ASSERT_EQ(received_.size(), 1u);
  EXPECT_EQ(received_[0].first, "46");  // the device's unit
  EXPECT_EQ(received_[0].second.entity_id, "urn:ngsi-ld:T:1");
  EXPECT_EQ(received_[0].second.attrs.size(), 1u);
}

TEST_F(Ingest, StopDoesNotWaitOutTheBackoff) {
  // Port 1 on loopback: refused at once, so the client sits in its back-off.
  make("mqtt://127.0.0.1:1");
  ASSERT_TRUE(ingest_->start().ok());
  std::this_thread::sleep_for(1200ms);  // a few attempts: 0.5 s, then 1 s back-off
  EXPECT_FALSE(ingest_->connected());
  auto start = std::chrono::steady_clock::now();
  ingest_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  ingest_->stop();  // idempotent
}

TEST_F(Ingest, SeveralSubscribersShareTheSubscription) {
  make("mqtt://127.0.0.1:1", 1);
  EXPECT_EQ(ingest_->subscription(), "/+/+/attrs");
  make("mqtt://127.0.0.1:1", 3);
  EXPECT_EQ(ingest_->subscription(), "$share/unit-test//+/+/attrs");
  // Every client retries on its own; stop() ends them all at once.
  ASSERT_TRUE(ingest_->start().ok());
  EXPECT_FALSE(ingest_->connected());
  auto start = std::chrono::steady_clock::now();
  ingest_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  // Messages from any client thread go through the same path.
  make("mqtt://127.0.0.1:1", 2);
  std::thread a([&] { ingest_->handleMessage("/KEY/dev1/attrs", R"({"t": 1})"); });
  std::thread b([&] { ingest_->handleMessage("/KEY/dev1/attrs", R"({"t": 2})"); });
  a.join();
  b.join();
  ingest_->stop();
  std::lock_guard lock(mu_);
  EXPECT_EQ(received_.size(), 2u);
}

}  // namespace
}  // namespace ioc::mqtt
