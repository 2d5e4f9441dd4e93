#include "context/ld_context.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>

namespace ioc::context {

using core::Errc;
using core::makeError;
using json = ioc::Json;

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

const char* contextKindName(ContextKind kind) {
  switch (kind) {
    case ContextKind::kHosted:
      return "Hosted";
    case ContextKind::kCached:
      return "Cached";
    case ContextKind::kImplicitlyCreated:
      return "ImplicitlyCreated";
  }
  return "Hosted";
}

std::optional<ContextKind> parseContextKind(std::string_view name) {
  for (ContextKind k :
       {ContextKind::kHosted, ContextKind::kCached, ContextKind::kImplicitlyCreated}) {
    if (name == contextKindName(k)) return k;
  }
  return std::nullopt;
}

struct ContextRegistry::Entry {
  Hosted meta;  //!< meta.document is the whole document, {"@context": …}
};

namespace {

constexpr std::string_view kHostedPath = "/ngsi-ld/v1/jsonldContexts/";

//! The target of the Link whose rel is the JSON-LD context; nullopt when there is none.
std::optional<std::string> contextLinkUrl(std::string_view link) {
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
      return std::string(link.substr(open + 1, close - open - 1));
    }
    pos = close + 1;
  }
  return std::nullopt;
}

//! A document is usable as a context when it is an object with an @context member whose value
//! is a URL, an object, an array of those, or null.
bool isContextDocument(const json& doc) {
  if (!doc.is_object() || !doc.contains("@context")) return false;
  const json& c = doc["@context"];
  if (c.is_array()) {
    for (const auto& item : c) {
      if (!item.is_string() && !item.is_object() && !item.is_null()) return false;
    }
    return true;
  }
  return c.is_string() || c.is_object() || c.is_null();
}

}  // namespace

ContextRegistry::ContextRegistry(ContextFetcher fetcher, storage::Store* store,
                                 const core::Clock* clock)
    : fetcher_(std::move(fetcher)),
      store_(store),
      clock_(clock ? clock : &core::SystemClock::instance()) {}

int64_t ContextRegistry::now() const {
  return clock_->nowUnixMs();
}

void ContextRegistry::persistCached(const Entry& e) {
  if (!store_) return;
  json doc = {{"url", e.meta.url},
              {"kind", contextKindName(e.meta.kind)},
              {"createdAt", e.meta.created_at_ms},
              {"document", e.meta.document}};
  model::StoredDocument record{std::string(kCachedContextDocKind), e.meta.id, doc.dump(),
                               e.meta.created_at_ms};
  // Fire and forget: losing a cached copy only costs one more download after a restart.
  store_->submitWrite([record](storage::WriteTx& tx) { return tx.putDocument(record); },
                      [](core::Status) {});
}

core::Status ContextRegistry::load() {
  if (!store_) return core::Status::success();
  auto stored = store_->listContexts();
  if (!stored.ok()) return stored.error();
  auto cached = store_->listDocuments(std::string(kCachedContextDocKind));
  if (!cached.ok()) return cached.error();
  std::lock_guard lock(mu_);
  auto bump = [this](const std::string& id) {
    uint64_t n = 0;
    if (std::from_chars(id.data(), id.data() + id.size(), n).ec == std::errc()) {
      next_id_ = std::max(next_id_, n + 1);
    }
  };
  for (const auto& c : *stored) {
    json doc = json::parse(c.document, nullptr, false);
    if (doc.is_discarded() || !doc.contains("@context")) continue;
    auto e = std::make_shared<Entry>();
    e->meta = Hosted{c.id, c.url, doc, c.created_at_ms, ContextKind::kHosted, "posted"};
    by_url_[c.url] = e;
    entries_.push_back(e);
    bump(c.id);
  }
  for (const auto& d : *cached) {
    json rec = json::parse(d.doc, nullptr, false);
    if (rec.is_discarded() || !rec.is_object() || !rec.contains("url") || !rec["url"].is_string() ||
        !rec.contains("document") || !isContextDocument(rec["document"])) {
      continue;
    }
    auto e = std::make_shared<Entry>();
    e->meta = Hosted{d.id,
                     rec["url"].get<std::string>(),
                     rec["document"],
                     rec.value("createdAt", d.updated_at_ms),
                     ContextKind::kCached,
                     "fetched"};
    by_url_[e->meta.url] = e;
    entries_.push_back(e);
    bump(d.id);
  }
  resolved_.clear();
  return core::Status::success();
}

