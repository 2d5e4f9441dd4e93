// The live-stream hub's fan-out kernel (issue 4: 1,000 clients receiving coalesced updates
// without slowing ingestion). Events for 5,000 sensors in the wards of Huế are published to a hub
// with N clients on the "entities" topic, of which a quarter read as fast as messages come and
// the rest are slow (their transport window stays full, as a busy browser's would). Reported:
// events fanned out per second (items/s) — the hub keeps up with ingestion while this exceeds the
// ingestion rate — and, per event, the messages actually handed to transports.
#include <benchmark/benchmark.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "stream/hub.h"
#include "units/catalog.h"

namespace {

using namespace ioc;

const units::UnitCatalog& catalog() {
  static const units::UnitCatalog c = [] {
    auto loaded = units::UnitCatalog::loadFile(std::string(IOC_SOURCE_DIR) +
                                               "/data/admin/vn34_units_2025_full.json");
    if (!loaded.ok()) throw std::runtime_error(loaded.error().message);
    return std::move(*loaded);
  }();
  return c;
}

//! Counts messages; a fast reader reports each one written at once (from a reader thread, as a
//! socket's completion handler would), a slow one never does.
class CountingSink final : public stream::Sink {
 public:
  explicit CountingSink(std::atomic<long>& sent) : sent_(sent) {}
  void send(const stream::Outgoing&) override { sent_.fetch_add(1, std::memory_order_relaxed); }
  void close() override {}

 private:
  std::atomic<long>& sent_;
};

auth::Principal operatorOf(std::string unit) {
  auth::Principal p;
  p.kind = auth::Principal::Kind::kUser;
  p.id = 1;
  p.role = model::Role::kOperator;
  p.unit_code = std::move(unit);
  return p;
}

void BM_FanOut(benchmark::State& state) {
  const int clients = static_cast<int>(state.range(0));
  core::FakeClock clock;
  stream::Hub hub(catalog(), clock, nullptr);
  hub.start();
  std::atomic<long> sent{0};
  std::vector<stream::ClientPtr> fast, all;
  const char* units[] = {"46", "46", "19753", "19774"};  // city-wide and ward operators
  for (int i = 0; i < clients; ++i) {
    auto c = hub.connect(operatorOf(units[i % 4]), std::make_shared<CountingSink>(sent));
    c->handle(R"({"op":"subscribe","topics":["entities"]})");
    all.push_back(c);
    if (i % 4 == 0) fast.push_back(c);
  }
  std::atomic<bool> reading{true};
  std::thread reader([&] {  // fast clients: every message handed over is written at once
    while (reading.load(std::memory_order_relaxed)) {
      for (auto& c : fast) {
        for (int k = 0; k < 8; ++k) c->written();
      }
    }
  });
  const char* wards[] = {"19753", "19774", "19756", "19777"};
  constexpr int kBatch = 10000;
  long events = 0;
  const long sent_before = sent.load();
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) {
      stream::Event e;
      e.topic = "entities";
      e.subtype = "https://smartdatamodels.org/dataModel.Environment/AirQualityObserved";
      e.unit_code = wards[i % 4];
      e.key = "urn:ngsi-ld:AirQualityObserved:hue-" + std::to_string(i % 5000);
      e.point = std::pair{107.58, 16.46};
      e.payload = {{"id", e.key}, {"attrs", {{"pm25", i % 300}}}};
      hub.publish(std::move(e));
    }
    hub.waitIdle();
    events += kBatch;
  }
  reading = false;
  reader.join();
  state.SetItemsProcessed(events);
  state.counters["msgs_per_event"] =
      static_cast<double>(sent.load() - sent_before) / static_cast<double>(events);
  state.counters["clients_left"] = static_cast<double>(hub.clients());
  hub.stop();
}
BENCHMARK(BM_FanOut)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
