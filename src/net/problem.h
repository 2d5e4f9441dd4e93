#pragma once
// RFC 9457 problem details. Every error the server sends, from the socket layer up to the
// handlers, is built here so that the shape and the type URIs stay stable.
#include <string>
#include <string_view>

#include "net/request.h"

namespace ioc::net {

//! type = "urn:cityioc:problem:<slug>"; slug is stable and documented in docs/API.md.
Response problemResponse(http::status status, std::string_view slug, std::string_view title,
                         std::string_view detail, std::string_view instance,
                         std::string_view request_id);

//! Default slug and title for a status, used when a layer has nothing more specific to say.
std::string_view defaultProblemSlug(http::status status);

}  // namespace ioc::net
