// JSON-LD @context handling: TermMap expansion and compaction, and ContextRegistry resolving
// @context values (URLs, inline objects, compact IRIs, arrays), Link headers and hosted contexts.
#include "context/ld_context.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "storage/sqlite/sqlite_store.h"

namespace ioc::context {
namespace {

using core::Errc;
using json = ioc::Json;

const std::string kNs = "https://uri.etsi.org/ngsi-ld/";
const std::string kVocab = "https://uri.etsi.org/ngsi-ld/default-context/";
const std::string kRel = "rel=\"http://www.w3.org/ns/json-ld#context\"";

std::string link(const std::string& url) {
  return "<" + url + ">; " + kRel + "; type=\"application/ld+json\"";
}

// ---------------------------------------------------------------------------------------------
// Core context

TEST(CoreContext, RecognisesEveryPublishedVersion) {
  EXPECT_TRUE(isCoreContextUrl(kCoreContextUrl));
  EXPECT_TRUE(isCoreContextUrl("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"));
  EXPECT_TRUE(isCoreContextUrl("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.3.jsonld"));
  EXPECT_TRUE(isCoreContextUrl("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"));
  EXPECT_FALSE(isCoreContextUrl("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.json"));
  EXPECT_FALSE(isCoreContextUrl("https://example.org/ngsi-ld-core-context.jsonld"));
  EXPECT_FALSE(isCoreContextUrl(""));
}

TEST(CoreContext, ExpandsCoreTermsAndDefaultVocabulary) {
  auto core = TermMap::core();
  EXPECT_EQ(core->expand("location"), kNs + "location");
  EXPECT_EQ(core->expand("observedAt"), kNs + "observedAt");
  EXPECT_EQ(core->expand("Property"), kNs + "Property");
  // Unknown terms go to the default vocabulary.
  EXPECT_EQ(core->expand("temperature"), kVocab + "temperature");
  EXPECT_EQ(core->expand("AirQualityObserved"), kVocab + "AirQualityObserved");
  // Compact IRIs with a defined prefix, and absolute IRIs left alone.
  EXPECT_EQ(core->expand("ngsi-ld:foo"), kNs + "foo");
  EXPECT_EQ(core->expand("https://example.org/x"), "https://example.org/x");
  EXPECT_EQ(core->expand("urn:ngsi-ld:Thing:1"), "urn:ngsi-ld:Thing:1");
  // "prefix://…" is an absolute IRI even when the prefix is a term.
  EXPECT_EQ(core->expand("ngsi-ld://host/x"), "ngsi-ld://host/x");
}

TEST(CoreContext, CompactsBackToTerms) {
  auto core = TermMap::core();
  EXPECT_EQ(core->compact(kNs + "location"), "location");
  EXPECT_EQ(core->compact(kVocab + "temperature"), "temperature");
  EXPECT_EQ(core->compact("https://example.org/x"), "https://example.org/x");
  EXPECT_EQ(core->source(), json(std::string(kCoreContextUrl)));
  EXPECT_EQ(core->linkUrl(), std::string(kCoreContextUrl));
  for (const char* t : {"location", "name", "temperature", "unitCode", "Building"}) {
    EXPECT_EQ(core->compact(core->expand(t)), t);
  }
}

// ---------------------------------------------------------------------------------------------
// resolve()

TEST(ContextRegistry, NullAndCoreUrlResolveToCore) {
  ContextRegistry reg;
  auto n = reg.resolve(json());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->get(), TermMap::core().get());
  auto c = reg.resolve(json("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.6.jsonld"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)->expand("temperature"), kVocab + "temperature");
}

TEST(ContextRegistry, InlineObjectDefinesTerms) {
  ContextRegistry reg;
  json ctx = {{"pm", "https://example.org/pm25#"},
              {"Station", {{"@id", "https://example.org/Station"}, {"@type", "@id"}}},
              {"ignored", nullptr},
              {"@vocab", "https://example.org/vocab/"},
              {"kw", {{"@type", "@id"}}}};
  auto r = reg.resolve(ctx);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const TermMap& m = **r;
  EXPECT_EQ(m.expand("pm"), "https://example.org/pm25#");
  EXPECT_EQ(m.expand("Station"), "https://example.org/Station");
  EXPECT_EQ(m.compact("https://example.org/pm25#"), "pm");
  EXPECT_EQ(m.compact("https://example.org/Station"), "Station");
  // Core terms are still there.
  EXPECT_EQ(m.expand("location"), kNs + "location");
  EXPECT_EQ(m.source(), ctx);
  EXPECT_EQ(m.linkUrl(), "") << "an inline context has no single URL";
}

TEST(ContextRegistry, CompactIrisUseAnyPrefixOfTheContext) {
  ContextRegistry reg;
  // "pm" uses the prefix "ex", defined after it in document order.
  json ctx = {{"pm", "ex:pm25"}, {"ex", "https://example.org/"}, {"core", "ngsi-ld:x"}};
  auto r = reg.resolve(ctx);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)->expand("pm"), "https://example.org/pm25");
  EXPECT_EQ((*r)->expand("ex:no2"), "https://example.org/no2");
  EXPECT_EQ((*r)->expand("core"), kNs + "x");
  EXPECT_EQ((*r)->compact("https://example.org/pm25"), "pm");
}

