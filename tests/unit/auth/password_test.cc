#include "auth/password.h"

#include <gtest/gtest.h>

#include <string>

namespace ioc::auth {
namespace {

using core::Errc;

// argon2id costs real time (more under ASan): this file hashes exactly twice.
const std::string kPassword = "correct horse battery staple";

const std::string& sharedHash() {
  static const std::string hash = [] {
    auto h = hashPassword(kPassword);
    EXPECT_TRUE(h.ok()) << h.error().message;
    return h.ok() ? *h : std::string();
  }();
  return hash;
}

TEST(PasswordPolicy, Bounds) {
  EXPECT_FALSE(checkPasswordPolicy("").ok());
  EXPECT_FALSE(checkPasswordPolicy("123456789").ok());  // 9
  EXPECT_TRUE(checkPasswordPolicy("1234567890").ok());  // 10
  EXPECT_TRUE(checkPasswordPolicy(std::string(1024, 'x')).ok());
  auto too_long = checkPasswordPolicy(std::string(1025, 'x'));
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().code, Errc::kInvalidArgument);
  EXPECT_NE(too_long.error().message.find("1024"), std::string::npos);
  auto too_short = checkPasswordPolicy("short");
  ASSERT_FALSE(too_short.ok());
  EXPECT_EQ(too_short.error().code, Errc::kInvalidArgument);
  EXPECT_NE(too_short.error().message.find("10"), std::string::npos);
}

TEST(PasswordHash, RejectsPolicyViolationsWithoutHashing) {
  auto short_hash = hashPassword("tiny");
  ASSERT_FALSE(short_hash.ok());
  EXPECT_EQ(short_hash.error().code, Errc::kInvalidArgument);
  auto long_hash = hashPassword(std::string(5000, 'a'));
  ASSERT_FALSE(long_hash.ok());
  EXPECT_EQ(long_hash.error().code, Errc::kInvalidArgument);
}

TEST(PasswordHash, IsArgon2idWithOwaspParameters) {
  const std::string& h = sharedHash();
  ASSERT_FALSE(h.empty());
  EXPECT_EQ(h.rfind("$argon2id$", 0), 0u) << h;
  EXPECT_NE(h.find("m=19456,t=2,p=1"), std::string::npos) << h;
  EXPECT_EQ(h.find(kPassword), std::string::npos);
}

TEST(PasswordHash, VerifyRightAndWrong) {
  const std::string& h = sharedHash();
  EXPECT_TRUE(verifyPassword(h, kPassword));
  EXPECT_FALSE(verifyPassword(h, "correct horse battery stapl"));
  EXPECT_FALSE(verifyPassword(h, "Correct horse battery staple"));
  EXPECT_FALSE(verifyPassword(h, ""));
  // Over the policy cap: refused before any hashing.
  EXPECT_FALSE(verifyPassword(h, std::string(1025, 'x')));
}

TEST(PasswordHash, SaltedSoTwoHashesDiffer) {
  auto second = hashPassword(kPassword);
  ASSERT_TRUE(second.ok());
  EXPECT_NE(*second, sharedHash());
}

TEST(PasswordHash, MalformedHashesNeverVerify) {
  const std::string& h = sharedHash();
  for (const std::string& bad :
       {std::string(), std::string("garbage"), std::string("$argon2id$"),
        std::string("$argon2id$v=19$m=bogus,t=2,p=1$AAAA$AAAA"), h.substr(0, h.size() / 2),
        std::string("$2b$10$abcdefghijklmnopqrstuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu"), kPassword}) {
    EXPECT_FALSE(verifyPassword(bad, kPassword)) << "'" << bad << "'";
  }
}

}  // namespace
}  // namespace ioc::auth
