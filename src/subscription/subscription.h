#pragma once
// NGSI-LD subscriptions (ETSI GS CIM 009 v1.8, clauses 5.2.12 Subscription, 5.2.14
// NotificationParams, 5.2.15 Endpoint, 5.2.33 EntitySelector): validation, the canonical form
// that is stored, and the runtime form that matching and delivery read.
//
// Two forms. The *spec* is the subscription as a JSON object with every name expanded to its IRI
// (entity types, watchedAttributes, notification.attributes, geoQ.geoproperty): it is what is
// persisted and rendered back (compacted with the reader's @context), and a PATCH merges into it.
// `q` stays text, re-parsed with the @context it was written in (`q_context`). The runtime
// `Subscription` is built from a spec by build(), which checks everything the spec requires.
#include <cstdint>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "context/broker.h"
#include "context/ld_context.h"
#include "core/json.h"
#include "core/result.h"
#include "ngsild/query.h"

namespace ioc::subscription {

inline constexpr const char* kDocumentKind = "subscription";

enum class Format { kNormalized, kKeyValues, kConcise };

//! notificationTrigger values (clause 5.2.12), as bits.
enum Trigger : unsigned {
  kEntityCreated = 1u << 0,
  kEntityUpdated = 1u << 1,
  kEntityDeleted = 1u << 2,
  kAttributeCreated = 1u << 3,
  kAttributeUpdated = 1u << 4,
  kAttributeDeleted = 1u << 5,
};
//! The spec's default when notificationTrigger is absent.
inline constexpr unsigned kDefaultTriggers = kAttributeCreated | kAttributeUpdated;

using KeyValues = std::vector<std::pair<std::string, std::string>>;

//! Where notifications go: http://host[:port]/path or mqtt://[user[:pass]@]host[:port]/topic.
struct Endpoint {
  enum class Scheme { kHttp, kMqtt };
  Scheme scheme = Scheme::kHttp;
  bool tls = false;  //!< https: the peer's certificate and host name are verified
  std::string uri;
  std::string host;
  uint16_t port = 80;
  std::string target;  //!< HTTP path and query, or the MQTT topic
  std::string user;
  std::string password;
  std::string accept = "application/json";  //!< or application/ld+json
  KeyValues receiver_info;                  //!< HTTP headers / MQTT metadata
  int qos = 0;                              //!< MQTT-QoS from notifierInfo
  int64_t timeout_ms = 0;                   //!< 0 = the server's default
  int64_t cooldown_ms = 0;                  //!< after a failure, skip notifications this long
};

struct EntitySelector {
  std::string id;
  std::string id_pattern;
  std::shared_ptr<const std::regex> pattern;
  std::string type;  //!< expanded
};

struct Limits {
  size_t max_uri_bytes = 2048;
  double min_time_interval_s = 1;
};

//! A validated subscription, immutable once built: many threads read one instance.
struct Subscription {
  std::string id;
  ioc::Json spec;  //!< canonical form (see above)
  std::vector<EntitySelector> entities;
  std::vector<std::string> watched;  //!< expanded
  unsigned triggers = kDefaultTriggers;
  std::optional<double> time_interval_s;
  std::shared_ptr<const ngsild::Query> q;
  std::optional<context::GeoFilter> geo;
  std::unordered_set<std::string> attrs;  //!< expanded; empty = every attribute
  Format format = Format::kNormalized;
  bool sys_attrs = false;
  Endpoint endpoint;
  std::optional<int64_t> expires_at_ms;
  double throttling_s = 0;
  bool active = true;

  // Ownership and representation.
  std::string unit_code;  //!< the creator's unit: only entities within it are notified
  std::string owner;      //!< actor name of the creator
  ioc::Json context;      //!< @context for notifications (jsonldContext or the creator's)
  ioc::Json q_context;
  std::shared_ptr<const context::TermMap> terms;  //!< resolved `context`
  int64_t created_at_ms = 0;
  int64_t modified_at_ms = 0;

  bool expired(int64_t now_ms) const { return expires_at_ms && *expires_at_ms <= now_ms; }
  //! "active", "paused" or "expired" (clause 5.2.12: computed, read-only).
  const char* status(int64_t now_ms) const;
};
using SubscriptionPtr = std::shared_ptr<const Subscription>;

//! Checks a request body (a whole subscription, or with `fragment` a PATCH fragment) member by
//! member and returns it in canonical form, names expanded with `terms`. Read-only members
//! (status, notification status members, createdAt, modifiedAt) are dropped; unknown members
//! are BadRequestData. Errors are kInvalidArgument prefixed "BadRequestData: ".
core::Result<ioc::Json> canonicalize(const ioc::Json& body, const context::TermMap& terms,
                                     bool fragment);

//! The spec after a PATCH: top-level members replace, `notification` members replace one level
//! down (so a fragment may change only the endpoint or the attributes); null removes a member.
ioc::Json mergeSpec(ioc::Json base, const ioc::Json& fragment);

//! Builds the runtime form and checks what crosses members (at least one of entities and
//! watchedAttributes, watchedAttributes/throttling vs timeInterval, the endpoint URI, q and geoQ).
//! `q_terms` expands the terms of q. With `new_expiry`, expiresAt must lie after `now_ms`.
core::Result<Subscription> build(ioc::Json spec, const context::TermMap& q_terms,
                                 const Limits& limits, int64_t now_ms, bool new_expiry);

//! Parses an endpoint URI (http or mqtt; https is refused with a clear message).
core::Status parseEndpointUri(const std::string& uri, Endpoint& out);

//! The subscription as a client reads it: names compacted with `terms`, status members added.
struct DeliveryStatus {
  uint64_t times_sent = 0;
  uint64_t times_failed = 0;
  int64_t last_notification_ms = 0;
  int64_t last_success_ms = 0;
  int64_t last_failure_ms = 0;
  bool failed = false;
};
ioc::Json render(const Subscription& sub, const DeliveryStatus& status,
                 const context::TermMap& terms, int64_t now_ms);
ioc::Json statusJson(const DeliveryStatus& s);
DeliveryStatus statusFromJson(const ioc::Json& j);

//! "urn:ngsi-ld:<kind>:<uuid v4>".
std::string newUrn(std::string_view kind);

}  // namespace ioc::subscription