ContextRegistry::EntryPtr ContextRegistry::findLocked(const std::string& url) const {
  auto it = by_url_.find(url);
  if (it != by_url_.end()) return it->second;
  // One of our hosted contexts under any host name or port it was reached by.
  size_t at = url.find(kHostedPath);
  if (at == std::string::npos) return nullptr;
  const std::string id = url.substr(at + kHostedPath.size());
  for (const auto& e : entries_) {
    if (e->meta.kind != ContextKind::kCached && e->meta.id == id) return e;
  }
  return nullptr;
}

ContextRegistry::EntryPtr ContextRegistry::byIdOrUrlLocked(const std::string& id_or_url) const {
  for (const auto& e : entries_) {
    if (e->meta.id == id_or_url) return e;
  }
  for (const auto& e : entries_) {
    if (e->meta.kind == ContextKind::kCached && e->meta.url == id_or_url) return e;
  }
  return nullptr;
}

void ContextRegistry::preload(const std::string& url, const json& document,
                              std::string_view origin) {
  json doc = document.is_object() && document.contains("@context") ? document
                                                                   : json{{"@context", document}};
  std::lock_guard lock(mu_);
  auto e = std::make_shared<Entry>();
  e->meta = Hosted{std::to_string(next_id_++), url, std::move(doc), now(), ContextKind::kCached,
                   std::string(origin)};
  if (auto old = by_url_.find(url); old != by_url_.end()) {
    std::erase(entries_, old->second);
  }
  by_url_[url] = e;
  entries_.push_back(e);
  resolved_.clear();
}

core::Result<size_t> ContextRegistry::preloadDirectory(const std::string& dir,
                                                       std::string_view origin) {
  namespace fs = std::filesystem;
  const fs::path manifest_path = fs::path(dir) / "manifest.json";
  std::ifstream in(manifest_path);
  if (!in) {
    return makeError(Errc::kNotFound, "cannot read " + manifest_path.string());
  }
  json manifest = json::parse(in, nullptr, false);
  if (manifest.is_discarded() || !manifest.is_object()) {
    return makeError(Errc::kInvalidArgument,
                     manifest_path.string() + ": expected a JSON object {\"<URL>\": \"<file>\"}");
  }
  std::unordered_map<std::string, json> files;  // one parse per file, however many URLs use it
  size_t count = 0;
  for (const auto& [url, file] : manifest.items()) {
    if (!file.is_string()) {
      return makeError(Errc::kInvalidArgument,
                       manifest_path.string() + ": the value of " + url + " must be a file name");
    }
    const std::string name = file.get<std::string>();
    if (name.empty() || name.find("..") != std::string::npos || name[0] == '/') {
      return makeError(Errc::kInvalidArgument,
                       manifest_path.string() + ": " + name + " must be a file inside " + dir);
    }
    auto it = files.find(name);
    if (it == files.end()) {
      std::ifstream f(fs::path(dir) / name);
      if (!f) return makeError(Errc::kNotFound, "cannot read " + (fs::path(dir) / name).string());
      json doc = json::parse(f, nullptr, false);
      if (doc.is_discarded() || !isContextDocument(doc)) {
        return makeError(Errc::kInvalidArgument,
                         (fs::path(dir) / name).string() + " is not a JSON-LD context document");
      }
      it = files.emplace(name, std::move(doc)).first;
    }
    {
      std::lock_guard lock(mu_);
      if (by_url_.count(url)) continue;
    }
    preload(url, it->second, origin);
    ++count;
  }
  return count;
}

