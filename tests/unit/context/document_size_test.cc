// How many allocations an entity document holds. Memory at 100,000 entities is an issue-3
// target (RSS < 400 MB); the document is most of it. Measured by counting the allocations of
// a copy of the document (a replaced global operator new, in this test binary only).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "context/entity.h"
#include "context/ld_context.h"
#include "core/clock.h"

namespace {
std::atomic<long> g_allocations{0};
}  // namespace

// Every non-aligned form is replaced, so that each allocation is counted and each pairs with its
// own release (ASan checks that new and delete match).
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  return operator new(n);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept {
  return operator new(n, t);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}

namespace ioc::context {
namespace {

//! Allocations a copy of `doc` makes: what the document holds.
template <class Document>
long allocationsOf(const Document& doc) {
  const long before = g_allocations.load();
  const Document copy = doc;
  const long made = g_allocations.load() - before;
  EXPECT_EQ(copy, doc);
  return made;
}

TEST(DocumentSize, AStationWithTwoAttributesHoldsNineteenAllocations) {
  // The entity of bench/ngsild_query.sh: a number and a point.
  const Json body = Json::parse(R"({
    "id": "urn:ngsi-ld:AirQualityObserved:q-12345", "type": "AirQualityObserved",
    "pm25": {"type": "Property", "value": 123},
    "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [107.5, 16.4]}}
  })");
  auto entity = parseEntity(body, *TermMap::core(), 1'796'000'000'000);
  ASSERT_TRUE(entity.ok()) << entity.error().message;
  const Json& doc = entity->doc;
  EXPECT_LE(allocationsOf(doc), 19) << doc.dump();

  // What the bound guards against: the same document with the attributes' system times as
  // text (27 allocations), and with std::map objects, a node per member (29).
  Json text_times = doc;
  for (auto& [name, attr] : text_times.items()) {
    if (!attr.is_object()) continue;
    for (const char* t : {"createdAt", "modifiedAt"}) attr[t] = core::formatRfc3339(attr[t]);
  }
  EXPECT_GT(allocationsOf(text_times), 19) << text_times.dump();
  EXPECT_GT(allocationsOf(nlohmann::json::parse(doc.dump())), 19);
}

TEST(DocumentSize, AMergedVersionHasNoSpareSlots) {
  // Telemetry replaces attributes by merging (mergedCopy): the new version's object holds
  // exactly its members — spare capacity would stay allocated as long as the version lives.
  const Json body = Json::parse(R"({"id": "urn:ngsi-ld:S:1", "type": "S",
    "a": {"type": "Property", "value": 1}, "b": {"type": "Property", "value": 2}})");
  auto entity = parseEntity(body, *TermMap::core(), 1'796'000'000'000);
  ASSERT_TRUE(entity.ok()) << entity.error().message;
  auto reading =
      parseAttributes(Json::parse(R"({"b": 3, "c": 4})"), *TermMap::core(), 1'796'000'001'000);
  ASSERT_TRUE(reading.ok()) << reading.error().message;
  const Entity next = mergedCopy(*entity, *reading, MergeMode::kAppend, 1'796'000'001'000);
  const auto& members = next.doc.get_ref<const Json::object_t&>();
  EXPECT_EQ(members.size(), 5u) << next.doc.dump();
  EXPECT_EQ(members.capacity(), members.size());
}

}  // namespace
}  // namespace ioc::context
