#pragma once
// The one place that maps module errors (core::Errc) to HTTP.
#include "core/result.h"
#include "net/problem.h"

namespace ioc::api {

net::http::status statusFor(core::Errc code);
net::Response errorResponse(const core::Error& error, const net::Request& req);
net::Response problem(net::http::status status, std::string_view detail, const net::Request& req);

}  // namespace ioc::api
