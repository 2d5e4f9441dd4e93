// Form bodies: application/x-www-form-urlencoded and multipart/form-data (RFC 7578), with
// bodies as real clients send them and the malformed ones a strict parser must refuse.
#include "net/form.h"

#include <gtest/gtest.h>

#include <string>

namespace ioc::net {
namespace {

using namespace std::string_literals;

// ---- application/x-www-form-urlencoded

TEST(UrlEncoded, Open311ExampleRequestFromTheSpec) {
  // The POST body of the GeoReport v2 example request.
  auto f = parseUrlEncoded(
      "api_key=xyz&jurisdiction_id=city.gov&service_code=001&lat=37.76524078&long=-122.4212043"
      "&address_string=1234+5th+street&email=smit333%40sfgov.edu&description=A+large+sinkhole"
      "&media_url=http%3A%2F%2Ffarm3.static.flickr.com%2F2002%2F2212426634_5ed477a060.jpg"
      "&attribute[WHISPAWN]=123456&attribute[WHISDORN]=COISL001");
  ASSERT_TRUE(f.ok()) << f.error().message;
  ASSERT_EQ(f->size(), 11u);
  EXPECT_EQ((*f)[0], (std::pair<std::string, std::string>{"api_key", "xyz"}));
  EXPECT_EQ(*findField(*f, "address_string"), "1234 5th street");
  EXPECT_EQ(*findField(*f, "email"), "smit333@sfgov.edu");
  EXPECT_EQ(*findField(*f, "media_url"),
            "http://farm3.static.flickr.com/2002/2212426634_5ed477a060.jpg");
  EXPECT_EQ(*findField(*f, "attribute[WHISDORN]"), "COISL001");
  EXPECT_EQ(findField(*f, "phone"), nullptr);
}

TEST(UrlEncoded, PlusIsSpaceAndEncodedPlusIsPlus) {
  auto f = parseUrlEncoded("a=x+y%21&b=1%2B1&c+d=e");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*findField(*f, "a"), "x y!");
  EXPECT_EQ(*findField(*f, "b"), "1+1");
  EXPECT_EQ(*findField(*f, "c d"), "e");
}

TEST(UrlEncoded, Utf8InBothHexCasesIsDecodedToBytes) {
  auto f = parseUrlEncoded("d=%C4%90%c3%a8n+h%E1%BB%8Fng");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*findField(*f, "d"), "Đèn hỏng");
}

TEST(UrlEncoded, RepeatedNamesKeptInOrder) {
  auto f = parseUrlEncoded("attribute[k][]=a&attribute[k][]=b&x=1&attribute[k][]=c");
  ASSERT_TRUE(f.ok());
  ASSERT_EQ(f->size(), 4u);
  EXPECT_EQ((*f)[0].second, "a");
  EXPECT_EQ((*f)[1].second, "b");
  EXPECT_EQ((*f)[3], (std::pair<std::string, std::string>{"attribute[k][]", "c"}));
  EXPECT_EQ(*findField(*f, "attribute[k][]"), "a");  // the first one
}

TEST(UrlEncoded, MissingValueEmptyValueAndEmptyPairs) {
  auto f = parseUrlEncoded("a&b=&&c=3&");
  ASSERT_TRUE(f.ok());
  ASSERT_EQ(f->size(), 3u);
  EXPECT_EQ(*findField(*f, "a"), "");
  EXPECT_EQ(*findField(*f, "b"), "");
  EXPECT_EQ(*findField(*f, "c"), "3");
  auto empty = parseUrlEncoded("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(UrlEncoded, EqualsSignInsideAValueIsKept) {
  auto f = parseUrlEncoded("q=a=b");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*findField(*f, "q"), "a=b");
}

TEST(UrlEncoded, BadPercentEscapesAreErrors) {
  for (const char* body : {"a=%", "a=%4", "a=%zz", "a=100%", "a=%4g&b=1", "%=1", "a%2=1"}) {
    auto f = parseUrlEncoded(body);
    ASSERT_FALSE(f.ok()) << body;
    EXPECT_EQ(f.error().code, core::Errc::kMalformedInput) << body;
  }
}

