#pragma once
// Provisioned IoT devices (FIWARE IoT Agent JSON style): which NGSI-LD entity the messages on
// /{apikey}/{device_id}/attrs update, and how each short payload key (object_id) maps onto an
// attribute. Held in memory for the per-message lookup, durable in the store; provisioning and
// removal write through the store together with their audit entry.
// Threads: lookups take a shared lock and copy out an immutable DevicePtr (any thread, including
// the MQTT network thread); provision/remove are serialized and block until the commit is durable
// (call them from worker threads); concurrent provisionings of different devices share commits.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"
#include "model/audit_entry.h"
#include "model/device.h"
#include "storage/store.h"

namespace ioc::mqtt {

inline constexpr size_t kMaxIdLength = 128;
inline constexpr size_t kMaxAttributes = 100;

//! How one payload key becomes an NGSI-LD attribute.
struct AttributeMapping {
  std::string name;       //!< expanded attribute name
  std::string type;       //!< "Property" (the only kind supported today)
  std::string unit_code;  //!< UN/CEFACT code, "" = none
};

//! A device's attribute mappings by object id. Every key of every message is looked up here,
//! mostly in a device entry out of the cache: sorted ids in one array cost a miss or two per
//! message where a hash table's buckets and nodes missed for every key.
class AttributeMappings {
 public:
  //! Adds or replaces the mapping of `object_id`.
  void set(std::string object_id, AttributeMapping mapping);
  const AttributeMapping* find(std::string_view object_id) const;
  size_t size() const { return ids_.size(); }

 private:
  std::vector<std::string> ids_;            //!< sorted
  std::vector<AttributeMapping> mappings_;  //!< in the order of ids_
};

//! A device with its mapping parsed, ready for the message path.
struct DeviceEntry {
  model::Device device;
  AttributeMappings attributes;
};
using DevicePtr = std::shared_ptr<const DeviceEntry>;

//! True for a device id or apikey: 1..128 characters of [A-Za-z0-9_.:-] (so never an MQTT
//! wildcard or a topic separator).
bool isValidDeviceId(std::string_view id);

//! Validates a provisioning request body — {"device_id", "apikey", "entity_id", "entity_type",
//! "attributes": [{"object_id", "name", "type": "Property", "unitCode"?}]} — and builds the
//! device (entity_type and attribute names expanded with the core @context). Errors are
//! kInvalidArgument naming the field. `unit_code` is the provisioning caller's unit.
core::Result<model::Device> parseDeviceSpec(const ioc::Json& body, const std::string& unit_code,
                                            int64_t now_ms);

//! The device's stored mapping, parsed; kInvalidArgument if it is not a valid mapping.
core::Result<DevicePtr> makeEntry(model::Device device);

//! The API representation: names compacted with the core @context, as they were provisioned.
ioc::Json deviceJson(const model::Device& device);

class DeviceRegistry {
 public:
  DeviceRegistry(storage::Store& store, const core::Clock& clock);

  //! Loads every stored device (start-up). Unreadable rows are skipped and logged.
  core::Status load();

  //! Stores a new device and its audit entry ("device.provision"); kAlreadyExists when
  //! (apikey, device_id) is taken.
  core::Status provision(model::Device device, const model::Actor& actor);
  //! Removes a device and appends "device.remove"; kNotFound when absent or when `may_remove`
  //! (evaluated under the registry's write lock) refuses it.
  core::Status remove(const std::string& apikey, const std::string& device_id,
                      const model::Actor& actor,
                      const std::function<bool(const model::Device&)>& may_remove = {});

  DevicePtr find(std::string_view apikey, std::string_view device_id) const;
  //! Every device, ordered by (apikey, device_id).
  std::vector<DevicePtr> list() const;
  size_t size() const;

 private:
  static std::string key(std::string_view apikey, std::string_view device_id);

  storage::Store& store_;
  const core::Clock& clock_;
  std::mutex write_mu_;  //!< serializes removals across their durable write
  mutable std::shared_mutex mu_;
  //! Hashes std::string and std::string_view alike, so that lookups need no key string.
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view k) const { return std::hash<std::string_view>{}(k); }
  };
  using DeviceMap = std::unordered_map<std::string, DevicePtr, KeyHash, std::equal_to<>>;
  DeviceMap devices_;  //!< "apikey/device_id" → entry (hashed: one lookup per MQTT message)
  std::set<std::string> provisioning_;  //!< keys whose provisioning write is in flight (under mu_)
};

}  // namespace ioc::mqtt
