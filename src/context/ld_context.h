#pragma once
// JSON-LD @context handling for NGSI-LD: expanding the short terms clients send into IRIs for
// storage, and compacting IRIs back into the terms of each request's own @context.
// Thread-safety: TermMap is immutable once built; ContextRegistry is internally locked.
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"
#include "storage/store.h"

namespace ioc::context {

inline constexpr std::string_view kNgsiLdNs = "https://uri.etsi.org/ngsi-ld/";
inline constexpr std::string_view kDefaultVocab = "https://uri.etsi.org/ngsi-ld/default-context/";
inline constexpr std::string_view kCoreContextUrl =
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld";

//! Any published version of the core context (v1.0 … v1.8) names the same built-in terms.
bool isCoreContextUrl(std::string_view url);

//! The terms of one effective @context (core terms + user terms).
class TermMap {
 public:
  //! Core context only.
  static std::shared_ptr<const TermMap> core();

  std::string expand(std::string_view term) const;
  std::string compact(std::string_view iri) const;
  //! The @context value to echo in responses: the user's, or the core context URL.
  const ioc::Json& source() const { return source_; }
  //! The URL for a Link header, when the context is one URL (core or user).
  const std::string& linkUrl() const { return link_url_; }

 private:
  friend class ContextRegistry;
  void define(const std::string& term, const std::string& iri);
  std::unordered_map<std::string, std::string> term_to_iri_;
  std::unordered_map<std::string, std::string> iri_to_term_;
  ioc::Json source_;
  std::string link_url_;
};

//! Fetches a remote context document (bounded time and size); injected so tests and air-gapped
//! sites need no network. Blocking: runs on the calling (worker) thread.
using ContextFetcher = std::function<core::Result<std::string>(const std::string& url)>;

//! ETSI GS CIM 009 §5.13: how a stored @context came to be.
enum class ContextKind {
  kHosted,             //!< posted by a client to /jsonldContexts
  kCached,             //!< a copy of a remote document, under its original URL
  kImplicitlyCreated,  //!< created by the broker itself (not used by CityIOC yet)
};
const char* contextKindName(ContextKind kind);
std::optional<ContextKind> parseContextKind(std::string_view name);

//! The documents kind under which fetched @contexts persist (storage documents table).
inline constexpr std::string_view kCachedContextDocKind = "jsonld-context";

//! Resolves @context values to TermMaps. Remote documents are fetched once (when a fetcher is
//! set), cached in memory and in the store, and served from there afterwards; contexts posted to
//! /jsonldContexts are hosted; built-in and preloaded documents need no network at all.
class ContextRegistry {
 public:
  //! With a store, hosted and fetched contexts are durable (written through, reloaded by load()).
  //! Without a fetcher, unknown remote URLs are LdContextNotAvailable.
  explicit ContextRegistry(ContextFetcher fetcher = {}, storage::Store* store = nullptr,
                           const core::Clock* clock = nullptr);
  //! Reads hosted and cached contexts back from the store.
  core::Status load();

  //! From an @context value: a URL string, an inline object, or an array of both. May fetch
  //! (blocking) when the value names a URL not stored yet.
  core::Result<std::shared_ptr<const TermMap>> resolve(const ioc::Json& context);
  //! From an HTTP Link header (rel="http://www.w3.org/ns/json-ld#context"); empty → core.
  core::Result<std::shared_ptr<const TermMap>> resolveLink(std::string_view link_header);
  //! True when resolving would go to the network (some URL, possibly nested, is not stored and
  //! fetching is on): callers on I/O threads hand such requests to a worker first.
  bool needsFetch(const ioc::Json& context) const;
  bool linkNeedsFetch(std::string_view link_header) const;

  struct Hosted {
    std::string id;   //!< local identifier (path segment of /jsonldContexts/{id})
    std::string url;  //!< the URL clients use to refer to it (original URL when Cached)
    ioc::Json document;
    int64_t created_at_ms = 0;
    ContextKind kind = ContextKind::kHosted;
    std::string origin;  //!< "posted", "fetched", "builtin" or "preloaded"
    int64_t last_usage_ms = 0;
    uint64_t hits = 0;
    bool cached() const { return kind == ContextKind::kCached; }
  };
  //! Stores a context document under a new id; `url_base` is this server's public URL prefix.
  core::Result<Hosted> host(const ioc::Json& document, const std::string& url_base, int64_t now_ms);
  std::vector<Hosted> list() const;
  //! By local id, or (Cached only) by original URL.
  std::optional<Hosted> get(const std::string& id_or_url) const;
  bool remove(const std::string& id_or_url);
  //! Downloads a Cached context again and replaces the stored copy (DELETE …?reload=true).
  //! kNotFound, kInvalidArgument (not Cached), kUnavailable (download failed; old copy kept).
  core::Result<Hosted> reload(const std::string& id_or_url);
  //! Registers a document under a URL without fetching (tests, built-in and preloaded sets).
  void preload(const std::string& url, const ioc::Json& document,
               std::string_view origin = "preloaded");
  //! Preloads every document named in DIR/manifest.json, an object {"<URL>": "<file>"} with
  //! files relative to DIR. URLs already stored (say, a reloaded copy) are left alone.
  //! Returns how many URLs were registered.
  core::Result<size_t> preloadDirectory(const std::string& dir, std::string_view origin);

 private:
  struct Entry;
  using EntryPtr = std::shared_ptr<Entry>;
  core::Status addTerms(TermMap& map, const ioc::Json& context, int depth);
  core::Result<ioc::Json> document(const std::string& url);
  core::Result<ioc::Json> fetchAndStore(const std::string& url, const std::string& reuse_id);
  bool needsFetchLocked(const ioc::Json& context, int depth) const;
  EntryPtr findLocked(const std::string& url) const;
  EntryPtr byIdOrUrlLocked(const std::string& id_or_url) const;
  void persistCached(const Entry& e);
  int64_t now() const;

  ContextFetcher fetcher_;
  storage::Store* store_;
  const core::Clock* clock_;
  mutable std::mutex mu_;
  std::vector<EntryPtr> entries_;                                             //!< in creation order
  std::unordered_map<std::string, EntryPtr> by_url_;                          //!< every stored URL
  std::unordered_map<std::string, std::shared_ptr<const TermMap>> resolved_;  //!< by URL
  //! One download per URL at a time: later callers wait for the first one's result.
  std::unordered_map<std::string, std::shared_future<core::Result<ioc::Json>>> inflight_;
  uint64_t next_id_ = 1;
};

}  // namespace ioc::context
