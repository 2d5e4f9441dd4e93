// Device provisioning: request validation, and the registry's write-through to the store with an
// audit entry in the same transaction.
#include "mqtt/device_registry.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <thread>

#include "storage/sqlite/sqlite_store.h"

namespace ioc::mqtt {
namespace {

namespace fs = std::filesystem;
using json = ioc::Json;

const std::string kVocab = "https://uri.etsi.org/ngsi-ld/default-context/";

json validSpec() {
  return {
      {"device_id", "dev1"},
      {"apikey", "KEY"},
      {"entity_id", "urn:ngsi-ld:WeatherObserved:hue-001"},
      {"entity_type", "WeatherObserved"},
      {"attributes",
       {{{"object_id", "t"}, {"name", "temperature"}, {"type", "Property"}, {"unitCode", "CEL"}},
        {{"object_id", "h"}, {"name", "relativeHumidity"}}}}};
}

std::string specError(const json& body) {
  auto d = parseDeviceSpec(body, "46", 1);
  if (d.ok()) return "ok";
  EXPECT_EQ(d.error().code, core::Errc::kInvalidArgument) << d.error().message;
  return d.error().message;
}

TEST(AttributeMappings, FindsEachIdWhateverTheOrderTheyWereAddedIn) {
  AttributeMappings m;
  for (const char* id : {"t", "a", "pm25", "b", "TimeZone"}) {
    m.set(id, AttributeMapping{std::string("name-") + id, "Property", ""});
  }
  m.set("b", AttributeMapping{"name-b2", "Property", "CEL"});  // replaced, not added
  EXPECT_EQ(m.size(), 5u);
  for (const char* id : {"t", "a", "pm25", "TimeZone"}) {
    ASSERT_NE(m.find(id), nullptr) << id;
    EXPECT_EQ(m.find(id)->name, std::string("name-") + id);
  }
  ASSERT_NE(m.find("b"), nullptr);
  EXPECT_EQ(m.find("b")->name, "name-b2");
  EXPECT_EQ(m.find("b")->unit_code, "CEL");
  for (const char* id : {"", "c", "pm2", "pm250", "zz", "A"}) EXPECT_EQ(m.find(id), nullptr) << id;
}

TEST(DeviceSpec, ExpandsTypeAndNames) {
  auto d = parseDeviceSpec(validSpec(), "46", 1234);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->device_id, "dev1");
  EXPECT_EQ(d->apikey, "KEY");
  EXPECT_EQ(d->entity_type, kVocab + "WeatherObserved");
  EXPECT_EQ(d->unit_code, "46");
  EXPECT_EQ(d->created_at_ms, 1234);
  json mapping = json::parse(d->mapping);
  EXPECT_EQ(mapping["t"]["name"], kVocab + "temperature");
  EXPECT_EQ(mapping["t"]["unitCode"], "CEL");
  EXPECT_EQ(mapping["h"]["type"], "Property");

  auto entry = makeEntry(*d);
  ASSERT_TRUE(entry.ok());
  ASSERT_NE((*entry)->attributes.find("h"), nullptr);
  EXPECT_EQ((*entry)->attributes.find("h")->name, kVocab + "relativeHumidity");
  EXPECT_EQ((*entry)->attributes.find("x"), nullptr);

  // The API representation gives back what was sent.
  json out = deviceJson(*d);
  EXPECT_EQ(out["entity_type"], "WeatherObserved");
  EXPECT_EQ(out["unit_code"], "46");
  bool found = false;
  for (const auto& a : out["attributes"]) {
    if (a["object_id"] == "t") {
      found = true;
      EXPECT_EQ(a["name"], "temperature");
      EXPECT_EQ(a["unitCode"], "CEL");
    }
  }
  EXPECT_TRUE(found) << out.dump();