core::Result<json> ContextRegistry::fetchAndStore(const std::string& url,
                                                  const std::string& reuse_id) {
  auto text = fetcher_(url);
  if (!text.ok()) {
    if (text.error().code == Errc::kInvalidArgument) {
      return makeError(Errc::kInvalidArgument, "InvalidContext: " + text.error().message);
    }
    return makeError(Errc::kUnavailable, "LdContextNotAvailable: " + text.error().message);
  }
  json doc = json::parse(*text, nullptr, false);
  if (doc.is_discarded()) {
    return makeError(Errc::kInvalidArgument, "InvalidContext: " + url + " is not JSON");
  }
  if (!isContextDocument(doc)) {
    return makeError(Errc::kInvalidArgument,
                     "InvalidContext: " + url + " is not a JSON-LD context document");
  }
  auto e = std::make_shared<Entry>();
  {
    std::lock_guard lock(mu_);
    const std::string id = reuse_id.empty() ? std::to_string(next_id_++) : reuse_id;
    e->meta = Hosted{id, url, doc, now(), ContextKind::kCached, "fetched"};
    if (auto old = by_url_.find(url); old != by_url_.end()) std::erase(entries_, old->second);
    by_url_[url] = e;
    entries_.push_back(e);
    resolved_.clear();
  }
  persistCached(*e);
  return doc["@context"];
}

core::Result<json> ContextRegistry::document(const std::string& url) {
  std::shared_future<core::Result<json>> wait;
  std::promise<core::Result<json>> mine;
  {
    std::lock_guard lock(mu_);
    if (auto e = findLocked(url)) {
      ++e->meta.hits;
      e->meta.last_usage_ms = now();
      return e->meta.document["@context"];
    }
    if (!fetcher_) {
      return makeError(Errc::kUnavailable, "LdContextNotAvailable: " + url +
                                               " is not stored here and remote fetching is off");
    }
    auto it = inflight_.find(url);
    if (it != inflight_.end()) {
      wait = it->second;
    } else {
      inflight_.emplace(url, mine.get_future().share());
    }
  }
  if (wait.valid()) return wait.get();
  auto result = fetchAndStore(url, "");
  mine.set_value(result);
  std::lock_guard lock(mu_);
  inflight_.erase(url);
  return result;
}

bool ContextRegistry::needsFetchLocked(const json& context, int depth) const {
  if (depth > kMaxContextDepth || !fetcher_) return false;
  if (context.is_array()) {
    for (const auto& item : context) {
      if (needsFetchLocked(item, depth + 1)) return true;
    }
    return false;
  }
  if (!context.is_string()) return false;
  const std::string& url = context.get_ref<const std::string&>();
  if (isCoreContextUrl(url)) return false;
  auto e = findLocked(url);
  if (!e) return true;
  return needsFetchLocked(e->meta.document["@context"], depth + 1);
}

bool ContextRegistry::needsFetch(const json& context) const {
  std::lock_guard lock(mu_);
  return needsFetchLocked(context, 0);
}

bool ContextRegistry::linkNeedsFetch(std::string_view link) const {
  auto url = contextLinkUrl(link);
  return url && needsFetch(json(*url));
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
  if (context.is_string()) {
    // Most requests name one URL (Link header): its term map is built once.
    std::lock_guard lock(mu_);
    auto it = resolved_.find(context.get_ref<const std::string&>());
    if (it != resolved_.end()) {
      if (auto e = findLocked(it->first)) {
        ++e->meta.hits;
        e->meta.last_usage_ms = now();
      }
      return it->second;
    }
  }
  auto map = std::make_shared<TermMap>(*TermMap::core());
  if (auto s = addTerms(*map, context, 0); !s.ok()) return s.error();
  map->source_ = context;
  map->link_url_ = context.is_string() ? context.get<std::string>() : std::string();
  std::shared_ptr<const TermMap> out = std::move(map);
  if (context.is_string()) {
    std::lock_guard lock(mu_);
    // Only while the document is still stored (a concurrent DELETE clears the memo).
    if (findLocked(context.get_ref<const std::string&>())) {
      resolved_[context.get<std::string>()] = out;
    }
  }
  return out;
}