TEST(ContextRegistry, PrefixDefinedThroughAnotherCompactIri) {
  // JSON-LD context processing expands a term definition's prefix recursively: "b" is itself
  // "c:y/", so "a" = "b:x" = https://e.org/y/x whatever the member order.
  ContextRegistry reg;
  json ctx = {{"a", "b:x"}, {"b", "c:y/"}, {"c", "https://e.org/"}};
  auto r = reg.resolve(ctx);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)->expand("b"), "https://e.org/y/");
  EXPECT_EQ((*r)->expand("a"), "https://e.org/y/x");
}

TEST(ContextRegistry, ArraysCombineUrlsAndObjects) {
  ContextRegistry reg;
  reg.preload("https://contexts.example.org/a.jsonld",
              {{"@context", {{"pm", "https://example.org/pm25#"}}}});
  json ctx = json::array({"https://contexts.example.org/a.jsonld",
                          {{"no2", "https://example.org/no2"}},
                          std::string(kCoreContextUrl)});
  auto r = reg.resolve(ctx);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)->expand("pm"), "https://example.org/pm25#");
  EXPECT_EQ((*r)->expand("no2"), "https://example.org/no2");
  EXPECT_EQ((*r)->expand("location"), kNs + "location");
  EXPECT_EQ((*r)->source(), ctx);
  // A later definition wins.
  json over = json::array({{{"pm", "https://a.org/pm"}}, {{"pm", "https://b.org/pm"}}});
  auto o = reg.resolve(over);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ((*o)->expand("pm"), "https://b.org/pm");
}

TEST(ContextRegistry, PreloadedUrlResolvesWithItsLinkUrl) {
  ContextRegistry reg;
  const std::string url = "https://contexts.example.org/city.jsonld";
  reg.preload(url, {{"temperature", "https://example.org/temperature"}});  // bare context too
  auto r = reg.resolve(json(url));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)->expand("temperature"), "https://example.org/temperature");
  EXPECT_EQ((*r)->linkUrl(), url);
  EXPECT_EQ((*r)->source(), json(url));
}

TEST(ContextRegistry, UnknownRemoteUrlIsLdContextNotAvailable) {
  ContextRegistry reg;
  auto r = reg.resolve(json("https://contexts.example.org/unknown.jsonld"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kUnavailable);
  EXPECT_NE(r.error().message.find("LdContextNotAvailable"), std::string::npos)
      << r.error().message;
  // Also inside an array.
  auto a = reg.resolve(json::array({{{"x", "https://e.org/x"}}, "https://nowhere.example/c"}));
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code, Errc::kUnavailable);
}

