// Form bodies. Both parsers refuse rather than guess: a body that a lenient parser would read
// one way and the client meant another (a stray '%', a part without a name, a missing closing
// delimiter) is an error, so a half-parsed submission is never stored.
#include "net/form.h"

#include <cctype>

namespace ioc::net {

namespace {

using core::Errc;
using core::makeError;

constexpr size_t kMaxPartHeaderBytes = 8 * 1024;  //!< all header lines of one part
constexpr size_t kMaxPartHeaderLines = 16;
constexpr size_t kMaxBoundary = 70;  //!< RFC 2046 §5.1.1

core::Error malformed(std::string message) {
  return makeError(Errc::kMalformedInput, std::move(message));
}

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

//! '+' is a space and %XX a byte; a '%' not followed by two hex digits is an error (a lenient
//! decoder would keep it literally, and the client most likely meant something else).
core::Result<std::string> decodeComponent(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '+') {
      out += ' ';
    } else if (c != '%') {
      out += c;
    } else {
      const int hi = i + 2 < in.size() ? hexDigit(in[i + 1]) : -1;
      const int lo = i + 2 < in.size() ? hexDigit(in[i + 2]) : -1;
      if (hi < 0 || lo < 0) return malformed("bad percent-escape in form field");
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    }
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

//! RFC 9110 token characters.
bool isTokenChar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

//! A header value "type; a=b; c=\"d;e\"" split into its lower-cased first item and parameters
//! (names lower-cased, values unquoted). Duplicate parameter names are refused: which one wins
//! differs between implementations.
struct HeaderValue {
  std::string value;
  std::vector<std::pair<std::string, std::string>> params;
  const std::string* param(std::string_view name) const {
    for (const auto& [k, v] : params) {
      if (k == name) return &v;
    }
    return nullptr;
  }
};

class ParamReader {
 public:
  explicit ParamReader(std::string_view s) : s_(s) {}

  core::Result<HeaderValue> read() {
    HeaderValue out;
    const size_t semi = s_.find(';');
    out.value = lower(trim(s_.substr(0, semi)));
    if (out.value.empty()) return malformed("empty header value");
    pos_ = semi == std::string_view::npos ? s_.size() : semi;
    while (pos_ < s_.size()) {
      ++pos_;  // the ';'
      skipSpace();
      if (pos_ >= s_.size()) break;  // a trailing ';' is harmless
      auto param = readParam();
      if (!param.ok()) return param.error();
      if (out.param(param->first)) return malformed("duplicate parameter " + param->first);
      out.params.push_back(std::move(*param));
      skipSpace();
      if (pos_ < s_.size() && s_[pos_] != ';') return malformed("junk after a parameter");
    }
    return out;
  }

 private:
  void skipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }

  core::Result<std::pair<std::string, std::string>> readParam() {
    const size_t start = pos_;
    while (pos_ < s_.size() && isTokenChar(s_[pos_])) ++pos_;
    std::string name = lower(s_.substr(start, pos_ - start));
    skipSpace();
    if (name.empty() || pos_ >= s_.size() || s_[pos_] != '=') {
      return malformed("bad header parameter");
    }
    ++pos_;
    skipSpace();
    auto value = pos_ < s_.size() && s_[pos_] == '"' ? readQuoted() : readToken();
    if (!value.ok()) return value.error();
    return std::pair{std::move(name), std::move(*value)};
  }

  core::Result<std::string> readToken() {
    const size_t start = pos_;
    while (pos_ < s_.size() && isTokenChar(s_[pos_])) ++pos_;
    if (pos_ == start) return malformed("empty header parameter value");
    return std::string(s_.substr(start, pos_ - start));
  }

  //! quoted-string: '\' escapes the next character. UTF-8 bytes (browsers send file names
  //! that way) are kept.
  core::Result<std::string> readQuoted() {
    std::string out;
    for (++pos_; pos_ < s_.size(); ++pos_) {
      const char c = s_[pos_];
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c == '\\') {
        if (++pos_ >= s_.size()) break;
        out += s_[pos_];
      } else {
        out += c;
      }
    }
    return malformed("unterminated quoted header parameter");
  }

  std::string_view s_;
  size_t pos_ = 0;
};

//! The boundary of a multipart/form-data Content-Type (RFC 2046 §5.1.1: 1–70 characters, not
//! ending in a space).
core::Result<std::string> boundaryOf(std::string_view content_type) {
  auto header = ParamReader(content_type).read();
  if (!header.ok()) return malformed("bad Content-Type: " + header.error().message);
  if (header->value != "multipart/form-data") return malformed("not multipart/form-data");
  const std::string* boundary = header->param("boundary");
  if (!boundary || boundary->empty() || boundary->size() > kMaxBoundary ||
      boundary->back() == ' ') {
    return malformed("multipart/form-data needs a boundary of 1 to 70 characters");
  }
  return *boundary;
}

