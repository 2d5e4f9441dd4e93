#include "core/result.h"

namespace ioc::core {

const char* errcName(Errc code) {
  switch (code) {
    case Errc::kInvalidArgument:
      return "invalid_argument";
    case Errc::kMalformedInput:
      return "malformed_input";
    case Errc::kUnsupportedMediaType:
      return "unsupported_media_type";
    case Errc::kNotFound:
      return "not_found";
    case Errc::kAlreadyExists:
      return "already_exists";
    case Errc::kUnauthenticated:
      return "unauthenticated";
    case Errc::kForbidden:
      return "forbidden";
    case Errc::kConflict:
      return "conflict";
    case Errc::kTooManyRequests:
      return "too_many_requests";
    case Errc::kPayloadTooLarge:
      return "payload_too_large";
    case Errc::kUnavailable:
      return "unavailable";
    case Errc::kInternal:
      return "internal";
  }
  return "internal";
}

}  // namespace ioc::core
