#pragma once
// For tests of https delivery: a self-signed certificate for "localhost" made on the spot, and a
// small HTTPS server that records the requests it gets.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace ioc::testing_tls {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;

//! A self-signed certificate for "localhost", written as PEM (certificate and key).
inline void makeCertificate(const std::string& cert_path, const std::string& key_path) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (key == nullptr) throw std::runtime_error("cannot make a key");
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
  if (X509_sign(x, key, EVP_sha256()) <= 0) throw std::runtime_error("cannot sign");
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
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this, status, connections] {
      for (int i = 0; i < connections; ++i) serveOne(status);
    });
  }
  //! Also ends a wait for connections that never came.
  ~TlsReceiver() {
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    thread_.join();
  }
  uint16_t port() const { return port_; }
  size_t received() {
    std::lock_guard lock(mu_);
    return requests_.size();
  }
  std::vector<http::request<http::string_body>> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void serveOne(unsigned status) {
    asio::ip::tcp::socket socket(ioc_);
    beast::error_code ec;
    acceptor_.accept(socket, ec);
    if (ec) return;
    beast::ssl_stream<asio::ip::tcp::socket> stream(std::move(socket), tls_);
    stream.handshake(ssl::stream_base::server, ec);
    if (ec) return;  // the client refused our certificate
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    http::read(stream, buffer, req, ec);
    if (ec) return;
    {
      std::lock_guard lock(mu_);
      requests_.push_back(req);
    }
    http::response<http::string_body> res{static_cast<http::status>(status), 11};
    if (status / 100 == 3) res.set(http::field::location, "/elsewhere");
    res.prepare_payload();
    http::write(stream, res, ec);
    stream.shutdown(ec);
  }

  asio::io_context ioc_;
  ssl::context tls_;
  asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::mutex mu_;
  std::vector<http::request<http::string_body>> requests_;
  std::thread thread_;
};

}  // namespace ioc::testing_tls
