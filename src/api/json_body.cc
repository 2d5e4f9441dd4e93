#include "api/json_body.h"

#include "core/text.h"

namespace ioc::api {

using core::Errc;
using core::makeError;

int jsonDepth(std::string_view body, int limit) {
  int depth = 0;
  int max_depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      max_depth = std::max(max_depth, ++depth);
      if (max_depth > limit) return max_depth;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return max_depth;
}

core::Result<ioc::Json> parseJsonObject(std::string_view body) {
  if (body.empty()) return makeError(Errc::kMalformedInput, "request body is empty");
  if (!core::isValidUtf8(body)) return makeError(Errc::kMalformedInput, "body is not valid UTF-8");
  if (jsonDepth(body, kMaxJsonDepth) > kMaxJsonDepth) {
    return makeError(Errc::kMalformedInput, "JSON nested deeper than 32 levels");
  }
  auto json = ioc::Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return makeError(Errc::kMalformedInput, "malformed JSON");
  if (!json.is_object()) return makeError(Errc::kInvalidArgument, "expected a JSON object");
  return json;
}

core::Result<ioc::Json> readJsonBody(const net::Request& req) {
  std::string_view type = req.header(net::http::field::content_type);
  std::string_view base = type.substr(0, type.find(';'));
  while (!base.empty() && base.back() == ' ') base.remove_suffix(1);
  std::string lowered(base);
  for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lowered != "application/json" && lowered != "application/ld+json") {
    return makeError(Errc::kUnsupportedMediaType, "send the body as application/json");
  }
  return parseJsonObject(req.raw.body());
}

core::Result<std::optional<std::string>> stringField(const ioc::Json& obj, const char* name,
                                                     size_t max_len) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return std::optional<std::string>{};
  if (!it->is_string())
    return makeError(Errc::kInvalidArgument, std::string(name) + " must be a string");
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > max_len) {
    return makeError(Errc::kInvalidArgument,
                     std::string(name) + " is longer than " + std::to_string(max_len) + " bytes");
  }
  return std::optional<std::string>(s);
}

core::Result<std::optional<bool>> boolField(const ioc::Json& obj, const char* name) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return std::optional<bool>{};
  if (!it->is_boolean())
    return makeError(Errc::kInvalidArgument, std::string(name) + " must be true or false");
  return std::optional<bool>(it->get<bool>());
}

core::Status onlyFields(const ioc::Json& obj, std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, _] : obj.items()) {
    bool known = false;
    for (auto a : allowed) known = known || key == a;
    if (!known) return makeError(Errc::kInvalidArgument, "unknown field " + key);
  }
  return core::Status::success();
}

}  // namespace ioc::api
