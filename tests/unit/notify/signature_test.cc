// HMAC-SHA256 against RFC 4231 vectors, and the webhook signature receivers recompute.
#include "notify/signature.h"

#include <gtest/gtest.h>

namespace ioc::notify {
namespace {

TEST(Hmac, Rfc4231TestCase2) {
  EXPECT_EQ(hmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Hmac, Rfc4231TestCase1) {
  EXPECT_EQ(hmacSha256Hex(std::string(20, '\x0b'), "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(WebhookSignature, SignsTimestampDotBody) {
  const std::string body = R"({"event":"webhook.test"})";
  const std::string sig = webhookSignature("s3cret-s3cret-s3cret", "1700000000", body);
  EXPECT_EQ(sig, "sha256=" + hmacSha256Hex("s3cret-s3cret-s3cret", "1700000000." + body));
  EXPECT_TRUE(verifyWebhookSignature("s3cret-s3cret-s3cret", "1700000000", body, sig));
  EXPECT_FALSE(verifyWebhookSignature("other-secret-value", "1700000000", body, sig));
  EXPECT_FALSE(verifyWebhookSignature("s3cret-s3cret-s3cret", "1700000001", body, sig));
  EXPECT_FALSE(verifyWebhookSignature("s3cret-s3cret-s3cret", "1700000000", body + " ", sig));
}

TEST(RandomHex, IsHexOfTheRightLength) {
  auto a = randomHex(16);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, randomHex(16));
}

}  // namespace
}  // namespace ioc::notify
