#include "auth/tokens.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "model/audit_entry.h"

namespace ioc::auth {
namespace {

bool isBase64Url(std::string_view s) {
  for (char c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool isLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

TEST(Tokens, SessionTokenShape) {
  const std::string t = generateToken(kSessionPrefix);
  EXPECT_EQ(t.size(), 46u);  // "cs_" + 43 characters of base64url for 32 bytes, no padding
  EXPECT_EQ(t.substr(0, 3), "cs_");
  EXPECT_TRUE(isBase64Url(t.substr(3))) << t;
  EXPECT_EQ(t.find('='), std::string::npos);
}

TEST(Tokens, KeyTokenShape) {
  const std::string t = generateToken(kKeyPrefix);
  EXPECT_EQ(t.size(), 46u);
  EXPECT_EQ(t.substr(0, 3), "ck_");
  EXPECT_TRUE(isBase64Url(t.substr(3))) << t;
}

TEST(Tokens, UniqueOverAThousand) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(generateToken(kSessionPrefix));
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Tokens, HashIsHexSha256) {
  const std::string t = generateToken(kSessionPrefix);
  const std::string h = hashToken(t);
  EXPECT_EQ(h.size(), 64u);
  EXPECT_TRUE(isLowerHex(h));
  EXPECT_EQ(h, hashToken(t));
  EXPECT_EQ(h, model::sha256Hex(t));
  EXPECT_NE(h, hashToken(t + "x"));
  EXPECT_EQ(hashToken(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Tokens, RandomHex) {
  const std::string a = randomHex(8);
  EXPECT_EQ(a.size(), 16u);
  EXPECT_TRUE(isLowerHex(a));
  EXPECT_NE(a, randomHex(8));
  EXPECT_EQ(randomHex(32).size(), 64u);
}

// KNOWN BUG (fails under UBSan until fixed; low severity, no caller passes 0 today):
// randomHex(0) in src/auth/tokens.cc passes std::vector<unsigned char>(0).data(), a null pointer,
// to randombytes_buf, which libsodium declares nonnull: undefined behaviour.
TEST(Tokens, RandomHexOfZeroBytesIsEmpty) {
  EXPECT_EQ(randomHex(0), "");
}

}  // namespace
}  // namespace ioc::auth
