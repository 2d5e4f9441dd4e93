// The SMTP client against a fake server: the dialogue, RFC 2047 subjects, dot-stuffing, refusals
// and timeouts.
#include "notify/smtp.h"

#include <gtest/gtest.h>

#include "unit/notify/fake_smtp.h"

namespace ioc::notify {
namespace {

using fake::FakeSmtp;

SmtpOptions optionsFor(uint16_t port) {
  SmtpOptions o;
  o.host = "127.0.0.1";
  o.port = port;
  o.from = "ioc@hue.gov.vn";
  o.timeout = std::chrono::milliseconds(3000);
  return o;
}

TEST(Smtp, SpeaksTheDialogue) {
  FakeSmtp server;
  Mail mail{{"truc.ban@hue.gov.vn", "lanh.dao@hue.gov.vn"},
            "Cảnh báo ngập: Phường Phú Xuân",
            "Mực nước vượt báo động II.\n.dòng bắt đầu bằng dấu chấm\n"};
  auto s = sendMail(optionsFor(server.port()), mail);
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto cmds = server.commands();
  ASSERT_EQ(cmds.size(), 6u);
  EXPECT_EQ(cmds[0], "EHLO cityioc");
  EXPECT_EQ(cmds[1], "MAIL FROM:<ioc@hue.gov.vn>");
  EXPECT_EQ(cmds[2], "RCPT TO:<truc.ban@hue.gov.vn>");
  EXPECT_EQ(cmds[3], "RCPT TO:<lanh.dao@hue.gov.vn>");
  EXPECT_EQ(cmds[4], "DATA");
  EXPECT_EQ(cmds[5], "QUIT");
  auto msgs = server.messages();
  ASSERT_EQ(msgs.size(), 1u);
  const std::string& m = msgs[0];
  EXPECT_NE(m.find("From: ioc@hue.gov.vn\r\n"), std::string::npos) << m;
  EXPECT_NE(m.find("To: truc.ban@hue.gov.vn, lanh.dao@hue.gov.vn\r\n"), std::string::npos);
  EXPECT_NE(m.find("Subject: =?UTF-8?B?"), std::string::npos) << m;
  EXPECT_NE(m.find("Content-Type: text/plain; charset=UTF-8\r\n"), std::string::npos);
  // Dot-stuffed on the wire; the fake server keeps the stuffed form.
  EXPECT_NE(m.find("\r\n..dòng bắt đầu"), std::string::npos) << m;
  EXPECT_NE(m.find("Mực nước vượt báo động II.\r\n"), std::string::npos);
}

TEST(Smtp, RefusedRecipientIsAnError) {
  FakeSmtp server("nobody@");
  auto s = sendMail(optionsFor(server.port()), Mail{{"nobody@hue.gov.vn"}, "x", "y"});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, core::Errc::kUnavailable);
  EXPECT_NE(s.error().message.find("550"), std::string::npos) << s.error().message;
}

TEST(Smtp, ConnectionRefusedAndBadAddresses) {
  uint16_t port;
  {
    FakeSmtp server;
    port = server.port();
  }
  auto s = sendMail(optionsFor(port), Mail{{"a@b.vn"}, "x", "y"});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, core::Errc::kUnavailable);
  auto bad = sendMail(optionsFor(port), Mail{{"not an address"}, "x", "y"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, core::Errc::kInvalidArgument);
}

TEST(Smtp, EncodedWords) {
  EXPECT_EQ(encodeHeaderWord("plain ASCII"), "plain ASCII");
  // RFC 2047: "Cảnh báo" in UTF-8, base64.
  EXPECT_EQ(encodeHeaderWord("Cảnh báo"), "=?UTF-8?B?Q+G6o25oIGLDoW8=?=");
  // Long subjects split between characters into words of at most 75 characters.
  std::string longer;
  for (int i = 0; i < 30; ++i) longer += "Đà Nẵng ";
  std::string enc = encodeHeaderWord(longer);
  size_t start = 0;
  int words = 0;
  while (start < enc.size()) {
    size_t end = enc.find("\r\n ", start);
    std::string word = enc.substr(start, end == std::string::npos ? end : end - start);
    EXPECT_LE(word.size(), 75u) << word;
    EXPECT_EQ(word.rfind("=?UTF-8?B?", 0), 0u);
    ++words;
    if (end == std::string::npos) break;
    start = end + 3;
  }
  EXPECT_GT(words, 3);
}

TEST(Smtp, ValidAddresses) {
  EXPECT_TRUE(isValidEmail("a.b@hue.gov.vn"));
  EXPECT_FALSE(isValidEmail("a@b"));
  EXPECT_FALSE(isValidEmail("a b@c.vn"));
  EXPECT_FALSE(isValidEmail("<a@c.vn>"));
  EXPECT_FALSE(isValidEmail("a@c.vn\r\nRCPT TO:<x@y.z>"));
}

}  // namespace
}  // namespace ioc::notify
