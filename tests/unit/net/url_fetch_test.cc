// sendRequest over TLS against a local HTTPS receiver with a certificate made here: the body and
// headers arrive, the peer is verified (an unknown CA or a wrong host name is refused), and a
// redirect of a signed POST is not followed.
#include "net/url_fetch.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdio>
#include <filesystem>
#include <thread>

namespace ioc::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
namespace fs = std::filesystem;

//! A self-signed certificate for "localhost", written as PEM (certificate and key).
void makeCertificate(const std::string& cert_path, const std::string& key_path) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  ASSERT_NE(key, nullptr);
  X509* x = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "DNS:localhost");
  X509_add_ext(x, san, -1);
  X509_EXTENSION_free(san);
  ASSERT_GT(X509_sign(x, key, EVP_sha256()), 0);
  FILE* c = std::fopen(cert_path.c_str(), "w");
  PEM_write_X509(c, x);
  std::fclose(c);
  FILE* k = std::fopen(key_path.c_str(), "w");
  PEM_write_PrivateKey(k, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(k);
  X509_free(x);
  EVP_PKEY_free(key);
}

//! Serves `connections` TLS connections, answering each request with `status` (+ Location).
class TlsReceiver {
 public:
  TlsReceiver(const std::string& cert, const std::string& key, unsigned status, int connections)
      : tls_(ssl::context::tls_server), acceptor_(ioc_, {asio::ip::make_address("127.0.0.1"), 0}) {
    tls_.use_certificate_chain_file(cert);
    tls_.use_private_key_file(key, ssl::context::pem);
    thread_ = std::thread([this, status, connections] {
      for (int i = 0; i < connections; ++i) serveOne(status);
    });
  }
  ~TlsReceiver() { thread_.join(); }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::vector<http::request<http::string_body>> requests;

 private:
  void serveOne(unsigned status) {
    asio::ip::tcp::socket socket(ioc_);
    acceptor_.accept(socket);
    beast::ssl_stream<asio::ip::tcp::socket> stream(std::move(socket), tls_);
    beast::error_code ec;
    stream.handshake(ssl::stream_base::server, ec);
    if (ec) return;  // the client refused our certificate
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    http::read(stream, buffer, req, ec);
    if (ec) return;
    requests.push_back(req);
    http::response<http::string_body> res{static_cast<http::status>(status), 11};
    if (status / 100 == 3) res.set(http::field::location, "/elsewhere");
    res.prepare_payload();
    http::write(stream, res, ec);
    stream.shutdown(ec);
  }

  asio::io_context ioc_;
  ssl::context tls_;
  asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
};

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
  ASSERT_EQ(receiver.requests.size(), 1u);  // joined below; the request was read before 204
  const auto& req = receiver.requests[0];
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