TEST(ContextRegistry, FetcherIsUsedOnceAndCached) {
  std::atomic<int> calls{0};
  ContextRegistry reg([&](const std::string& url) -> core::Result<std::string> {
    ++calls;
    if (url == "https://ok.example/c.jsonld") {
      return std::string(R"({"@context": {"speed": "https://example.org/speed"}})");
    }
    if (url == "https://bad.example/c.jsonld") return std::string("not json");
    return core::makeError(Errc::kUnavailable, "404 from " + url);
  });
  auto r = reg.resolve(json("https://ok.example/c.jsonld"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)->expand("speed"), "https://example.org/speed");
  ASSERT_TRUE(reg.resolve(json("https://ok.example/c.jsonld")).ok());
  EXPECT_EQ(calls.load(), 1) << "a fetched document is cached";
  auto listed = reg.list();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_TRUE(listed[0].cached());
  EXPECT_EQ(listed[0].kind, ContextKind::kCached);
  EXPECT_EQ(listed[0].url, "https://ok.example/c.jsonld");

  auto bad = reg.resolve(json("https://bad.example/c.jsonld"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::kInvalidArgument);
  auto missing = reg.resolve(json("https://missing.example/c.jsonld"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::kUnavailable);
  EXPECT_NE(missing.error().message.find("LdContextNotAvailable"), std::string::npos);
}

TEST(ContextRegistry, InvalidContextValuesAreRejected) {
  ContextRegistry reg;
  for (const json& bad : {json(42), json(true), json::array({1})}) {
    auto r = reg.resolve(bad);
    ASSERT_FALSE(r.ok()) << bad.dump();
    EXPECT_EQ(r.error().code, Errc::kInvalidArgument) << bad.dump();
  }
  // A context that includes itself ends with an error instead of recursing forever.
  reg.preload("https://loop.example/c.jsonld", {{"@context", "https://loop.example/c.jsonld"}});
  auto loop = reg.resolve(json("https://loop.example/c.jsonld"));
  ASSERT_FALSE(loop.ok());
  EXPECT_EQ(loop.error().code, Errc::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// Compaction must invert expansion under the same context.

TEST(TermMap, RedefiningACoreTermDoesNotCompactTheCoreIriToIt) {
  // A user context that gives "name" another meaning: the core IRI ngsi-ld:name must no longer
  // compact to "name", or clients would read schema.org's name where the entity has NGSI-LD's.
  ContextRegistry reg;
  auto r = reg.resolve(json({{"name", "https://schema.org/name"}}));
  ASSERT_TRUE(r.ok()) << r.error().message;
  const TermMap& m = **r;
  EXPECT_EQ(m.expand("name"), "https://schema.org/name");
  EXPECT_EQ(m.compact("https://schema.org/name"), "name");
  const std::string core_name = kNs + "name";
  EXPECT_EQ(m.expand(m.compact(core_name)), core_name)
      << "compact(" << core_name << ") = " << m.compact(core_name);
}

TEST(TermMap, DefaultVocabularyIriIsNotCompactedToAUserTerm) {
  // With {"pm": "https://example.org/pm25#"}, an attribute created without any context as "pm"
  // (default-context/pm) is another attribute; it must not be shown as "pm".
  ContextRegistry reg;
  auto r = reg.resolve(json({{"pm", "https://example.org/pm25#"}}));
  ASSERT_TRUE(r.ok());
  const TermMap& m = **r;
  const std::string vocab_pm = kVocab + "pm";
  EXPECT_EQ(m.expand(m.compact(vocab_pm)), vocab_pm) << "compact gave " << m.compact(vocab_pm);
}

// ---------------------------------------------------------------------------------------------
// resolveLink()

TEST(ContextRegistry, ResolveLinkHeader) {
  ContextRegistry reg;
  auto empty = reg.resolveLink("");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->get(), TermMap::core().get());

  reg.preload("https://contexts.example.org/a.jsonld",
              {{"@context", {{"pm", "https://e.org/pm"}}}});
  auto r = reg.resolveLink(link("https://contexts.example.org/a.jsonld"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)->expand("pm"), "https://e.org/pm");
  EXPECT_EQ((*r)->linkUrl(), "https://contexts.example.org/a.jsonld");

  auto core = reg.resolveLink(link(std::string(kCoreContextUrl)));
  ASSERT_TRUE(core.ok());
  EXPECT_EQ((*core)->expand("pm"), kVocab + "pm");

  auto unknown = reg.resolveLink(link("https://contexts.example.org/unknown.jsonld"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, Errc::kUnavailable);

  for (const char* bad :
       {"https://contexts.example.org/a.jsonld", "<https://contexts.example.org/a.jsonld",
        "<https://contexts.example.org/a.jsonld>; rel=\"alternate\""}) {
    auto b = reg.resolveLink(bad);
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_EQ(b.error().code, Errc::kMalformedInput) << bad;
  }
}

TEST(ContextRegistry, ResolveLinkPicksTheContextLinkAmongSeveral) {
  // RFC 8288: one Link header may carry several links; the context is the one whose rel is
  // json-ld#context, not simply the first.
  ContextRegistry reg;
  reg.preload("https://contexts.example.org/a.jsonld",
              {{"@context", {{"pm", "https://e.org/pm"}}}});
  const std::string header = "<https://example.org/doc.html>; rel=\"alternate\", " +
                             link("https://contexts.example.org/a.jsonld");
  auto r = reg.resolveLink(header);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)->expand("pm"), "https://e.org/pm");
}

// ---------------------------------------------------------------------------------------------
// Hosted contexts

TEST(ContextRegistry, HostListGetRemove) {
  ContextRegistry reg;
  auto h = reg.host({{"@context", {{"pm", "https://example.org/pm25#"}}}}, "http://ioc.local:8080",
                    1234);
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_FALSE(h->id.empty());
  EXPECT_EQ(h->url, "http://ioc.local:8080/ngsi-ld/v1/jsonldContexts/" + h->id);
  EXPECT_EQ(h->created_at_ms, 1234);
  EXPECT_FALSE(h->cached());
  EXPECT_EQ(h->kind, ContextKind::kHosted);
  auto h2 = reg.host(
      {{"@context", json::array({std::string(kCoreContextUrl), {{"x", "https://e.org/x"}}})}},
      "http://ioc.local:8080", 1235);
  ASSERT_TRUE(h2.ok());
  EXPECT_NE(h2->id, h->id);

  // Clients refer to it by URL.
  auto r = reg.resolve(json(h->url));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)->expand("pm"), "https://example.org/pm25#");
  EXPECT_TRUE(reg.resolveLink(link(h->url)).ok());

  auto listed = reg.list();
  ASSERT_EQ(listed.size(), 2u);
  auto got = reg.get(h->id);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->document, json({{"@context", {{"pm", "https://example.org/pm25#"}}}}));
  EXPECT_FALSE(reg.get("no-such-id").has_value());

  EXPECT_TRUE(reg.remove(h->id));
  EXPECT_FALSE(reg.remove(h->id));
  EXPECT_FALSE(reg.get(h->id).has_value());
  EXPECT_EQ(reg.list().size(), 1u);
  auto gone = reg.resolve(json(h->url));
  ASSERT_FALSE(gone.ok()) << "a removed context still resolves";
  EXPECT_EQ(gone.error().code, Errc::kUnavailable);
}

