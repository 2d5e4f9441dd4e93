// The live stream hub: topic authorization, unit and role filtering, subscription filters, and
// coalescing of slow clients with bounded memory.
#include "stream/hub.h"

#include <gtest/gtest.h>

#include <mutex>

#include "obs/metrics.h"

namespace ioc::stream {
namespace {

using json = ioc::Json;

const units::UnitCatalog& catalog() {
  static const units::UnitCatalog c = [] {
    auto loaded = units::UnitCatalog::loadFile(std::string(IOC_SOURCE_DIR) +
                                               "/data/admin/vn34_units_2025_full.json");
    if (!loaded.ok()) throw std::runtime_error(loaded.error().message);
    return std::move(*loaded);
  }();
  return c;
}

auth::Principal user(model::Role role, std::string unit) {
  auth::Principal p;
  p.kind = auth::Principal::Kind::kUser;
  p.id = 7;
  p.name = "u";
  p.role = role;
  p.unit_code = std::move(unit);
  return p;
}

//! Records what the hub hands over; reports messages written only when told (a slow reader).
class FakeSink final : public Sink {
 public:
  void send(const Outgoing& m) override {
    std::lock_guard lock(mu_);
    messages_.push_back(json::parse(*m.text));
  }
  void close() override {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  std::vector<json> messages() {
    std::lock_guard lock(mu_);
    return messages_;
  }
  std::vector<json> events() {
    std::vector<json> out;
    for (auto& m : messages()) {
      if (m.contains("topic")) out.push_back(m);
    }
    return out;
  }
  bool closed() {
    std::lock_guard lock(mu_);
    return closed_;
  }

 private:
  std::mutex mu_;
  std::vector<json> messages_;
  bool closed_ = false;
};

class HubTest : public testing::Test {
 protected:
  HubTest()
      : hub_(catalog(), clock_, [](std::string_view token) -> core::Result<auth::Principal> {
          if (token == "good") return user(model::Role::kOperator, "46");
          return core::makeError(core::Errc::kUnauthenticated, "bad token");
        }) {
    hub_.start();
  }
  ~HubTest() override { hub_.stop(); }

  std::pair<ClientPtr, std::shared_ptr<FakeSink>> connect(std::optional<auth::Principal> who) {
    auto sink = std::make_shared<FakeSink>();
    return {hub_.connect(std::move(who), sink), sink};
  }

  static Event event(std::string topic, std::string unit, std::string key = "k",
                     std::string subtype = "AirQualityObserved") {
    Event e;
    e.topic = std::move(topic);
    e.unit_code = std::move(unit);
    e.key = std::move(key);
    e.subtype = std::move(subtype);
    e.payload = {{"v", 1}};
    return e;
  }

  core::FakeClock clock_;
  Hub hub_;
};

TEST_F(HubTest, TopicNeedsItsPermission) {
  auto [citizen, sink] = connect(user(model::Role::kCitizen, "46"));
  citizen->handle(R"({"op":"subscribe","topics":["alerts","notifications"]})");
  auto msgs = sink->messages();
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0]["op"], "error");
  EXPECT_EQ(msgs[0]["code"], "forbidden");
  EXPECT_EQ(msgs[0]["topic"], "alerts");
  EXPECT_NE(msgs[0]["message"].get<std::string>().find("alerts:read"), std::string::npos);
  EXPECT_EQ(msgs[1]["op"], "subscribed");
  EXPECT_EQ(msgs[1]["topics"], json::array({"notifications"}));

  auto [op, op_sink] = connect(user(model::Role::kOperator, "46"));
  op->handle(R"({"op":"subscribe","topics":["alerts","incidents","entities","kpis"]})");
  ASSERT_EQ(op_sink->messages().size(), 1u);
  EXPECT_EQ(op_sink->messages()[0]["op"], "subscribed");

