// sendRequest over TLS against a local HTTPS receiver with a certificate made here: the body and
// headers arrive, the peer is verified (an unknown CA or a wrong host name is refused), and a
// redirect of a signed POST is not followed.
#include "net/url_fetch.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "unit/net/tls_receiver.h"

namespace ioc::net {
namespace {

namespace http = boost::beast::http;
namespace fs = std::filesystem;
using testing_tls::makeCertificate;
using testing_tls::TlsReceiver;

class SendRequestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cityioc-tls-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    makeCertificate(cert(), key());
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string cert() const { return (dir_ / "cert.pem").string(); }
  std::string key() const { return (dir_ / "key.pem").string(); }
  FetchOptions post() const {
    FetchOptions o;
    o.method = "POST";
    o.body = R"({"event":"alert.opened"})";
    o.headers = {{"Content-Type", "application/json"}, {"X-CityIOC-Signature", "sha256=ab"}};
    o.ca_file = cert();
    o.timeout = std::chrono::seconds(5);
    return o;
  }
  fs::path dir_;
};

TEST_F(SendRequestTest, PostsOverVerifiedTls) {
  TlsReceiver receiver(cert(), key(), 204, 1);
  auto r = sendRequest("https://localhost:" + std::to_string(receiver.port()) + "/hook", post());
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(receiver.received(), 1u);  // the request was recorded before the 204 went out
  const auto req = receiver.requests()[0];
  EXPECT_EQ(req.method(), http::verb::post);
  EXPECT_EQ(req.target(), "/hook");
  EXPECT_EQ(req.body(), R"({"event":"alert.opened"})");
  EXPECT_EQ(req["X-CityIOC-Signature"], "sha256=ab");
  EXPECT_EQ(req[http::field::content_length], "24");
}

TEST_F(SendRequestTest, RefusesUnknownCasWrongHostsAndRedirects) {
  {
    TlsReceiver receiver(cert(), key(), 204, 1);
    FetchOptions o = post();
    o.ca_file.clear();  // the system's CAs do not know this certificate
    auto r = sendRequest("https://localhost:" + std::to_string(receiver.port()) + "/", o);
    EXPECT_FALSE(r.ok());
  }
  {
    TlsReceiver receiver(cert(), key(), 204, 1);
    auto r = sendRequest("https://127.0.0.1:" + std::to_string(receiver.port()) + "/", post());
    EXPECT_FALSE(r.ok()) << "the certificate names localhost, not 127.0.0.1";
  }
  {
    TlsReceiver receiver(cert(), key(), 307, 1);
    auto r = sendRequest("https://localhost:" + std::to_string(receiver.port()) + "/", post());
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("redirect"), std::string::npos) << r.error().message;
  }
  FetchOptions get;
  EXPECT_FALSE(sendRequest("https://localhost:1/", get).ok());
}

}  // namespace
}  // namespace ioc::net
