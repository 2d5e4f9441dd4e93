// Kernels on the per-request path: routing, credential checks, JSON body validation, text folding,
// timestamps (every reading and rendered attribute carries one).
// Run: build/release/bench/bench_hotpath (Release build; see docs/BENCHMARKS.md).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>

#include "api/json_body.h"
#include "auth/auth_service.h"
#include "auth/tokens.h"
#include "core/clock.h"
#include "core/text.h"
#include "net/router.h"
#include "storage/sqlite/sqlite_store.h"

namespace {

using ioc::net::http::verb;

void BM_RouterMatch(benchmark::State& state) {
  ioc::net::Router router;
  auto noop = [](ioc::net::RequestPtr, ioc::net::Responder) {};
  for (const char* p :
       {"/healthz", "/readyz", "/metrics", "/api/v1/auth/login", "/api/v1/auth/me", "/api/v1/units",
        "/api/v1/units/{code}", "/api/v1/users", "/api/v1/users/{id}", "/api/v1/keys",
        "/api/v1/keys/{id}", "/api/v1/audit", "/api/v1/audit/verify"}) {
    router.add(verb::get, p, noop);
  }
  for (auto _ : state) {
    auto m = router.match(verb::get, "/api/v1/units/19789");
    benchmark::DoNotOptimize(m.route);
  }
}
BENCHMARK(BM_RouterMatch);

void BM_AuthenticateCached(benchmark::State& state) {
  char tmpl[] = "/tmp/ioc-bench-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  {
    ioc::storage::sqlite::SqliteOptions options;
    options.path = dir + "/b.db";
    auto store = ioc::storage::sqlite::SqliteStore::open(options);
    ioc::auth::AuthService auth(**store, ioc::core::SystemClock::instance(), {});
    ioc::model::ApiKey key;
    std::string secret = ioc::auth::generateToken(ioc::auth::kKeyPrefix);
    key.name = "bench";
    key.key_hash = ioc::auth::hashToken(secret);
    key.prefix = secret.substr(0, 10);
    (void)(*store)->writeSync([&](ioc::storage::WriteTx& tx) {
      auto id = tx.insertApiKey(key);
      return id.ok() ? ioc::core::Status::success() : ioc::core::Status(id.error());
    });
    (void)auth.authenticate(secret);  // warm the cache
    for (auto _ : state) {
      auto p = auth.authenticate(secret);
      benchmark::DoNotOptimize(p.ok());
    }
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_AuthenticateCached);

void BM_ParseJsonBody(benchmark::State& state) {
  const std::string body =
      R"({"username":"nguyen.van.a","password":"mat-khau-rat-dai","role":"operator","unit_code":"19789"})";
  for (auto _ : state) {
    auto j = ioc::api::parseJsonObject(body);
    benchmark::DoNotOptimize(j.ok());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_ParseJsonBody);

//! An object whose keys come in reverse order: each would be inserted at the front of its
//! sorted vector (quadratic); the parser appends and sorts once (core/json.h).
void BM_ParseObjectKeysReversed(benchmark::State& state) {
  std::string body = "{";
  for (int64_t i = state.range(0); i > 0; --i) {
    body += (body.size() > 1 ? ",\"" : "\"") + std::to_string(1'000'000 + i) + "\":1";
  }
  body += "}";
  for (auto _ : state) {
    auto j = ioc::api::parseJsonObject(body);
    benchmark::DoNotOptimize(j.ok());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_ParseObjectKeysReversed)->Arg(1000)->Arg(100000);

void BM_FoldVietnamese(benchmark::State& state) {
  const std::string text = "Phường Thuận Hoá, Thành phố Huế — Trung tâm giám sát điều hành";
  for (auto _ : state) benchmark::DoNotOptimize(ioc::core::foldVietnamese(text));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_FoldVietnamese);

void BM_FormatRfc3339(benchmark::State& state) {
  int64_t ms = 1'796'256'000'123;
  for (auto _ : state) benchmark::DoNotOptimize(ioc::core::formatRfc3339(ms += 997));
}
BENCHMARK(BM_FormatRfc3339);

}  // namespace