TEST(UrlEncoded, FieldCountIsBounded) {
  std::string body;
  for (int i = 0; i < 4; ++i) body += "f" + std::to_string(i) + "=v&";
  EXPECT_TRUE(parseUrlEncoded(body, 4).ok());
  auto over = parseUrlEncoded(body + "f4=v", 4);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, core::Errc::kMalformedInput);
  // Empty pairs do not count.
  EXPECT_TRUE(parseUrlEncoded("&&&&&&a=1", 1).ok());
}

TEST(UrlEncoded, DecodedNulAndBinaryBytesAreKept) {
  auto f = parseUrlEncoded("b=%00%FF");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*findField(*f, "b"), "\0\xFF"s);
}

// ---- multipart/form-data

// Exactly what `curl -F service_code=P01 -F 'description=Đèn hỏng' -F
// 'media=@f.bin;type=image/jpeg;filename=ảnh 1.jpg'` sent (captured on a socket).
const std::string kCurlType =
    "multipart/form-data; boundary=------------------------6842bed76de5cb0a";
const std::string kCurlBody =
    "--------------------------6842bed76de5cb0a\r\n"
    "Content-Disposition: form-data; name=\"service_code\"\r\n"
    "\r\n"
    "P01\r\n"
    "--------------------------6842bed76de5cb0a\r\n"
    "Content-Disposition: form-data; name=\"description\"\r\n"
    "\r\n"
    "Đèn hỏng\r\n"
    "--------------------------6842bed76de5cb0a\r\n"
    "Content-Disposition: form-data; name=\"media\"; filename=\"ảnh 1.jpg\"\r\n"
    "Content-Type: image/jpeg\r\n"
    "\r\n"
    "ab\0\xff"
    "c\r\n"
    "--------------------------6842bed76de5cb0a--\r\n"s;

TEST(Multipart, WhatCurlSends) {
  auto parts = parseMultipart(kCurlType, kCurlBody);
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0].name, "service_code");
  EXPECT_EQ((*parts)[0].data, "P01");
  EXPECT_EQ((*parts)[0].filename, "");
  EXPECT_EQ((*parts)[0].content_type, "");
  EXPECT_EQ((*parts)[1].data, "Đèn hỏng");
  EXPECT_EQ((*parts)[2].name, "media");
  EXPECT_EQ((*parts)[2].filename, "ảnh 1.jpg");
  EXPECT_EQ((*parts)[2].content_type, "image/jpeg");
  EXPECT_EQ((*parts)[2].data,
            "ab\0\xff"
            "c"s);
}

TEST(Multipart, BrowserStyleWithQuotedBoundaryPreambleAndEpilogue) {
  const std::string type =
      "Multipart/Form-Data; charset=utf-8; BOUNDARY=\"----WebKitFormBoundary7MA4YWxk TrZu0gW\"";
  const std::string body =
      "This is a preamble; ignore it.\r\n"
      "------WebKitFormBoundary7MA4YWxk TrZu0gW  \r\n"  // transport padding after the boundary
      "content-disposition: form-data; name=lat\r\n"
      "\r\n"
      "16.4637\r\n"
      "------WebKitFormBoundary7MA4YWxk TrZu0gW\r\n"
      "Content-Disposition: form-data; filename=\"a\\\"b;c.png\"; name=\"media\"\r\n"
      "Content-Type: image/png\r\n"
      "Content-Transfer-Encoding: binary\r\n"
      "\r\n"
      "\r\n--not-the-boundary\r\n\r\n"
      "------WebKitFormBoundary7MA4YWxk TrZu0gW--\r\n"
      "epilogue, ignored too\r\n";
  auto parts = parseMultipart(type, body);
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].name, "lat");
  EXPECT_EQ((*parts)[0].data, "16.4637");
  EXPECT_EQ((*parts)[1].name, "media");
  EXPECT_EQ((*parts)[1].filename, "a\"b;c.png");
  EXPECT_EQ((*parts)[1].content_type, "image/png");
  EXPECT_EQ((*parts)[1].data, "\r\n--not-the-boundary\r\n");
}

TEST(Multipart, EmptyFieldAndRepeatedNames) {
  const std::string body =
      "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\r\n"
      "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nsecond\r\n--b--";
  auto parts = parseMultipart("multipart/form-data; boundary=b", body);
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].data, "");
  EXPECT_EQ((*parts)[1].data, "second");
}

core::Errc errorOf(const std::string& type, const std::string& body, size_t max_parts = 32) {
  auto parts = parseMultipart(type, body, max_parts);
  EXPECT_FALSE(parts.ok()) << body;
  return parts.ok() ? core::Errc::kInternal : parts.error().code;
}

