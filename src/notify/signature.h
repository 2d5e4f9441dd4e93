#pragma once
// Webhook signatures: how a receiver knows a notification came from this IOC and is fresh.
//
// Every webhook request carries
//   X-CityIOC-Event: <event type>
//   X-CityIOC-Timestamp: <Unix seconds>
//   X-CityIOC-Signature: sha256=<lower-case hex HMAC-SHA256(secret, timestamp + "." + body)>
// A receiver recomputes the HMAC over the timestamp header, a ".", and the raw body bytes with
// the webhook's secret, compares it in constant time, and rejects timestamps more than a few
// minutes old (replays).
#include <string>
#include <string_view>

namespace ioc::notify {

//! Lower-case hex HMAC-SHA256 of `message` under `key`.
std::string hmacSha256Hex(std::string_view key, std::string_view message);
//! "sha256=" + hmacSha256Hex(secret, timestamp + "." + body).
std::string webhookSignature(std::string_view secret, std::string_view timestamp,
                             std::string_view body);
//! Constant-time check of a signature header against the expected one.
bool verifyWebhookSignature(std::string_view secret, std::string_view timestamp,
                            std::string_view body, std::string_view signature);
//! `bytes` random bytes from the OS CSPRNG, hex-encoded.
std::string randomHex(size_t bytes);

}  // namespace ioc::notify
