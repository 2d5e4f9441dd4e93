#pragma once
// NGSI-LD entities as the broker holds them: normalized (every attribute an object with its
// "type"), names expanded to IRIs, system timestamps kept. Parsing accepts both the normalized
// and the concise client representation; rendering produces normalized, concise-free or
// keyValues output compacted with the request's @context.
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "context/ld_context.h"
#include "core/json.h"
#include "core/result.h"
#include "model/device.h"
#include "model/entity_record.h"

namespace ioc::context {

struct Entity {
  std::string id;
  std::string unit_code;
  int64_t created_at_ms = 0;
  int64_t modified_at_ms = 0;
  //! {"id": …, "type": [expanded…], "<expanded attr>": {…} | [{…}, …]}; what `q` evaluates.
  //! Attributes' createdAt/modifiedAt are Unix ms (text in documents written before 2026-12).
  ioc::Json doc = ioc::Json::object();

  std::vector<std::string> types() const;
  bool hasType(const std::string& expanded) const;
};
using EntityPtr = std::shared_ptr<const Entity>;

//! A whole entity from a request body (id and type required).
core::Result<Entity> parseEntity(const ioc::Json& body, const TermMap& terms, int64_t now_ms);
//! The attributes of a request body (id, type and @context skipped), normalized and expanded:
//! {"<expanded name>": instance | [instances]}.
core::Result<ioc::Json> parseAttributes(const ioc::Json& body, const TermMap& terms,
                                        int64_t now_ms);

enum class MergeMode {
  kAppend,             //!< add or overwrite (POST …/attrs)
  kAppendNoOverwrite,  //!< add only what is missing (options=noOverwrite)
  kUpdateExisting,     //!< overwrite only what exists (PATCH …/attrs)
};
struct NotUpdated {
  std::string attribute;  //!< expanded
  std::string reason;
};
struct MergeResult {
  std::vector<std::string> updated;  //!< expanded names
  std::vector<NotUpdated> not_updated;
};
MergeResult mergeAttributes(Entity& target, const ioc::Json& attrs, MergeMode mode, int64_t now_ms);
//! `before` with `attrs` merged as mergeAttributes would, built without copying the attributes
//! it replaces (the common case: single instances without datasetId) — copying the whole
//! document and then overwriting most of it was the largest cost of ingestion.
Entity mergedCopy(const Entity& before, ioc::Json attrs, MergeMode mode, int64_t now_ms,
                  MergeResult& result);
//! The same without a report, for telemetry: the updated names are not copied out.
Entity mergedCopy(const Entity& before, ioc::Json attrs, MergeMode mode, int64_t now_ms);
//! Partial attribute update: merges the members of `fragment` into the existing instance
//! (the one with the fragment's datasetId). kNotFound when the attribute or instance is missing.
core::Status patchAttribute(Entity& target, const std::string& expanded_name,
                            const ioc::Json& fragment, const TermMap& terms, int64_t now_ms);
//! Removes an attribute (all instances, or the one with datasetId). kNotFound when missing.
core::Status removeAttribute(Entity& target, const std::string& expanded_name,
                             const std::string& dataset_id, bool all_instances);

struct RenderOptions {
  bool key_values = false;
  bool sys_attrs = false;
  const std::unordered_set<std::string>* attrs = nullptr;  //!< expanded names; null = all
};
ioc::Json renderEntity(const Entity& entity, const TermMap& terms, const RenderOptions& opts);

//! Time-series points for the numeric Property instances in `attrs` (an entity document or the
//! attributes a request wrote) under `names` (every attribute when null), at their observedAt,
//! else `now_ms`. Taking them from what was written, not from the whole entity, records each
//! reading once.
void collectPoints(const std::string& entity_id, const ioc::Json& attrs,
                   const std::vector<std::string>* names, int64_t now_ms,
                   std::vector<model::Point>& out);

model::EntityRecord toRecord(const Entity& entity);
core::Result<Entity> fromRecord(const model::EntityRecord& record);

//! True for an NGSI-LD entity id: an absolute URI (scheme ":" …) without spaces or controls.
bool isValidEntityId(std::string_view id);
//! ISO 8601 date-time as NGSI-LD expects for observedAt ("2026-11-22T08:00:00Z", offsets and
//! fractions allowed); returns Unix milliseconds.
core::Result<int64_t> parseDateTime(std::string_view s);

}  // namespace ioc::context
