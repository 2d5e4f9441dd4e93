#include "context/ld_context.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <optional>

namespace ioc::context {

using core::Errc;
using core::makeError;
using nlohmann::json;

namespace {

constexpr int kMaxContextDepth = 8;

//! Terms of the NGSI-LD core context that clients use as attribute or type names.
const std::pair<const char*, const char*> kCoreTerms[] = {
    {"location", "https://uri.etsi.org/ngsi-ld/location"},
    {"observationSpace", "https://uri.etsi.org/ngsi-ld/observationSpace"},
    {"operationSpace", "https://uri.etsi.org/ngsi-ld/operationSpace"},
    {"Property", "https://uri.etsi.org/ngsi-ld/Property"},
    {"Relationship", "https://uri.etsi.org/ngsi-ld/Relationship"},
    {"GeoProperty", "https://uri.etsi.org/ngsi-ld/GeoProperty"},
    {"LanguageProperty", "https://uri.etsi.org/ngsi-ld/LanguageProperty"},
    {"observedAt", "https://uri.etsi.org/ngsi-ld/observedAt"},
    {"createdAt", "https://uri.etsi.org/ngsi-ld/createdAt"},
    {"modifiedAt", "https://uri.etsi.org/ngsi-ld/modifiedAt"},
    {"unitCode", "https://uri.etsi.org/ngsi-ld/unitCode"},
    {"datasetId", "https://uri.etsi.org/ngsi-ld/datasetId"},
    {"name", "https://uri.etsi.org/ngsi-ld/name"},
    {"description", "https://uri.etsi.org/ngsi-ld/description"},
    {"ngsi-ld", "https://uri.etsi.org/ngsi-ld/"},
};

bool looksLikeIri(std::string_view s) {
  return s.find(':') != std::string_view::npos;
}

}  // namespace

bool isCoreContextUrl(std::string_view url) {
  constexpr std::string_view kPrefix = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context";
  if (url.substr(0, kPrefix.size()) != kPrefix) return false;
  std::string_view rest = url.substr(kPrefix.size());
  return rest == ".jsonld" || (rest.size() > 9 && rest.substr(0, 2) == "-v" &&
                               rest.substr(rest.size() - 7) == ".jsonld");
}

std::shared_ptr<const TermMap> TermMap::core() {
  static const std::shared_ptr<const TermMap> map = [] {
    auto m = std::make_shared<TermMap>();
    for (const auto& [term, iri] : kCoreTerms) m->define(term, iri);
    m->source_ = std::string(kCoreContextUrl);
    m->link_url_ = std::string(kCoreContextUrl);
    return m;
  }();
  return map;
}

void TermMap::define(const std::string& term, const std::string& iri) {
  // A redefined term no longer compacts its old IRI (a later definition wins, as in JSON-LD).
  if (auto old = term_to_iri_.find(term); old != term_to_iri_.end()) {
    auto back = iri_to_term_.find(old->second);
    if (back != iri_to_term_.end() && back->second == term) iri_to_term_.erase(back);
  }
  term_to_iri_[term] = iri;
  iri_to_term_[iri] = term;
}

std::string TermMap::expand(std::string_view term) const {
  auto it = term_to_iri_.find(std::string(term));
  if (it != term_to_iri_.end()) return it->second;
  if (looksLikeIri(term)) {
    // Compact IRI "prefix:suffix" when the prefix is a defined term; otherwise an absolute IRI.
    size_t colon = term.find(':');
    auto prefix = term_to_iri_.find(std::string(term.substr(0, colon)));
    if (prefix != term_to_iri_.end() && term.substr(colon + 1, 2) != "//") {
      return prefix->second + std::string(term.substr(colon + 1));
    }
    return std::string(term);
  }
  return std::string(kDefaultVocab) + std::string(term);
}

std::string TermMap::compact(std::string_view iri) const {
  auto it = iri_to_term_.find(std::string(iri));
  if (it != iri_to_term_.end()) return it->second;
  if (iri.substr(0, kDefaultVocab.size()) == kDefaultVocab) {
    // Only if the short form expands back to this IRI (a user term may have taken the name).
    std::string term(iri.substr(kDefaultVocab.size()));
    if (!term_to_iri_.count(term)) return term;
  }
  return std::string(iri);
}

ContextRegistry::ContextRegistry(ContextFetcher fetcher, storage::Store* store)
    : fetcher_(std::move(fetcher)), store_(store) {}

core::Status ContextRegistry::load() {
  if (!store_) return core::Status::success();
  auto stored = store_->listContexts();
  if (!stored.ok()) return stored.error();
  std::lock_guard lock(mu_);
  for (const auto& c : *stored) {
    json doc = json::parse(c.document, nullptr, false);
    if (doc.is_discarded() || !doc.contains("@context")) continue;
    by_url_[c.url] = doc["@context"];
    hosted_.push_back(Hosted{c.id, c.url, doc, c.created_at_ms, false});
    uint64_t n = 0;
    if (std::from_chars(c.id.data(), c.id.data() + c.id.size(), n).ec == std::errc()) {
      next_id_ = std::max(next_id_, n + 1);
    }
  }
  return core::Status::success();
}

//! A URL naming one of our hosted contexts under any host name or port it was reached by.
std::optional<json> ContextRegistry::hostedById(const std::string& url) const {
  constexpr std::string_view kPath = "/ngsi-ld/v1/jsonldContexts/";
  size_t at = url.find(kPath);
  if (at == std::string::npos) return std::nullopt;
  const std::string id = url.substr(at + kPath.size());
  for (const auto& h : hosted_) {
    if (!h.cached && h.id == id) return h.document["@context"];
  }
  return std::nullopt;
}

void ContextRegistry::preload(const std::string& url, const json& document) {
  std::lock_guard lock(mu_);
  by_url_[url] = document.contains("@context") ? document["@context"] : document;
}

core::Result<json> ContextRegistry::document(const std::string& url) {
  {
    std::lock_guard lock(mu_);
    auto it = by_url_.find(url);
    if (it != by_url_.end()) return it->second;
    if (auto hosted = hostedById(url)) return *hosted;
  }
  if (!fetcher_) {
    return makeError(Errc::kUnavailable, "LdContextNotAvailable: " + url +
                                             " is not preloaded and remote fetching is off");
  }
  auto text = fetcher_(url);
  if (!text.ok()) {
    return makeError(Errc::kUnavailable, "LdContextNotAvailable: " + text.error().message);
  }
  json doc = json::parse(*text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("@context")) {
    return makeError(Errc::kInvalidArgument,
                     "InvalidContext: " + url + " is not a JSON-LD context");
  }
  std::lock_guard lock(mu_);
  by_url_[url] = doc["@context"];
  hosted_.push_back(Hosted{std::to_string(next_id_++), url, doc, 0, true});
  return doc["@context"];
}

core::Status ContextRegistry::addTerms(TermMap& map, const json& context, int depth) {
  if (depth > kMaxContextDepth) {
    return makeError(Errc::kInvalidArgument, "InvalidContext: contexts nested too deeply");
  }
  if (context.is_null()) return core::Status::success();
  if (context.is_array()) {
    for (const auto& item : context) {
      if (auto s = addTerms(map, item, depth + 1); !s.ok()) return s;
    }
    return core::Status::success();
  }
  if (context.is_string()) {
    const std::string& url = context.get_ref<const std::string&>();
    if (isCoreContextUrl(url)) return core::Status::success();
    auto doc = document(url);
    if (!doc.ok()) return doc.error();
    return addTerms(map, *doc, depth + 1);
  }
  if (!context.is_object()) {
    return makeError(Errc::kInvalidArgument,
                     "InvalidContext: @context must be a URL, object or array");
  }
  // Collect the raw definitions, then resolve "prefix:suffix" values through prefixes defined
  // anywhere in the context (in any order, chains included, cycles refused).
  std::unordered_map<std::string, std::string> raw;
  for (const auto& [term, def] : context.items()) {
    if (term.empty() || term[0] == '@') continue;
    std::string iri;
    if (def.is_string()) {
      iri = def.get<std::string>();
    } else if (def.is_object() && def.contains("@id") && def["@id"].is_string()) {
      iri = def["@id"].get<std::string>();
    } else {
      continue;  // null or keyword-only definitions carry no IRI
    }
    if (!iri.empty() && iri[0] != '@') raw[term] = iri;
  }
  std::function<std::optional<std::string>(const std::string&, int)> resolveIri =
      [&](const std::string& value, int hops) -> std::optional<std::string> {
    if (hops > kMaxContextDepth) return std::nullopt;
    size_t colon = value.find(':');
    if (colon == std::string::npos || value.compare(colon + 1, 2, "//") == 0) return value;
    const std::string prefix = value.substr(0, colon);
    auto def = raw.find(prefix);
    if (def != raw.end()) {
      auto base = resolveIri(def->second, hops + 1);
      if (!base) return std::nullopt;
      return *base + value.substr(colon + 1);
    }
    return map.expand(value);  // a prefix from an earlier context, or an absolute IRI
  };
  for (const auto& [term, value] : raw) {
    auto iri = resolveIri(value, 0);
    if (!iri) {
      return makeError(Errc::kInvalidArgument, "InvalidContext: cyclic definition of " + term);
    }
    map.define(term, *iri);
  }
  return core::Status::success();
}

core::Result<std::shared_ptr<const TermMap>> ContextRegistry::resolve(const json& context) {
  if (context.is_null()) return TermMap::core();
  if (context.is_string() && isCoreContextUrl(context.get_ref<const std::string&>())) {
    return TermMap::core();
  }
  auto map = std::make_shared<TermMap>(*TermMap::core());
  if (auto s = addTerms(*map, context, 0); !s.ok()) return s.error();
  map->source_ = context;
  map->link_url_ = context.is_string() ? context.get<std::string>() : std::string();
  return std::shared_ptr<const TermMap>(std::move(map));
}

core::Result<std::shared_ptr<const TermMap>> ContextRegistry::resolveLink(std::string_view link) {
  if (link.empty()) return TermMap::core();
  // Link: <URL>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"
  // The header may carry several links: take the one whose rel is the JSON-LD context.
  size_t pos = 0;
  while (pos < link.size()) {
    size_t open = link.find('<', pos);
    if (open == std::string_view::npos) break;
    size_t close = link.find('>', open);
    if (close == std::string_view::npos) break;
    size_t next = link.find('<', close);
    std::string_view params = link.substr(
        close + 1, next == std::string_view::npos ? std::string_view::npos : next - close - 1);
    if (params.find("json-ld#context") != std::string_view::npos) {
      return resolve(json(std::string(link.substr(open + 1, close - open - 1))));
    }
    pos = close + 1;
  }
  return makeError(Errc::kMalformedInput,
                   "BadRequestData: no Link with rel=\"http://www.w3.org/ns/json-ld#context\"");
}

core::Result<ContextRegistry::Hosted> ContextRegistry::host(const json& document,
                                                            const std::string& url_base,
                                                            int64_t now_ms) {
  if (!document.is_object() || !document.contains("@context")) {
    return makeError(Errc::kInvalidArgument, "BadRequestData: body must be {\"@context\": …}");
  }
  TermMap scratch;  // validate before storing
  if (auto s = addTerms(scratch, document["@context"], 0); !s.ok()) return s.error();
  Hosted h;
  {
    std::lock_guard lock(mu_);
    h = Hosted{std::to_string(next_id_++), "", document, now_ms, false};
  }
  h.url = url_base + "/ngsi-ld/v1/jsonldContexts/" + h.id;
  if (store_) {
    model::HostedContext record{h.id, h.url, document.dump(), now_ms};
    auto written =
        store_->writeSync([&](storage::WriteTx& tx) { return tx.upsertContext(record); });
    if (!written.ok()) return written.error();
  }
  std::lock_guard lock(mu_);
  by_url_[h.url] = document["@context"];
  hosted_.push_back(h);
  return h;
}

std::vector<ContextRegistry::Hosted> ContextRegistry::list() const {
  std::lock_guard lock(mu_);
  return hosted_;
}

std::optional<ContextRegistry::Hosted> ContextRegistry::get(const std::string& id) const {
  std::lock_guard lock(mu_);
  for (const auto& h : hosted_) {
    if (h.id == id) return h;
  }
  return std::nullopt;
}

bool ContextRegistry::remove(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it =
      std::find_if(hosted_.begin(), hosted_.end(), [&](const Hosted& h) { return h.id == id; });
  if (it == hosted_.end()) return false;
  if (store_ && !it->cached) {
    const std::string gone = id;
    if (!store_->writeSync([&](storage::WriteTx& tx) { return tx.deleteContext(gone); }).ok()) {
      return false;
    }
  }
  by_url_.erase(it->url);
  hosted_.erase(it);
  return true;
}

}  // namespace ioc::context
