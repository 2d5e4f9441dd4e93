// Staff notifications: in-app through the hub, signed webhooks with filters and retries, email
// channels through a fake SMTP server, channels persisted and audited.
#include "notify/dispatcher.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <mutex>

#include "notify/signature.h"
#include "storage/sqlite/sqlite_store.h"
#include "stream/hub.h"
#include "unit/notify/fake_smtp.h"

namespace ioc::notify {
namespace {

using json = ioc::Json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

const units::UnitCatalog& catalog() {
  static const units::UnitCatalog c = [] {
    auto loaded = units::UnitCatalog::loadFile(std::string(IOC_SOURCE_DIR) +
                                               "/data/admin/vn34_units_2025_full.json");
    if (!loaded.ok()) throw std::runtime_error(loaded.error().message);
    return std::move(*loaded);
  }();
  return c;
}

struct Posted {
  std::string url, body;
  std::map<std::string, std::string> headers;
};

class DispatcherTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "ioc_notify_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    storage::sqlite::SqliteOptions o;
    o.path = dir_ + "/ioc.db";
    auto s = storage::sqlite::SqliteStore::open(o);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
    options_.backoff = 5ms;
    options_.max_attempts = 3;
  }
  void TearDown() override {
    dispatcher_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  void make(stream::Hub* hub = nullptr) {
    dispatcher_ = std::make_unique<Dispatcher>(
        *store_, catalog(), clock_, hub, options_,
        [this](const std::string& url, const std::string& body,
               const std::vector<std::pair<std::string, std::string>>& headers,
               std::chrono::milliseconds) -> core::Status {
          std::lock_guard lock(mu_);
          if (failures_ > 0) {
            --failures_;
            return core::makeError(core::Errc::kUnavailable, "receiver down");
          }
          Posted p{url, body, {}};
          for (const auto& [k, v] : headers) p.headers[k] = v;
          posted_.push_back(std::move(p));
          return core::Status::success();
        });
    ASSERT_TRUE(dispatcher_->load().ok());
    dispatcher_->start();
  }

  std::vector<Posted> posted() {
    std::lock_guard lock(mu_);
    return posted_;
  }

  model::Actor admin() { return model::Actor{"admin", "admin", "", "127.0.0.1", "rid"}; }

  StaffNotification notification(Severity s, std::string unit, std::string event = "alert.opened") {
    StaffNotification n;
    n.event = std::move(event);
    n.severity = s;
    n.unit_code = std::move(unit);
    n.title = "Ngập sâu 0,5 m";
    n.body = "Đường Lê Lợi";
    n.payload = {{"alert", 42}};
    return n;
  }

  std::string dir_;
  core::FakeClock clock_;
  std::unique_ptr<storage::sqlite::SqliteStore> store_;
  DispatcherOptions options_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::mutex mu_;
  std::vector<Posted> posted_;
  int failures_ = 0;
};

TEST_F(DispatcherTest, WebhooksAreSignedAndFiltered) {
  make();
  auto hook = dispatcher_->create(
      {{"url", "http://127.0.0.1:9/hook"}, {"min_severity", "Severe"}, {"unit", "46"}},
      Channel::Kind::kWebhook, admin());
  ASSERT_TRUE(hook.ok()) << hook.error().message;
  EXPECT_EQ(hook->secret.size(), 64u);
  dispatcher_->notify(notification(Severity::kModerate, "19753"));  // below the minimum
  dispatcher_->notify(notification(Severity::kSevere, "20194"));    // Đà Nẵng, not Huế
  dispatcher_->notify(notification(Severity::kExtreme, "19753"));   // yes
  dispatcher_->waitIdle();
  auto got = posted();
  ASSERT_EQ(got.size(), 1u);
  const auto& p = got[0];
  EXPECT_EQ(p.url, "http://127.0.0.1:9/hook");
  EXPECT_EQ(p.headers.at("X-CityIOC-Event"), "alert.opened");
  EXPECT_EQ(p.headers.at("X-CityIOC-Timestamp"), "1700000000");
  EXPECT_TRUE(verifyWebhookSignature(hook->secret, p.headers.at("X-CityIOC-Timestamp"), p.body,
                                     p.headers.at("X-CityIOC-Signature")));
  auto body = json::parse(p.body);
  EXPECT_EQ(body["severity"], "Extreme");
  EXPECT_EQ(body["unit"], "19753");
  EXPECT_EQ(body["title"], "Ngập sâu 0,5 m");
  EXPECT_EQ(body["data"]["alert"], 42);
}

TEST_F(DispatcherTest, RetriesThenDelivers) {
  make();
  ASSERT_TRUE(dispatcher_
                  ->create({{"url", "http://127.0.0.1:9/h"}, {"secret", "0123456789abcdef"}},
                           Channel::Kind::kWebhook, admin())
                  .ok());
  failures_ = 2;
  dispatcher_->notify(notification(Severity::kMinor, "46"));
  dispatcher_->waitIdle();
  EXPECT_EQ(posted().size(), 1u);
}

TEST_F(DispatcherTest, HttpsWebhooksAreAccepted) {
  make();
  auto hook = dispatcher_->create({{"url", "https://ioc.hue.gov.vn/hooks/1"}},
                                  Channel::Kind::kWebhook, admin());
  ASSERT_TRUE(hook.ok()) << hook.error().message;
  EXPECT_EQ(hook->url, "https://ioc.hue.gov.vn/hooks/1");
}

TEST_F(DispatcherTest, ChannelsPersistAndValidate) {
  make();
  EXPECT_FALSE(dispatcher_->create({{"url", "ftp://x"}}, Channel::Kind::kWebhook, admin()).ok());
  EXPECT_FALSE(
      dispatcher_->create({{"url", "http://x.vn/h"}, {"typo", 1}}, Channel::Kind::kWebhook, admin())
          .ok());
  EXPECT_FALSE(dispatcher_->create({{"address", "x"}}, Channel::Kind::kEmail, admin()).ok());
  EXPECT_FALSE(
      dispatcher_
          ->create({{"address", "a@b.vn"}, {"roles", {"pilot"}}}, Channel::Kind::kEmail, admin())
          .ok());
  model::Actor hue_supervisor{"sup", "supervisor", "46", "", ""};
  auto outside = dispatcher_->create({{"url", "http://x.vn/h"}, {"unit", "48"}},
                                     Channel::Kind::kWebhook, hue_supervisor);
  ASSERT_FALSE(outside.ok());
  EXPECT_EQ(outside.error().code, core::Errc::kForbidden);
  auto hook =
      dispatcher_->create({{"url", "http://x.vn/h"}}, Channel::Kind::kWebhook, hue_supervisor);
  ASSERT_TRUE(hook.ok());
  EXPECT_EQ(hook->unit, "46");  // defaults to the creator's unit
  auto mail = dispatcher_->create({{"address", "a@hue.gov.vn"}, {"roles", {"supervisor"}}},
                                  Channel::Kind::kEmail, admin());
  ASSERT_TRUE(mail.ok());

  auto docs = store_->listDocuments("notify.webhook");
  ASSERT_TRUE(docs.ok());
  ASSERT_EQ(docs->size(), 1u);
  dispatcher_ = std::make_unique<Dispatcher>(*store_, catalog(), clock_, nullptr, options_);
  ASSERT_TRUE(dispatcher_->load().ok());
  ASSERT_EQ(dispatcher_->list(Channel::Kind::kWebhook).size(), 1u);
  EXPECT_EQ(dispatcher_->list(Channel::Kind::kWebhook)[0].secret, hook->secret);
  ASSERT_EQ(dispatcher_->list(Channel::Kind::kEmail).size(), 1u);
  EXPECT_FALSE(Dispatcher::toJson(*hook).contains("secret"));
  ASSERT_TRUE(dispatcher_->remove(hook->id, Channel::Kind::kWebhook, admin()).ok());
  EXPECT_EQ(dispatcher_->list(Channel::Kind::kWebhook).size(), 0u);
  EXPECT_EQ(dispatcher_->remove(hook->id, Channel::Kind::kWebhook, admin()).error().code,
            core::Errc::kNotFound);
  auto audit = store_->listAudit({});
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit->size(), 3u);
  EXPECT_EQ(audit->back().action, "webhook.delete");
  EXPECT_EQ(audit->back().detail.find(hook->secret), std::string::npos);
}