  // Full IRIs stay as they are.
  json iri = validSpec();
  iri["entity_type"] = "https://smartdatamodels.org/dataModel.Weather/WeatherObserved";
  auto d2 = parseDeviceSpec(iri, "", 1);
  ASSERT_TRUE(d2.ok());
  EXPECT_EQ(d2->entity_type, "https://smartdatamodels.org/dataModel.Weather/WeatherObserved");
}

TEST(DeviceSpec, ValidatesEveryField) {
  auto with = [](const std::string& field, json value) {
    json b = validSpec();
    b[field] = std::move(value);
    return b;
  };
  auto without = [](const std::string& field) {
    json b = validSpec();
    b.erase(field);
    return b;
  };
  EXPECT_EQ(specError(json::array()), "expected a JSON object");
  for (const char* f : {"device_id", "apikey", "entity_id", "entity_type"}) {
    EXPECT_NE(specError(without(f)).find(std::string(f) + " is required"), std::string::npos) << f;
    EXPECT_NE(specError(with(f, "")).find("must not be empty"), std::string::npos) << f;
    EXPECT_NE(specError(with(f, 5)).find("must be a string"), std::string::npos) << f;
  }
  for (const char* f : {"device_id", "apikey"}) {
    for (const char* bad : {"a/b", "a+b", "a#", "a b", "dé"}) {
      EXPECT_NE(specError(with(f, bad)).find("only letters"), std::string::npos) << f << " " << bad;
    }
    EXPECT_NE(specError(with(f, std::string(129, 'a'))).find("longer than 128"), std::string::npos);
    EXPECT_EQ(specError(with(f, std::string(128, 'a'))), "ok");
    EXPECT_EQ(specError(with(f, "A-z_0.9:x")), "ok");
  }
  EXPECT_EQ(specError(with("entity_id", "not a uri")), "entity_id must be a URI");
  EXPECT_EQ(specError(with("entity_id", "hue-001")), "entity_id must be a URI");
  EXPECT_EQ(specError(with("entity_type", "Weather Observed")),
            "entity_type is not a valid type name");
  EXPECT_EQ(specError(with("extra", 1)), "unknown field extra");
  EXPECT_EQ(specError(without("attributes")), "attributes must be an array");
  EXPECT_EQ(specError(with("attributes", json::array())),
            "attributes must list at least one attribute");
  json many = json::array();
  for (int i = 0; i <= 100; ++i)
    many.push_back({{"object_id", "o" + std::to_string(i)}, {"name", "n" + std::to_string(i)}});
  EXPECT_EQ(specError(with("attributes", many)), "attributes may list at most 100 entries");
}

TEST(DeviceSpec, ValidatesAttributes) {
  auto attr = [](json a) {
    json b = validSpec();
    b["attributes"] = json::array({a});
    return specError(b);
  };
  EXPECT_EQ(attr(json{{"object_id", "t"}, {"name", "temperature"}}), "ok");
  EXPECT_EQ(attr(5), "attributes[0] must be an object");
  EXPECT_EQ(attr(json{{"object_id", "t"}, {"name", "x"}, {"other", 1}}),
            "attributes[0].unknown field other");
  EXPECT_EQ(attr(json{{"name", "x"}}), "attributes[0].object_id is required");
  EXPECT_EQ(attr(json{{"object_id", "t"}}), "attributes[0].name is required");
  EXPECT_EQ(attr(json{{"object_id", "a/b"}, {"name", "x"}}),
            "attributes[0].object_id may contain only letters, digits and _.:-");
  EXPECT_NE(attr(json{{"object_id", "TimeInstant"}, {"name", "x"}}).find("reserved"),
            std::string::npos);
  EXPECT_EQ(attr(json{{"object_id", "t"}, {"name", "a b"}}),
            "attributes[0].name is not a valid attribute name");
  EXPECT_EQ(attr(json{{"object_id", "t"}, {"name", "@context"}}),
            "attributes[0].name is not a valid attribute name");
  for (const char* reserved : {"id", "type", "location", "createdAt", "observedAt",
                               "https://uri.etsi.org/ngsi-ld/location"}) {
    EXPECT_NE(attr(json{{"object_id", "t"}, {"name", reserved}}).find("reserved"),
              std::string::npos)
        << reserved;
  }
  EXPECT_EQ(attr(json{{"object_id", "t"}, {"name", "x"}, {"type", "Relationship"}}),
            "attributes[0].type must be Property");
  EXPECT_EQ(attr(json{{"object_id", "t"}, {"name", "x"}, {"type", "GeoProperty"}}),
            "attributes[0].type must be Property");
  for (json bad : {json("C E L"), json(""), json(5), json(std::string(33, 'C'))}) {
    EXPECT_NE(attr(json{{"object_id", "t"}, {"name", "x"}, {"unitCode", bad}}).find("unitCode"),
              std::string::npos)
        << bad.dump();
  }
  json dup_id = validSpec();
  dup_id["attributes"] = {{{"object_id", "t"}, {"name", "a"}}, {{"object_id", "t"}, {"name", "b"}}};
  EXPECT_EQ(specError(dup_id), "attributes[1].object_id repeats t");
  json dup_name = validSpec();
  dup_name["attributes"] = {{{"object_id", "t"}, {"name", "a"}},
                            {{"object_id", "u"}, {"name", "a"}}};
  EXPECT_EQ(specError(dup_name), "attributes[1].name repeats a");
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "ioc_mqtt_test_XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (fs::path(path_) / name).string(); }

 private:
  std::string path_;
};

class Registry : public testing::Test {
 protected:
  void SetUp() override { open(); }
  void open() {
    store_.reset();
    storage::sqlite::SqliteOptions o;
    o.path = dir_.file("ioc.db");
    auto s = storage::sqlite::SqliteStore::open(o);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
    registry_ = std::make_unique<DeviceRegistry>(*store_, clock_);
    ASSERT_TRUE(registry_->load().ok());
  }
  model::Device device(const std::string& id, const std::string& unit) {
    json spec = validSpec();
    spec["device_id"] = id;
    auto d = parseDeviceSpec(spec, unit, clock_.nowUnixMs());
    EXPECT_TRUE(d.ok());
    return *d;
  }
  std::vector<model::AuditEntry> audit() {
    auto a = store_->listAudit({});
    EXPECT_TRUE(a.ok());
    return a.ok() ? *a : std::vector<model::AuditEntry>{};
  }

