#pragma once
// Pieces of the NGSI-LD API shared by its route files.
#include <optional>

#include "context/broker.h"
#include "net/request.h"

namespace ioc::api {

//! Reads the entity-selection parameters (type, id, idPattern, q, attrs, geo-query, limit,
//! offset) into `query`; an NGSI-LD error response when they are invalid or select nothing.
std::optional<net::Response> parseEntityQuery(const net::Request& req,
                                              const context::TermMap& terms,
                                              context::EntityQuery& query);

}  // namespace ioc::api