//! One part's header block (without the blank line): Content-Disposition and Content-Type.
core::Status readPartHeaders(std::string_view block, FormPart& part) {
  if (block.size() > kMaxPartHeaderBytes) return malformed("part headers too large");
  bool disposition_seen = false;
  size_t lines = 0;
  while (!block.empty()) {
    const size_t eol = block.find("\r\n");
    std::string_view line = block.substr(0, eol);
    block.remove_prefix(eol == std::string_view::npos ? block.size() : eol + 2);
    if (++lines > kMaxPartHeaderLines) return malformed("too many part header lines");
    if (line.empty() || line.front() == ' ' || line.front() == '\t') {
      return malformed("folded or empty part header line");
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return malformed("bad part header line");
    const std::string name = lower(line.substr(0, colon));
    const std::string_view value = trim(line.substr(colon + 1));
    if (name == "content-disposition") {
      if (disposition_seen) return malformed("two Content-Disposition headers in a part");
      disposition_seen = true;
      auto cd = ParamReader(value).read();
      if (!cd.ok()) return malformed("bad Content-Disposition: " + cd.error().message);
      if (cd->value != "form-data") return malformed("part disposition is not form-data");
      const std::string* field = cd->param("name");
      if (!field || field->empty()) return malformed("part without a name");
      part.name = *field;
      if (const std::string* file = cd->param("filename")) part.filename = *file;
    } else if (name == "content-type") {
      if (!part.content_type.empty()) return malformed("two Content-Type headers in a part");
      if (value.empty()) return malformed("empty part Content-Type");
      part.content_type = std::string(value);
    }
    // Other headers (Content-Transfer-Encoding, deprecated by RFC 7578) carry nothing we use.
  }
  if (!disposition_seen) return malformed("part without Content-Disposition");
  return core::Status::success();
}

//! After a delimiter: "--" ends the body; otherwise optional transport padding, then CRLF.
//! Returns the position after the line, or npos for the close delimiter.
core::Result<size_t> afterDelimiter(std::string_view body, size_t pos, bool& closed) {
  if (body.substr(pos, 2) == "--") {
    closed = true;
    return pos + 2;
  }
  while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
  if (body.substr(pos, 2) != "\r\n") return malformed("boundary line not ended by CRLF");
  return pos + 2;
}

}  // namespace

core::Result<FormFields> parseUrlEncoded(std::string_view body, size_t max_fields) {
  FormFields out;
  while (!body.empty()) {
    const size_t amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    body.remove_prefix(amp == std::string_view::npos ? body.size() : amp + 1);
    if (pair.empty()) continue;  // "a=1&&b=2", a trailing '&': as browsers and WHATWG do
    if (out.size() >= max_fields) {
      return malformed("more than " + std::to_string(max_fields) + " form fields");
    }
    const size_t eq = pair.find('=');
    auto name = decodeComponent(pair.substr(0, eq));
    if (!name.ok()) return name.error();
    auto value = decodeComponent(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    if (!value.ok()) return value.error();
    out.emplace_back(std::move(*name), std::move(*value));
  }
  return out;
}

core::Result<std::vector<FormPart>> parseMultipart(std::string_view content_type,
                                                   std::string_view body, size_t max_parts) {
  auto boundary = boundaryOf(content_type);
  if (!boundary.ok()) return boundary.error();
  const std::string dash = "--" + *boundary;
  const std::string delimiter = "\r\n" + dash;
  // The first delimiter may open the body or follow a preamble (which is ignored).
  size_t pos = 0;
  if (body.substr(0, dash.size()) != dash) {
    const size_t first = body.find(delimiter);
    if (first == std::string_view::npos) return malformed("no multipart boundary in the body");
    pos = first + 2;
  }
  pos += dash.size();
  bool closed = false;
  auto next = afterDelimiter(body, pos, closed);
  if (!next.ok()) return next.error();
  if (closed) return malformed("multipart body without parts");
  pos = *next;
  std::vector<FormPart> parts;
  while (!closed) {
    if (parts.size() >= max_parts) {
      return malformed("more than " + std::to_string(max_parts) + " parts");
    }
    // A part: headers, a blank line, then data up to the next delimiter.
    FormPart part;
    size_t data_start;
    if (body.substr(pos, 2) == "\r\n") {
      data_start = pos + 2;  // no headers at all: refused below (no Content-Disposition)
    } else {
      const size_t end = body.find("\r\n\r\n", pos);
      if (end == std::string_view::npos || end - pos > kMaxPartHeaderBytes) {
        return malformed("part headers not terminated");
      }
      auto st = readPartHeaders(body.substr(pos, end - pos), part);
      if (!st.ok()) return st.error();
      data_start = end + 4;
    }
    if (part.name.empty()) return malformed("part without Content-Disposition");
    const size_t data_end = body.find(delimiter, data_start);
    if (data_end == std::string_view::npos) return malformed("multipart body is truncated");
    part.data = std::string(body.substr(data_start, data_end - data_start));
    parts.push_back(std::move(part));
    next = afterDelimiter(body, data_end + delimiter.size(), closed);
    if (!next.ok()) return next.error();
    pos = *next;
  }
  return parts;  // anything after the close delimiter is the epilogue, ignored
}

const std::string* findField(const FormFields& fields, std::string_view name) {
  for (const auto& [k, v] : fields) {
    if (k == name) return &v;
  }
  return nullptr;
}

}  // namespace ioc::net
