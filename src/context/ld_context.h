#pragma once
// JSON-LD @context handling for NGSI-LD: expanding the short terms clients send into IRIs for
// storage, and compacting IRIs back into the terms of each request's own @context.
// Thread-safety: TermMap is immutable once built; ContextRegistry is internally locked.
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

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
  const nlohmann::json& source() const { return source_; }
  //! The URL for a Link header, when the context is one URL (core or user).
  const std::string& linkUrl() const { return link_url_; }

 private:
  friend class ContextRegistry;
  void define(const std::string& term, const std::string& iri);
  std::unordered_map<std::string, std::string> term_to_iri_;
  std::unordered_map<std::string, std::string> iri_to_term_;
  nlohmann::json source_;
  std::string link_url_;
};

//! Fetches a remote context document (bounded time and size); injected so tests and air-gapped
//! sites need no network.
using ContextFetcher = std::function<core::Result<std::string>(const std::string& url)>;

//! Resolves @context values to TermMaps, caching every remote document it has seen, and hosts
//! contexts posted to /jsonldContexts so that air-gapped sites can preload them.
class ContextRegistry {
 public:
  //! With a store, hosted contexts are durable (written through, reloaded by load()).
  explicit ContextRegistry(ContextFetcher fetcher = {}, storage::Store* store = nullptr);
  core::Status load();

  //! From an @context value: a URL string, an inline object, or an array of both.
  core::Result<std::shared_ptr<const TermMap>> resolve(const nlohmann::json& context);
  //! From an HTTP Link header (rel="http://www.w3.org/ns/json-ld#context"); empty → core.
  core::Result<std::shared_ptr<const TermMap>> resolveLink(std::string_view link_header);

  struct Hosted {
    std::string id;
    std::string url;  //!< the URL clients use to refer to it
    nlohmann::json document;
    int64_t created_at_ms = 0;
    bool cached = false;  //!< true for fetched remote documents, false for posted ones
  };
  //! Stores a context document under a new id; `url_base` is this server's public URL prefix.
  core::Result<Hosted> host(const nlohmann::json& document, const std::string& url_base,
                            int64_t now_ms);
  std::vector<Hosted> list() const;
  std::optional<Hosted> get(const std::string& id) const;
  bool remove(const std::string& id);
  //! Registers a document under a URL without fetching (preloading, tests).
  void preload(const std::string& url, const nlohmann::json& document);

 private:
  core::Status addTerms(TermMap& map, const nlohmann::json& context, int depth);
  core::Result<nlohmann::json> document(const std::string& url);

  std::optional<nlohmann::json> hostedById(const std::string& url) const;

  ContextFetcher fetcher_;
  storage::Store* store_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, nlohmann::json> by_url_;  //!< the "@context" member of each
  std::vector<Hosted> hosted_;
  uint64_t next_id_ = 1;
};

}  // namespace ioc::context
