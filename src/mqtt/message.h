#pragma once
// The message path of the MQTT ingest, free of any network code so that it is unit-tested:
// topic → (apikey, device_id), and an IoT Agent JSON payload ({"t": 21.5, "h": 60,
// "TimeInstant": "…"}) → the normalized, expanded NGSI-LD attributes of one Observation.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "context/broker.h"
#include "mqtt/device_registry.h"

namespace ioc::mqtt {

inline constexpr size_t kMaxPayloadBytes = size_t{64} * 1024;
inline constexpr int kMaxPayloadDepth = 32;

//! Why a message (or part of it) was not ingested: the `reason` label of
//! mqtt_messages_dropped_total.
enum class DropReason {
  kBadTopic,          //!< topic matched the subscription but its ids are not valid device ids
  kUnknownDevice,     //!< no device provisioned under (apikey, device_id)
  kTooLarge,          //!< payload above kMaxPayloadBytes
  kBadJson,           //!< not JSON, nested too deeply, or not an object
  kUnknownAttribute,  //!< a key with no mapping (the rest of the message is still ingested)
  kBadValue,          //!< a value a Property cannot hold (null), or a bad TimeInstant
  kIngestFailed,      //!< the broker or the store refused the batch
};
inline constexpr DropReason kAllDropReasons[] = {
    DropReason::kBadTopic,    DropReason::kUnknownDevice,    DropReason::kTooLarge,
    DropReason::kBadJson,     DropReason::kUnknownAttribute, DropReason::kBadValue,
    DropReason::kIngestFailed};
const char* dropReasonName(DropReason reason);

//! The subscription for a prefix: "{prefix}/+/+/attrs" ("" → "/+/+/attrs", IoT Agent JSON).
std::string subscriptionFor(std::string_view prefix);
//! A prefix is "" or MQTT topic levels without wildcards, NUL or a trailing '/', ≤ 128 bytes.
bool isValidTopicPrefix(std::string_view prefix);

struct TopicIds {
  std::string apikey;
  std::string device_id;
};
//! "{prefix}/{apikey}/{device_id}/attrs" → ids; nullopt for any other shape or invalid ids.
std::optional<TopicIds> parseTopic(std::string_view prefix, std::string_view topic);

//! Result of mapping one payload.
struct Mapped {  // NOLINT(bugprone-exception-escape): json members, as in Observation
  //! Set when the whole message is dropped; `observation` is then empty.
  std::optional<DropReason> rejected;
  //! Reasons some keys were skipped while the rest was kept (each reason at most once).
  std::vector<DropReason> partial;
  std::string detail;                //!< human-readable cause of the first problem, for the log
  context::Observation observation;  //!< attrs: expanded name → normalized instance
  bool empty() const { return observation.attrs.empty(); }
};

//! Maps a payload through the device's attributes. `now_ms` stamps createdAt/modifiedAt; a valid
//! "TimeInstant" (ISO 8601) becomes the observedAt of every attribute.
//! A flat payload of mapped keys (the usual reading) takes a DOM-free fast path (simdjson
//! on-demand); anything else the generic path below, with the same result.
Mapped mapPayload(const DeviceEntry& device, std::string_view payload, int64_t now_ms);
//! The generic path (nlohmann DOM): what mapPayload answers for every payload. Exposed so that
//! tests can compare both paths.
Mapped mapPayloadGeneric(const DeviceEntry& device, std::string_view payload, int64_t now_ms);

}  // namespace ioc::mqtt
