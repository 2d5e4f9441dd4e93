#pragma once
// Errors cross module boundaries as values: Result<T> holds either a T or an Error.
#include <string>
#include <utility>
#include <variant>

namespace ioc::core {

//! Error categories shared by every module; api/ alone maps them to HTTP statuses.
enum class Errc {
  kInvalidArgument,       //!< well-formed input with bad values (HTTP 422)
  kMalformedInput,        //!< input that cannot be parsed at all (HTTP 400)
  kUnsupportedMediaType,  //!< HTTP 415
  kNotFound,
  kAlreadyExists,
  kUnauthenticated,
  kForbidden,
  kConflict,
  kTooManyRequests,
  kPayloadTooLarge,
  kUnavailable,
  kInternal,
};

const char* errcName(Errc code);

struct Error {
  Errc code;
  std::string message;
  int retry_after_s = 0;  //!< for kTooManyRequests / kUnavailable: when to try again
};

inline Error makeError(Errc code, std::string message, int retry_after_s = 0) {
  return Error{code, std::move(message), retry_after_s};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

//! Result for operations that produce nothing but may fail.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  static Status success() { return Status(); }
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_{Errc::kInternal, {}};
  bool ok_ = true;
};

}  // namespace ioc::core