TEST(ContextRegistry, HostRejectsInvalidDocuments) {
  ContextRegistry reg;
  for (const json& bad :
       {json::array(), json({{"pm", "https://e.org/pm"}}), json("x"), json({{"@context", 5}}),
        json({{"@context", "https://unknown.example/c.jsonld"}})}) {
    auto h = reg.host(bad, "http://ioc.local", 1);
    EXPECT_FALSE(h.ok()) << bad.dump();
  }
  EXPECT_TRUE(reg.list().empty()) << "an invalid document was stored";
}

// ---------------------------------------------------------------------------------------------
// Remote contexts: fetched once, nested URLs, limits, persistence, reload, preloading

//! A fake web of context documents; counts the downloads of each URL.
struct FakeWeb {
  std::map<std::string, std::string> pages;
  std::map<std::string, int> calls;
  std::mutex mu;
  ContextFetcher fetcher() {
    return [this](const std::string& url) -> core::Result<std::string> {
      std::lock_guard lock(mu);
      ++calls[url];
      auto it = pages.find(url);
      if (it == pages.end()) return core::makeError(Errc::kUnavailable, "HTTP 404 from " + url);
      return it->second;
    };
  }
};

TEST(RemoteContext, NestedUrlsAreFetchedRecursivelyOnce) {
  FakeWeb web;
  web.pages["https://a.example/top.jsonld"] =
      R"({"@context": ["https://a.example/base.jsonld", {"speed": "ex:speed"}]})";
  web.pages["https://a.example/base.jsonld"] = R"({"@context": {"ex": "https://example.org/"}})";
  ContextRegistry reg(web.fetcher());
  EXPECT_TRUE(reg.needsFetch(json("https://a.example/top.jsonld")));
  auto r = reg.resolve(json("https://a.example/top.jsonld"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)->expand("speed"), "https://example.org/speed");
  EXPECT_FALSE(reg.needsFetch(json("https://a.example/top.jsonld")));
  EXPECT_FALSE(reg.linkNeedsFetch(link("https://a.example/top.jsonld")));
  EXPECT_TRUE(reg.linkNeedsFetch(link("https://a.example/other.jsonld")));
  ASSERT_TRUE(reg.resolve(json("https://a.example/top.jsonld")).ok());
  EXPECT_EQ(web.calls["https://a.example/top.jsonld"], 1);
  EXPECT_EQ(web.calls["https://a.example/base.jsonld"], 1);
  EXPECT_EQ(reg.list().size(), 2u);
  // A JSON document that is not a context is InvalidContext (400), not cached.
  web.pages["https://a.example/not-context.json"] = R"({"hello": 1})";
  auto bad = reg.resolve(json("https://a.example/not-context.json"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("InvalidContext"), std::string::npos);
  EXPECT_EQ(reg.list().size(), 2u);
  // Without a fetcher nothing needs (or gets) a download.
  ContextRegistry offline;
  EXPECT_FALSE(offline.needsFetch(json("https://a.example/top.jsonld")));
}

TEST(RemoteContext, ConcurrentFirstUsesShareOneDownload) {
  FakeWeb web;
  web.pages["https://a.example/c.jsonld"] = R"({"@context": {"t": "https://e.org/t"}})";
  ContextRegistry reg(web.fetcher());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      if (reg.resolve(json("https://a.example/c.jsonld")).ok()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 8);
  EXPECT_EQ(web.calls["https://a.example/c.jsonld"], 1);
}

TEST(RemoteContext, CachedCopySurvivesARestartWithoutAnotherDownload) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("ioc-ctx-" + std::to_string(::getpid()) + "-" +
                    testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string url = "https://a.example/durable.jsonld";
  FakeWeb web;
  web.pages[url] = R"({"@context": {"pm25": "https://e.org/pm25"}})";
  {
    storage::sqlite::SqliteOptions o;
    o.path = (dir / "db").string();
    auto store = storage::sqlite::SqliteStore::open(o);
    ASSERT_TRUE(store.ok()) << store.error().message;
    ContextRegistry reg(web.fetcher(), store->get());
    ASSERT_TRUE(reg.load().ok());
    ASSERT_TRUE(reg.resolve(json(url)).ok());
    (*store)->flush();
  }
  storage::sqlite::SqliteOptions o;
  o.path = (dir / "db").string();
  auto store = storage::sqlite::SqliteStore::open(o);
  ASSERT_TRUE(store.ok());
  ContextRegistry reg(web.fetcher(), store->get());
  ASSERT_TRUE(reg.load().ok());
  auto r = reg.resolve(json(url));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)->expand("pm25"), "https://e.org/pm25");
  EXPECT_EQ(web.calls[url], 1) << "a restart downloaded the cached context again";
  auto got = reg.get(url);
  ASSERT_TRUE(got.has_value()) << "a Cached context is found by its URL";
  EXPECT_EQ(got->kind, ContextKind::kCached);

  // reload=true: a new download replaces the copy; removing forgets it durably.
  web.pages[url] = R"({"@context": {"pm25": "https://e.org/v2/pm25"}})";
  auto reloaded = reg.reload(url);
  ASSERT_TRUE(reloaded.ok()) << reloaded.error().message;
  EXPECT_EQ(web.calls[url], 2);
  EXPECT_EQ((*reg.resolve(json(url)))->expand("pm25"), "https://e.org/v2/pm25");
  web.pages.erase(url);
  auto failed = reg.reload(url);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, Errc::kUnavailable);
  EXPECT_TRUE(reg.get(url).has_value()) << "a failed reload keeps the old copy";
  EXPECT_TRUE(reg.remove(url));
  (*store)->flush();
  ContextRegistry again(ContextFetcher{}, store->get());
  ASSERT_TRUE(again.load().ok());
  EXPECT_FALSE(again.get(url).has_value());
  std::filesystem::remove_all(dir);
}

