#pragma once
// Open311 GeoReport v2 representations (http://wiki.open311.org/GeoReport_v2) of the citizen
// reports service, in JSON and XML. Documents are built once as ordered JSON (the spec's field
// order) and written as XML by the "Spark convention" the spec uses: a JSON array is an element
// of repeated children (services → service, service_requests → request, …). Public views only:
// the reporter's identity, hidden reports and redacted photos never appear.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "reports/catalog.h"
#include "reports/report.h"

namespace ioc::api::open311 {

using Doc = nlohmann::ordered_json;

enum class Format { kJson, kXml };

//! "requests.json" → {"requests", kJson}; nullopt without a known ".json"/".xml" suffix.
std::optional<std::pair<std::string, Format>> splitFormat(std::string_view file);
const char* contentType(Format f);  //!< "application/json; charset=utf-8" | "text/xml; …"

//! The document as the format's text: JSON as is; XML with its declaration, `root` as the root
//! element (the JSON form has no root: `services`, `service_requests`, `errors`, …).
std::string render(const Doc& doc, std::string_view root, Format f);

//! W3C date-time (the spec's ISO 8601 profile) in Vietnam's time zone, e.g.
//! "2026-01-05T08:30:00+07:00".
std::string formatW3c(int64_t unix_ms);
//! Parses "YYYY-MM-DD", "YYYY-MM-DDThh:mm[:ss[.s…]]" with "Z" or "±hh:mm" (a space for '+',
//! as an unencoded '+' arrives in a query string); without an offset, Vietnam time (UTC+7:
//! the only jurisdiction this server has). Unix milliseconds.
core::Result<int64_t> parseW3c(std::string_view text);

//! One Open311 error; `code` is also the HTTP status.
struct Error {
  int code;
  std::string description;
};
Doc errors(const std::vector<Error>& list);  //!< root "errors"

struct DiscoveryInfo {
  std::string base_url;  //!< absolute URL of /open311/v2
  std::string changeset;
  std::string contact;
  std::string key_service;
};
Doc discovery(const DiscoveryInfo& info);  //!< root "discovery"

//! Services the city handles (the others are not Open311 services: nowhere to send them), in
//! Vietnamese or (`english`, the locale=en extension the dashboard uses) English.
Doc services(const reports::Catalog& catalog, bool english = false);  //!< root "services"
//! Root "service_definition".
Doc serviceDefinition(const reports::Service& service, bool english = false);
std::string serviceNotice(const reports::Catalog& catalog, const reports::Service& service);

struct ViewOptions {
  std::string base_url;     //!< "http://host:port": media_url points at the native API
  bool extensions = false;  //!< extended_attributes and notes (GeoReport v2 extension)
};
//! Photo n (1-based) of a report as served by the native API.
std::string photoUrl(const std::string& base_url, const std::string& id, size_t n);
Doc request(const reports::Report& r, const reports::Catalog& catalog, const ViewOptions& o);
Doc requests(const std::vector<std::shared_ptr<const reports::Report>>& list,
             const reports::Catalog& catalog, const ViewOptions& o);  //!< "service_requests"

//! mySociety's extended status of an update, lower case ("in_progress", "fixed", "reopen"…).
std::string updateStatus(const reports::Update& u, reports::Resolution resolution);
//! servicerequestupdates: root "service_request_updates", children "request_update".
Doc updates(
    const std::vector<std::pair<std::shared_ptr<const reports::Report>, reports::Update>>& list,
    const ViewOptions& o);

}  // namespace ioc::api::open311