TEST_F(DispatcherTest, EmailGoesToMatchingChannelsWhenSmtpIsSet) {
  fake::FakeSmtp smtp;
  options_.smtp.host = "127.0.0.1";
  options_.smtp.port = smtp.port();
  options_.smtp.from = "ioc@hue.gov.vn";
  make();
  ASSERT_TRUE(
      dispatcher_
          ->create({{"address", "sup@hue.gov.vn"}, {"roles", {"supervisor"}}, {"unit", "46"}},
                   Channel::Kind::kEmail, admin())
          .ok());
  ASSERT_TRUE(dispatcher_
                  ->create({{"address", "ops@hue.gov.vn"}, {"roles", {"operator"}}},
                           Channel::Kind::kEmail, admin())
                  .ok());
  auto n = notification(Severity::kSevere, "19753", "incident.overdue");
  n.roles = {"supervisor", "leader"};
  dispatcher_->notify(n);
  dispatcher_->waitIdle();
  auto msgs = smtp.messages();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_NE(msgs[0].find("To: sup@hue.gov.vn"), std::string::npos) << msgs[0];
  EXPECT_NE(msgs[0].find("Event: incident.overdue"), std::string::npos) << msgs[0];
}

TEST_F(DispatcherTest, InAppGoesToTheHub) {
  stream::Hub hub(catalog(), clock_, nullptr);
  hub.start();
  struct Sink final : stream::Sink {
    std::mutex mu;
    std::vector<json> got;
    void send(const stream::Outgoing& m) override {
      std::lock_guard lock(mu);
      got.push_back(json::parse(*m.text));
    }
    void close() override {}
  };
  auto sink = std::make_shared<Sink>();
  auth::Principal sup;
  sup.role = model::Role::kSupervisor;
  sup.unit_code = "46";
  auto client = hub.connect(sup, sink);
  client->handle(R"({"op":"subscribe","topics":["notifications"]})");
  make(&hub);
  auto n = notification(Severity::kSevere, "19753", "incident.overdue");
  n.roles = {"supervisor"};
  dispatcher_->notify(n);
  hub.waitIdle();
  std::lock_guard lock(sink->mu);
  ASSERT_EQ(sink->got.size(), 2u);
  EXPECT_EQ(sink->got[1]["topic"], "notifications");
  EXPECT_EQ(sink->got[1]["type"], "incident.overdue");
  EXPECT_EQ(sink->got[1]["data"]["severity"], "Severe");
  hub.stop();
}

}  // namespace
}  // namespace ioc::notify