TEST(RemoteContext, ReloadIsOnlyForCachedContexts) {
  FakeWeb web;
  ContextRegistry reg(web.fetcher());
  auto h = reg.host({{"@context", {{"a", "https://e.org/a"}}}}, "http://ioc.local", 1);
  ASSERT_TRUE(h.ok());
  auto r = reg.reload(h->id);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
  EXPECT_EQ(reg.reload("nope").error().code, Errc::kNotFound);
}

TEST(RemoteContext, PreloadDirectoryMapsUrlsToFiles) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("ioc-preload-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "city.jsonld") << R"({"@context": {"level": "https://city.example/level"}})";
  std::ofstream(dir / "manifest.json") << R"({"https://city.example/ctx.jsonld": "city.jsonld",
             "https://mirror.example/ctx.jsonld": "city.jsonld"})";
  FakeWeb web;
  ContextRegistry reg(web.fetcher());
  auto n = reg.preloadDirectory(dir.string(), "preloaded");
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 2u);
  for (const char* url : {"https://city.example/ctx.jsonld", "https://mirror.example/ctx.jsonld"}) {
    auto r = reg.resolve(json(url));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ((*r)->expand("level"), "https://city.example/level");
  }
  EXPECT_TRUE(web.calls.empty()) << "preloaded contexts need no download";
  EXPECT_EQ(reg.get("https://city.example/ctx.jsonld")->origin, "preloaded");
  // A manifest naming a file outside the directory, or a non-context file, is refused.
  std::ofstream(dir / "manifest.json") << R"({"https://x.example/c": "../etc/passwd"})";
  EXPECT_FALSE(reg.preloadDirectory(dir.string(), "preloaded").ok());
  std::ofstream(dir / "bad.jsonld") << R"([1, 2])";
  std::ofstream(dir / "manifest.json") << R"({"https://x.example/c": "bad.jsonld"})";
  EXPECT_FALSE(reg.preloadDirectory(dir.string(), "preloaded").ok());
  EXPECT_FALSE(reg.preloadDirectory((dir / "missing").string(), "preloaded").ok());
  std::filesystem::remove_all(dir);
}

