#include "reports/photos.h"

#include <cstdint>
#include <cstring>

namespace ioc::reports {
namespace {

core::Error notAnImage(const std::string& why) {
  return core::makeError(core::Errc::kUnsupportedMediaType,
                         "photos must be JPEG or PNG images: " + why);
}

uint32_t be32(std::string_view b, size_t at) {
  return (uint32_t{static_cast<uint8_t>(b[at])} << 24) |
         (uint32_t{static_cast<uint8_t>(b[at + 1])} << 16) |
         (uint32_t{static_cast<uint8_t>(b[at + 2])} << 8) |
         uint32_t{static_cast<uint8_t>(b[at + 3])};
}

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

// APP1 carries Exif (GPS tags) or XMP (which can repeat them).
bool locationSegment(uint8_t marker, std::string_view payload) {
  return marker == 0xE1 && (startsWith(payload, std::string_view("Exif\0\0", 6)) ||
                            startsWith(payload, "http://ns.adobe.com/xap/1.0/"));
}

// Walks the marker segments up to the scan; the entropy-coded rest is copied as is but must end
// with EOI.
core::Result<CleanPhoto> cleanJpeg(std::string_view b, bool keep) {
  CleanPhoto out{std::string("\xFF\xD8", 2), "image/jpeg", false};
  size_t at = 2;
  while (true) {
    if (at + 4 > b.size() || static_cast<uint8_t>(b[at]) != 0xFF) return notAnImage("bad JPEG");
    const auto marker = static_cast<uint8_t>(b[at + 1]);
    if (marker == 0xFF) {  // fill byte
      ++at;
      continue;
    }
    if (marker == 0xD9 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
      return notAnImage("JPEG without image data");
    }
    const size_t len =
        (size_t{static_cast<uint8_t>(b[at + 2])} << 8) | static_cast<uint8_t>(b[at + 3]);
    if (len < 2 || at + 2 + len > b.size()) return notAnImage("truncated JPEG");
    const std::string_view segment = b.substr(at, 2 + len);
    if (marker == 0xDA) {  // start of scan: the rest is image data
      if (b.size() < at + 4 || b.substr(b.size() - 2) != std::string_view("\xFF\xD9", 2)) {
        return notAnImage("truncated JPEG");
      }
      out.bytes.append(b.substr(at));
      return out;
    }
    if (!keep && locationSegment(marker, segment.substr(4))) {
      out.stripped = true;
    } else {
      out.bytes.append(segment);
    }
    at += 2 + len;
  }
}

bool pngLocationChunk(std::string_view type, std::string_view data) {
  if (type == "eXIf") return true;
  return (type == "iTXt" || type == "tEXt" || type == "zTXt") &&
         startsWith(data, std::string_view("XML:com.adobe.xmp\0", 18));
}

core::Result<CleanPhoto> cleanPng(std::string_view b, bool keep) {
  CleanPhoto out{std::string(b.substr(0, 8)), "image/png", false};
  size_t at = 8;
  bool seen_header = false, seen_data = false;
  while (at + 12 <= b.size()) {
    const uint32_t len = be32(b, at);
    if (len > b.size() - at - 12) return notAnImage("truncated PNG");
    const std::string_view type = b.substr(at + 4, 4);
    for (char c : type) {
      if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return notAnImage("bad PNG chunk");
    }
    if (!seen_header && type != "IHDR") return notAnImage("PNG without a header");
    seen_header = true;
    seen_data = seen_data || type == "IDAT";
    const std::string_view chunk = b.substr(at, 12 + len);
    if (!keep && pngLocationChunk(type, chunk.substr(8, len))) {
      out.stripped = true;
    } else {
      out.bytes.append(chunk);
    }
    at += 12 + len;
    if (type == "IEND") {
      if (!seen_data) return notAnImage("PNG without image data");
      return out;
    }
  }
  return notAnImage("truncated PNG");
}

}  // namespace

core::Result<CleanPhoto> cleanPhoto(std::string_view bytes, bool keep_location) {
  if (startsWith(bytes, "\xFF\xD8\xFF")) return cleanJpeg(bytes, keep_location);
  if (startsWith(bytes, "\x89PNG\r\n\x1A\n")) return cleanPng(bytes, keep_location);
  return notAnImage("unrecognised content");
}

}  // namespace ioc::reports
