#pragma once
// Citizen photos: accepted by content, not by name or declared type (JPEG and PNG, structure
// walked to the end so a renamed script or a truncated file is refused), and stripped of the
// metadata that carries a location (JPEG APP1 Exif/XMP, PNG eXIf and XMP text) unless the
// reporter agreed to keep it.
#include <string>
#include <string_view>

#include "core/result.h"

namespace ioc::reports {

struct CleanPhoto {
  std::string bytes;
  std::string content_type;  //!< image/jpeg | image/png
  bool stripped = false;     //!< location-bearing metadata was removed
};

//! kUnsupportedMediaType when the bytes are not a well-formed JPEG or PNG.
core::Result<CleanPhoto> cleanPhoto(std::string_view bytes, bool keep_location);

}  // namespace ioc::reports
