#pragma once
// A minimal SMTP client (RFC 5321) for staff email: plain SMTP to a local relay (EHLO, MAIL FROM,
// RCPT TO, DATA, QUIT), with a deadline on every step. No STARTTLS and no AUTH: point smtp.host
// at a relay on the same host or network (Postfix, an MTA sidecar) that handles onward TLS.
// Blocking: call it from a delivery worker, never from an I/O thread.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ioc::notify {

struct SmtpOptions {
  std::string host;  //!< "" = email off
  uint16_t port = 25;
  std::string from;  //!< envelope and header sender, e.g. "ioc@danang.gov.vn"
  std::string helo = "cityioc";
  std::chrono::milliseconds timeout{10000};  //!< per step (connect, each reply)
};

struct Mail {
  std::vector<std::string> to;
  std::string subject;  //!< UTF-8; encoded per RFC 2047 when not plain ASCII
  std::string body;     //!< UTF-8 plain text
};

//! RFC 2047 "encoded-word" (=?UTF-8?B?…?=, split into words of at most 75 characters) for a
//! header value that is not plain printable ASCII; ASCII values are returned as they are.
std::string encodeHeaderWord(std::string_view utf8);
//! The message as sent after DATA: headers, blank line, body with CRLF line ends and leading dots
//! doubled, without the terminating ".". `date_unix_s` fills the Date header.
std::string renderMessage(const SmtpOptions& options, const Mail& mail, int64_t date_unix_s,
                          const std::string& message_id);

//! Sends one message. kInvalidArgument for bad addresses, kUnavailable for network failures,
//! timeouts and refusals (with the server's reply in the message).
core::Status sendMail(const SmtpOptions& options, const Mail& mail);

//! A plausible single address (local@domain, no spaces, controls, angle brackets or commas).
bool isValidEmail(std::string_view address);

}  // namespace ioc::notify
