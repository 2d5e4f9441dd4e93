#pragma once
// Pieces of the NGSI-LD API shared by its route files.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/permissions.h"
#include "context/broker.h"
#include "net/request.h"

namespace ioc::api {

struct ApiServices;

//! Reads the entity-selection parameters (type, id, idPattern, q, attrs, geo-query, limit,
//! offset) into `query`; an NGSI-LD error response when they are invalid or select nothing.
std::optional<net::Response> parseEntityQuery(const net::Request& req,
                                              const context::TermMap& terms,
                                              context::EntityQuery& query);

//! NGSI-LD ProblemDetails. Messages may start with the NGSI-LD error name ("AlreadyExists: …").
net::Response ldError(net::http::status st, std::string type, std::string detail,
                      const net::Request& req);
net::Response ldError(const core::Error& e, const net::Request& req);

context::Visibility visibility(const auth::Principal& who);
model::Actor actorOf(const auth::Principal& who, const net::Request& req);
std::string lowerMediaType(std::string_view header);
//! The request's @context: from the body (application/ld+json) or the Link header.
core::Result<std::shared_ptr<const context::TermMap>> requestTerms(const ApiServices& s,
                                                                   const net::Request& req,
                                                                   const ioc::Json* body);
//! Parses a JSON body (object or array) after checking the media type.
core::Result<ioc::Json> ldBody(const net::Request& req, bool array);
//! Sets the response representation: @context in the body for ld+json, else a Link header.
net::Response ldResponse(ioc::Json body, const context::TermMap& terms, const net::Request& req,
                         net::http::status st = net::http::status::ok);
std::vector<std::string> splitList(const std::string& s);
//! Accept must allow JSON or JSON-LD (RFC 9110 §12.5.1); anything else is 406.
bool acceptable(const net::Request& req);
net::Response notAcceptable(const net::Request& req);
net::Response noContent();
//! An id as one path segment: everything but unreserved and sub-delimiter characters encoded.
std::string encodeSegment(std::string_view id);

}  // namespace ioc::api