TEST(Multipart, ContentTypeWithoutAUsableBoundaryIsRefused) {
  const std::string body = "--b\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--b--\r\n";
  for (const std::string& type : std::vector<std::string>{
           "multipart/form-data",
           "multipart/form-data; boundary=", "multipart/form-data; boundary=\"\"",
           "multipart/mixed; boundary=b", "application/x-www-form-urlencoded", "",
           "multipart/form-data; boundary=\"b", "multipart/form-data; boundary=b; boundary=b",
           "multipart/form-data; boundary=" + std::string(71, 'x')}) {
    EXPECT_EQ(errorOf(type, body), core::Errc::kMalformedInput) << type;
  }
  EXPECT_TRUE(parseMultipart("multipart/form-data; boundary=" + std::string(70, 'x'),
                             "--" + std::string(70, 'x') +
                                 "\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--" +
                                 std::string(70, 'x') + "--")
                  .ok());
}

TEST(Multipart, MalformedBodiesAreRefused) {
  const std::string type = "multipart/form-data; boundary=b";
  const std::string cd = "Content-Disposition: form-data; name=\"a\"\r\n";
  const std::vector<std::string> bad = {
      "",                                                         // nothing
      "--b--\r\n",                                                // no part at all
      "no boundary here",                                         // no delimiter
      "--b\r\n" + cd + "\r\nx\r\n",                               // truncated: no close delimiter
      "--b\r\n" + cd + "\r\nx",                                   // truncated inside the data
      "--b\r\n" + cd + "x\r\n--b--",                              // headers never end
      "--b\r\n\r\nx\r\n--b--",                                    // no headers, so no name
      "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--",        // no Content-Disposition
      "--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--",  // no name
      "--b\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nx\r\n--b--",  // empty name
      "--b\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--b--",    // not form-data
      "--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--b--",   // open quote
      "--b\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\nx\r\n--b--",
      "--b\r\n" + cd + cd + "\r\nx\r\n--b--",                           // two dispositions
      "--b\r\n" + cd + " folded\r\n\r\nx\r\n--b--",                     // obsolete line folding
      "--b\r\nno colon\r\n\r\nx\r\n--b--",                              // not a header
      "--b\n" + cd + "\nx\n--b--\n",                                    // LF only
      "--b junk\r\n" + cd + "\r\nx\r\n--b--",                           // junk after boundary
      "--b\r\n" + cd + "\r\nx\r\n--bjunk\r\n" + cd + "\r\ny\r\n--b--",  // junk after delimiter
  };
  for (const auto& body : bad) EXPECT_EQ(errorOf(type, body), core::Errc::kMalformedInput) << body;
}

TEST(Multipart, PartCountAndHeaderSizeAreBounded) {
  const std::string type = "multipart/form-data; boundary=b";
  std::string body;
  for (int i = 0; i < 3; ++i) body += "--b\r\nContent-Disposition: form-data; name=f\r\n\r\nv\r\n";
  body += "--b--\r\n";
  EXPECT_TRUE(parseMultipart(type, body, 3).ok());
  EXPECT_EQ(errorOf(type, body, 2), core::Errc::kMalformedInput);

  const std::string big_header =
      "--b\r\nContent-Disposition: form-data; name=f\r\nX-Pad: " + std::string(9000, 'p') +
      "\r\n\r\nv\r\n--b--";
  EXPECT_EQ(errorOf(type, big_header), core::Errc::kMalformedInput);
  std::string many_lines = "--b\r\nContent-Disposition: form-data; name=f\r\n";
  for (int i = 0; i < 20; ++i) many_lines += "X-" + std::to_string(i) + ": 1\r\n";
  EXPECT_EQ(errorOf(type, many_lines + "\r\nv\r\n--b--"), core::Errc::kMalformedInput);
}

TEST(Multipart, LargeBinaryPartSurvivesIntact) {
  std::string payload(3 * 1024 * 1024, '\0');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>((i * 131) % 256);
  const std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=media; filename=x.jpg"
      "\r\nContent-Type: image/jpeg\r\n\r\n" +
      payload + "\r\n--XyZ--\r\n";
  auto parts = parseMultipart("multipart/form-data; boundary=XyZ", body);
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].data, payload);
}

}  // namespace
}  // namespace ioc::net