core::Result<std::shared_ptr<const TermMap>> ContextRegistry::resolveLink(std::string_view link) {
  if (link.empty()) return TermMap::core();
  // Link: <URL>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"
  // The header may carry several links: take the one whose rel is the JSON-LD context.
  if (auto url = contextLinkUrl(link)) return resolve(json(*url));
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
    h = Hosted{std::to_string(next_id_++), "", document, now_ms, ContextKind::kHosted, "posted"};
  }
  h.url = url_base + std::string(kHostedPath) + h.id;
  if (store_) {
    model::HostedContext record{h.id, h.url, document.dump(), now_ms};
    auto written =
        store_->writeSync([&](storage::WriteTx& tx) { return tx.upsertContext(record); });
    if (!written.ok()) return written.error();
  }
  std::lock_guard lock(mu_);
  auto e = std::make_shared<Entry>();
  e->meta = h;
  by_url_[h.url] = e;
  entries_.push_back(e);
  resolved_.clear();
  return h;
}

std::vector<ContextRegistry::Hosted> ContextRegistry::list() const {
  std::lock_guard lock(mu_);
  std::vector<Hosted> out;
  out.reserve(entries_.size());
  for (const auto& e : entries_) out.push_back(e->meta);
  return out;
}

std::optional<ContextRegistry::Hosted> ContextRegistry::get(const std::string& id_or_url) const {
  std::lock_guard lock(mu_);
  if (auto e = byIdOrUrlLocked(id_or_url)) return e->meta;
  return std::nullopt;
}

bool ContextRegistry::remove(const std::string& id_or_url) {
  EntryPtr e;
  {
    std::lock_guard lock(mu_);
    e = byIdOrUrlLocked(id_or_url);
  }
  if (!e) return false;
  const std::string id = e->meta.id;
  // The durable delete first (without the lock: resolving must not wait for a commit).
  if (store_ && e->meta.kind == ContextKind::kHosted) {
    if (!store_->writeSync([&](storage::WriteTx& tx) { return tx.deleteContext(id); }).ok()) {
      return false;
    }
  } else if (store_ && e->meta.origin == "fetched") {
    if (!store_
             ->writeSync([&](storage::WriteTx& tx) {
               return tx.deleteDocument(std::string(kCachedContextDocKind), id);
             })
             .ok()) {
      return false;
    }
  }
  std::lock_guard lock(mu_);
  if (auto it = by_url_.find(e->meta.url); it != by_url_.end() && it->second == e) {
    by_url_.erase(it);
  }
  const size_t before = entries_.size();
  std::erase(entries_, e);
  resolved_.clear();
  return entries_.size() != before;
}

core::Result<ContextRegistry::Hosted> ContextRegistry::reload(const std::string& id_or_url) {
  std::string url, id;
  {
    std::lock_guard lock(mu_);
    auto e = byIdOrUrlLocked(id_or_url);
    if (!e) return makeError(Errc::kNotFound, "ResourceNotFound: no such @context");
    if (e->meta.kind != ContextKind::kCached) {
      return makeError(Errc::kInvalidArgument,
                       std::string("BadRequestData: only Cached @contexts can be reloaded, this "
                                   "one is ") +
                           contextKindName(e->meta.kind));
    }
    url = e->meta.url;
    id = e->meta.id;
  }
  if (!fetcher_) {
    return makeError(Errc::kUnavailable,
                     "LdContextNotAvailable: remote fetching is off, " + url + " not reloaded");
  }
  auto doc = fetchAndStore(url, id);
  if (!doc.ok()) return doc.error();
  auto got = get(id);
  if (!got) return makeError(Errc::kNotFound, "ResourceNotFound: no such @context");
  return *got;
}

}  // namespace ioc::context