  TempDir dir_;
  core::FakeClock clock_;
  std::unique_ptr<storage::sqlite::SqliteStore> store_;
  std::unique_ptr<DeviceRegistry> registry_;
  model::Actor actor_{"op.hue", "operator", "46", "127.0.0.1", "rid-1"};
};

TEST_F(Registry, ProvisionWritesThroughWithAudit) {
  ASSERT_TRUE(registry_->provision(device("dev1", "46"), actor_).ok());
  auto found = registry_->find("KEY", "dev1");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->device.entity_id, "urn:ngsi-ld:WeatherObserved:hue-001");
  EXPECT_EQ(found->attributes.size(), 2u);
  EXPECT_FALSE(registry_->find("KEY", "dev2"));
  EXPECT_FALSE(registry_->find("OTHER", "dev1"));

  auto dup = registry_->provision(device("dev1", "46"), actor_);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, core::Errc::kAlreadyExists);

  auto entries = audit();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].action, "device.provision");
  EXPECT_EQ(entries[0].target, "device:KEY/dev1");
  EXPECT_EQ(entries[0].actor, "op.hue");
  EXPECT_EQ(entries[0].request_id, "rid-1");
  EXPECT_EQ(json::parse(entries[0].detail)["entity_id"], "urn:ngsi-ld:WeatherObserved:hue-001");

  // Durable: a new registry over a reopened store sees it.
  open();
  ASSERT_TRUE(registry_->find("KEY", "dev1"));
  EXPECT_EQ(registry_->size(), 1u);
}

TEST_F(Registry, RemoveHonoursThePredicate) {
  ASSERT_TRUE(registry_->provision(device("dev1", "46"), actor_).ok());
  ASSERT_TRUE(registry_->provision(device("dev2", "01"), actor_).ok());
  auto refused = registry_->remove("KEY", "dev2", actor_,
                                   [](const model::Device& d) { return d.unit_code == "46"; });
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, core::Errc::kNotFound);
  EXPECT_TRUE(registry_->find("KEY", "dev2"));
  ASSERT_TRUE(registry_->remove("KEY", "dev1", actor_).ok());
  EXPECT_FALSE(registry_->find("KEY", "dev1"));
  auto again = registry_->remove("KEY", "dev1", actor_);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, core::Errc::kNotFound);
  auto entries = audit();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[2].action, "device.remove");
  EXPECT_EQ(entries[2].target, "device:KEY/dev1");

  open();
  EXPECT_FALSE(registry_->find("KEY", "dev1"));
  ASSERT_EQ(registry_->list().size(), 1u);
  EXPECT_EQ(registry_->list()[0]->device.device_id, "dev2");
}

TEST_F(Registry, ConcurrentProvisioningOfOneDeviceHasOneWinner) {
  std::atomic<int> ok{0}, exists{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto s = registry_->provision(device("dev1", "46"), actor_);
      (s.ok() ? ok : exists)++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(exists.load(), 7);
  EXPECT_EQ(audit().size(), 1u);
}

}  // namespace
}  // namespace ioc::mqtt
