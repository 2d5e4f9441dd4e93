#pragma once
// How the store keeps an NGSI-LD entity: its identity and scope as columns, the normalized,
// expanded entity as one JSON document. The context module owns the document's meaning.
#include <cstdint>
#include <string>

namespace ioc::model {

struct EntityRecord {
  std::string id;
  std::string type;       //!< expanded type IRI (the first, if several)
  std::string unit_code;  //!< administrative unit of the writer that created it
  std::string doc;        //!< normalized entity JSON with expanded attribute names
  int64_t created_at_ms = 0;
  int64_t modified_at_ms = 0;
};

//! A JSON-LD @context document hosted by the broker (/ngsi-ld/v1/jsonldContexts).
struct HostedContext {
  std::string id;
  std::string url;
  std::string document;  //!< the JSON text as posted
  int64_t created_at_ms = 0;
};

//! A configuration-like object kept as one JSON document under (kind, id): subscriptions today,
//! rules and SOP templates later. The owning module gives the document its meaning.
struct StoredDocument {
  std::string kind;
  std::string id;
  std::string doc;
  int64_t updated_at_ms = 0;
};

}  // namespace ioc::model