TEST(RemoteContext, ShippedSmartDataModelContextsResolveOffline) {
  ContextRegistry reg;
  auto n = reg.preloadDirectory(std::string(IOC_SOURCE_DIR) + "/data/contexts", "builtin");
  ASSERT_TRUE(n.ok()) << n.error().message;
  auto r = reg.resolveLink(
      link("https://smart-data-models.github.io/dataModel.Environment/context.jsonld"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)->expand("pm25"), "https://smartdatamodels.org/dataModel.Environment/pm25");
  EXPECT_EQ((*r)->expand("location"), kNs + "location");
  EXPECT_EQ((*r)->compact("https://smartdatamodels.org/dataModel.Environment/pm25"), "pm25");
  auto raw = reg.resolve(
      json("https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/"
           "context.jsonld"));
  ASSERT_TRUE(raw.ok()) << raw.error().message;
  EXPECT_EQ((*raw)->expand("no2"), "https://smartdatamodels.org/dataModel.Environment/no2");
  // Every shipped data model resolves under both of its published URLs.
  struct Shipped {
    const char* model;
    const char* term;
  };
  for (const Shipped& s :
       {Shipped{"Streetlighting", "powerState"}, Shipped{"WasteManagement", "fillingLevel"},
        Shipped{"Transportation", "intensity"}, Shipped{"Device", "batteryLevel"}}) {
    const std::string model = std::string("dataModel.") + s.model;
    const std::string iri = "https://smartdatamodels.org/" + model + "/" + s.term;
    for (const std::string& url :
         {"https://smart-data-models.github.io/" + model + "/context.jsonld",
          "https://raw.githubusercontent.com/smart-data-models/" + model +
              "/master/context.jsonld"}) {
      auto c = reg.resolveLink(link(url));
      ASSERT_TRUE(c.ok()) << url << ": " << c.error().message;
      EXPECT_EQ((*c)->expand(s.term), iri) << url;
      EXPECT_EQ((*c)->compact(iri), s.term) << url;
    }
  }
  // WasteManagement maps location through the "ngsi-ld:" prefix it leaves to the core context.
  auto waste = reg.resolveLink(
      link("https://smart-data-models.github.io/dataModel.WasteManagement/context.jsonld"));
  ASSERT_TRUE(waste.ok()) << waste.error().message;
  EXPECT_EQ((*waste)->expand("location"), kNs + "location");
  auto transport = reg.resolveLink(
      link("https://smart-data-models.github.io/dataModel.Transportation/context.jsonld"));
  ASSERT_TRUE(transport.ok()) << transport.error().message;
  EXPECT_EQ((*transport)->expand("TrafficFlowObserved"),
            "https://smartdatamodels.org/dataModel.Transportation/TrafficFlowObserved");
}

}  // namespace
}  // namespace ioc::context
