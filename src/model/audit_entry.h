#pragma once
// An audit entry and the hash that chains it to its predecessor: editing or deleting any row
// breaks every hash after it, which `cityioc audit verify` detects.
#include <cstdint>
#include <string>

namespace ioc::model {

struct AuditEntry {
  int64_t seq = 0;  //!< 1, 2, 3 … assigned by the store
  int64_t at_ms = 0;
  std::string actor;   //!< username, "key:<name>" or "cli"
  std::string role;    //!< role or key scope of the actor
  std::string unit;    //!< the actor's administrative unit
  std::string action;  //!< e.g. "user.create", "auth.login"
  std::string target;  //!< e.g. "user:42"
  std::string client;  //!< client address, "" for the CLI
  std::string request_id;
  std::string detail;     //!< JSON object with what changed (never secrets)
  std::string prev_hash;  //!< hash of entry seq-1, 64 zeros for the first
  std::string hash;
};

inline constexpr const char* kAuditGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

//! Hex SHA-256 over prev_hash and every field of the entry (length-prefixed, so fields cannot
//! be shifted into one another).
std::string computeAuditHash(const AuditEntry& entry);

//! Hex SHA-256 of arbitrary bytes.
std::string sha256Hex(std::string_view data);

}  // namespace ioc::model

namespace ioc::model {

//! Who performs a change, as recorded in the audit log.
struct Actor {
  std::string name;  //!< username, "key:<name>" or "cli:<os user>"
  std::string role;
  std::string unit;
  std::string client;
  std::string request_id;
};

inline AuditEntry makeAuditEntry(const Actor& actor, std::string action, std::string target,
                                 std::string detail, int64_t at_ms) {
  AuditEntry e;
  e.at_ms = at_ms;
  e.actor = actor.name;
  e.role = actor.role;
  e.unit = actor.unit;
  e.client = actor.client;
  e.request_id = actor.request_id;
  e.action = std::move(action);
  e.target = std::move(target);
  e.detail = detail.empty() ? "{}" : std::move(detail);
  return e;
}

}  // namespace ioc::model