  op->handle(R"({"op":"subscribe","topics":["weather"]})");
  EXPECT_EQ(op_sink->messages().back()["code"], "bad-request");
  op->handle("not json");
  EXPECT_EQ(op_sink->messages().back()["code"], "bad-request");
  op->handle(R"({"op":"ping"})");
  EXPECT_EQ(op_sink->messages().back()["op"], "pong");
}

TEST_F(HubTest, EventsStayInsideTheReadersUnit) {
  auto [hue, hue_sink] = connect(user(model::Role::kOperator, "46"));
  auto [ward, ward_sink] = connect(user(model::Role::kOperator, "19753"));
  auto [national, national_sink] = connect(user(model::Role::kAdmin, ""));
  for (auto* c : {hue.get(), ward.get(), national.get()}) {
    c->handle(R"({"op":"subscribe","topics":["entities"]})");
  }
  hub_.publish(event("entities", "19753", "a"));  // a ward of Huế
  hub_.publish(event("entities", "19774", "b"));  // another ward of Huế
  hub_.publish(event("entities", "20194", "c"));  // Đà Nẵng
  hub_.publish(event("entities", "", "d"));       // national
  hub_.publish(event("alerts", "19753", "e"));    // not subscribed
  hub_.waitIdle();
  auto keys = [](FakeSink& s) {
    std::vector<std::string> out;
    for (auto& e : s.events()) out.push_back(e["key"]);
    return out;
  };
  EXPECT_EQ(keys(*hue_sink), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(keys(*ward_sink), (std::vector<std::string>{"a"}));
  EXPECT_EQ(keys(*national_sink), (std::vector<std::string>{"a", "b", "c", "d"}));
  auto first = hue_sink->events()[0];
  EXPECT_EQ(first["topic"], "entities");
  EXPECT_EQ(first["type"], "AirQualityObserved");
  EXPECT_EQ(first["data"], (json{{"v", 1}}));
  EXPECT_TRUE(first["at"].is_string());
}

TEST_F(HubTest, FiltersNarrowTypesAreaAndUnit) {
  auto [c, sink] = connect(user(model::Role::kOperator, "46"));
  c->handle(
      R"({"op":"subscribe","topics":["entities"],"filter":{"types":["https://smartdatamodels.org/dataModel.Environment/AirQualityObserved"],"bbox":[107,16,108,17],"unit":"19753"}})");
  ASSERT_EQ(sink->messages().back()["op"], "subscribed");
  auto in = event("entities", "19753", "in");
  in.point = std::pair{107.5, 16.5};
  auto outside = in;
  outside.key = "outside";
  outside.point = std::pair{106.0, 16.5};
  auto no_point = in;
  no_point.key = "nopoint";
  no_point.point.reset();
  auto other_type = in;
  other_type.key = "type";
  other_type.subtype = "WaterObserved";
  auto other_ward = in;
  other_ward.key = "ward";
  other_ward.unit_code = "19774";
  for (auto& e : {in, outside, no_point, other_type, other_ward}) hub_.publish(e);
  hub_.waitIdle();
  auto events = sink->events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["key"], "in");

  // A filter unit outside the reader's own is refused.
  c->handle(R"({"op":"subscribe","topics":["alerts"],"filter":{"unit":"48"}})");
  EXPECT_EQ(sink->messages().back()["code"], "forbidden");
  c->handle(R"({"op":"subscribe","topics":["alerts"],"filter":{"bbox":[1,2,3]}})");
  EXPECT_EQ(sink->messages().back()["code"], "bad-request");
}

TEST_F(HubTest, NotificationsGoToTheirRoles) {
  auto [op, op_sink] = connect(user(model::Role::kOperator, "46"));
  auto [sup, sup_sink] = connect(user(model::Role::kSupervisor, "46"));
  op->handle(R"({"op":"subscribe","topics":["notifications"]})");
  sup->handle(R"({"op":"subscribe","topics":["notifications"]})");
  auto n = event("notifications", "46", "", "incident.overdue");
  n.roles = {"supervisor"};
  hub_.publish(n);
  auto all = event("notifications", "46", "", "alert.opened");
  hub_.publish(all);
  hub_.waitIdle();
  EXPECT_EQ(op_sink->events().size(), 1u);
  EXPECT_EQ(sup_sink->events().size(), 2u);
}

TEST_F(HubTest, CitizensHearOnlyOfTheirOwnReports) {
  auto citizen_in = [](int64_t id, std::string unit) {
    auto p = user(model::Role::kCitizen, std::move(unit));
    p.id = id;
    return p;
  };
  auto [mine, mine_sink] = connect(citizen_in(41, "46"));
  auto [away, away_sink] = connect(citizen_in(42, "48"));  // follows a report in another city
  auto [other, other_sink] = connect(citizen_in(43, "46"));
  for (auto* c : {mine.get(), away.get(), other.get()}) {
    c->handle(R"({"op":"subscribe","topics":["notifications"]})");
  }
  auto staff = event("notifications", "46", "", "alert.opened");  // no roles: every staff role
  hub_.publish(staff);
  auto told = event("notifications", "19753", "report:PA-1", "report.assigned");
  told.users = {41, 42};
  hub_.publish(told);
  hub_.waitIdle();
  ASSERT_EQ(mine_sink->events().size(), 1u);
  EXPECT_EQ(mine_sink->events()[0]["type"], "report.assigned");
  EXPECT_EQ(away_sink->events().size(), 1u);
  EXPECT_TRUE(other_sink->events().empty());
}

TEST_F(HubTest, TrackingStreamIsNarrowedToOneCodeAndUnreachableBySubscribe) {
  auto [page, sink] = connect(auth::Principal{});
  Filter only;
  only.key = "CODE1";
  page->follow("tracking", only);
  page->handle(R"({"op":"subscribe","topics":["tracking"]})");
  EXPECT_EQ(sink->messages().back()["code"], "bad-request");
  hub_.publish(event("tracking", "", "CODE1", "report.assigned"));
  hub_.publish(event("tracking", "", "CODE2", "report.assigned"));
  hub_.waitIdle();
  std::vector<json> pushed;
  for (auto& m : sink->events()) {
    if (m.contains("data")) pushed.push_back(m);  // not the refusal, which names the topic too
  }
  ASSERT_EQ(pushed.size(), 1u);
  EXPECT_EQ(pushed[0]["key"], "CODE1");
}

TEST_F(HubTest, InBandAuthentication) {
  auto [c, sink] = connect(std::nullopt);
  c->handle(R"({"op":"subscribe","topics":["entities"]})");
  EXPECT_EQ(sink->messages().back()["code"], "unauthenticated");
  c->handle(R"({"op":"auth","token":"bad"})");
  EXPECT_EQ(sink->messages().back()["code"], "unauthenticated");
  c->handle(R"({"op":"auth","token":"good"})");
  EXPECT_EQ(sink->messages().back()["op"], "authenticated");
  EXPECT_EQ(sink->messages().back()["unit"], "46");
  c->handle(R"({"op":"subscribe","topics":["entities"]})");
  EXPECT_EQ(sink->messages().back()["op"], "subscribed");
}

TEST(HubCoalescing, SlowClientGetsLatestPerKeyWithBoundedMemory) {
  core::FakeClock clock;
  HubOptions options;
  options.client_window = 2;
  options.client_pending = 10;
  Hub hub(catalog(), clock, nullptr, options);
  hub.start();
  auto sink = std::make_shared<FakeSink>();
  auto client = hub.connect(user(model::Role::kOperator, "46"), sink);
  client->handle(R"({"op":"subscribe","topics":["entities"]})");
  // The "subscribed" reply and the first event fill the window; nothing is ever written.
  auto& coalesced =
      obs::defaultRegistry().counter("stream_messages_coalesced_total", "", {}).with({});
  const uint64_t coalesced_before = coalesced.value();
  for (int round = 0; round < 200; ++round) {
    for (int k = 0; k < 5; ++k) {
      Event e;
      e.topic = "entities";
      e.unit_code = "19753";
      e.key = "sensor-" + std::to_string(k);
      e.payload = {{"round", round}};
      hub.publish(std::move(e));
    }
  }
  hub.waitIdle();
  EXPECT_FALSE(sink->closed());
  EXPECT_LE(client->pendingForTest(), 5u);
  EXPECT_GT(coalesced.value() - coalesced_before, 900u);
  // Once the reader catches up it gets the latest value of each key.
  for (int i = 0; i < 10; ++i) client->written();
  auto events = sink->events();
  ASSERT_GE(events.size(), 5u);
  std::map<std::string, int> latest;
  for (auto& e : events) latest[e["key"]] = e["data"]["round"];
  EXPECT_EQ(latest.size(), 5u);
  for (auto& [k, round] : latest) EXPECT_EQ(round, 199) << k;
  EXPECT_EQ(hub.clients(), 1u);

  // Updates that cannot coalesce (distinct keys) overflow the queue: the client is dropped.
  for (int i = 0; i < 50; ++i) {
    Event e;
    e.topic = "entities";
    e.unit_code = "19753";
    e.key = "other-" + std::to_string(i);
    hub.publish(std::move(e));
  }
  hub.waitIdle();
  EXPECT_TRUE(sink->closed());
  EXPECT_EQ(hub.clients(), 0u);
  hub.stop();
}

TEST_F(HubTest, ClientsOfTwoTopicsGetEventsInPublishOrderAndResubscribeNarrows) {
  auto [c, sink] = connect(user(model::Role::kOperator, "46"));
  auto [peer, peer_sink] = connect(user(model::Role::kOperator, "46"));  // shares the groups
  c->handle(R"({"op":"subscribe","topics":["entities","alerts"]})");
  peer->handle(R"({"op":"subscribe","topics":["entities"]})");
  for (const char* topic : {"entities", "alerts", "entities", "alerts"}) {
    hub_.publish(event(topic, "19753", std::string(topic) + std::to_string(sink->events().size())));
    hub_.waitIdle();
  }
  std::vector<std::string> topics;
  for (auto& e : sink->events()) topics.push_back(e["topic"]);
  EXPECT_EQ(topics, (std::vector<std::string>{"entities", "alerts", "entities", "alerts"}));
  EXPECT_EQ(peer_sink->events().size(), 2u);
  // A new filter replaces the old one for that topic; the peer keeps its own.
  c->handle(R"({"op":"subscribe","topics":["entities"],"filter":{"unit":"19774"}})");
  hub_.publish(event("entities", "19753", "elsewhere"));
  hub_.publish(event("entities", "19774", "here"));
  hub_.waitIdle();
  EXPECT_EQ(sink->events().back()["key"], "here");
  EXPECT_EQ(sink->events().size(), 5u);
  EXPECT_EQ(peer_sink->events().size(), 4u);
  c->handle(R"({"op":"unsubscribe"})");
  hub_.publish(event("alerts", "19753", "after"));
  hub_.waitIdle();
  EXPECT_EQ(sink->events().size(), 5u);
}

TEST(HubQueue, PublishNeverBlocksAndDropsWhenFull) {
  core::FakeClock clock;
  HubOptions options;
  options.queue_capacity = 10;
  Hub hub(catalog(), clock, nullptr, options);  // not started: nothing drains the queue
  int accepted = 0;
  for (int i = 0; i < 100; ++i) {
    Event e;
    e.topic = "kpis";
    accepted += hub.publish(std::move(e)) ? 1 : 0;
  }
  EXPECT_EQ(accepted, 10);
}

TEST(StreamFilter, ParsesAndRejects) {
  auto f = parseFilter(json::parse(R"({"types":["A"],"bbox":[1,2,3,4],"unit":"46"})"));
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(toJson(*f), json::parse(R"({"types":["A"],"bbox":[1.0,2.0,3.0,4.0],"unit":"46"})"));
  EXPECT_FALSE(parseFilter(json::parse(R"({"bbox":[3,2,1,4]})")).ok());
  EXPECT_FALSE(parseFilter(json::parse(R"({"typo":1})")).ok());
  EXPECT_FALSE(parseFilter(json::parse(R"([1])")).ok());
  EXPECT_TRUE(parseFilter(json()).ok());
}

}  // namespace
}  // namespace ioc::stream
