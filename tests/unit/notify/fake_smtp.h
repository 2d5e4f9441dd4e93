#pragma once
// A one-connection-at-a-time SMTP server for tests: answers the dialogue, records commands and
// the DATA of each message.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace ioc::notify::fake {

class FakeSmtp {
 public:
  explicit FakeSmtp(std::string reject_rcpt = "") : reject_rcpt_(std::move(reject_rcpt)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 4) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("fake smtp: cannot listen");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeSmtp() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  uint16_t port() const { return port_; }
  std::vector<std::string> commands() {
    std::lock_guard lock(mu_);
    return commands_;
  }
  std::vector<std::string> messages() {
    std::lock_guard lock(mu_);
    return messages_;
  }

 private:
  void serve() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      converse(c);
      ::close(c);
    }
  }
  static void say(int c, const std::string& s) { (void)!::write(c, s.data(), s.size()); }
  void converse(int c) {
    say(c, "220 fake.test ESMTP\r\n");
    std::string buf;
    bool data = false;
    std::string message;
    char chunk[4096];
    while (true) {
      size_t eol;
      while ((eol = buf.find("\r\n")) == std::string::npos) {
        ssize_t n = ::read(c, chunk, sizeof chunk);
        if (n <= 0) return;
        buf.append(chunk, static_cast<size_t>(n));
      }
      std::string line = buf.substr(0, eol);
      buf.erase(0, eol + 2);
      if (data) {
        if (line == ".") {
          data = false;
          {
            std::lock_guard lock(mu_);
            messages_.push_back(message);
          }
          message.clear();
          say(c, "250 2.0.0 queued\r\n");
        } else {
          message += line + "\r\n";
        }
        continue;
      }
      {
        std::lock_guard lock(mu_);
        commands_.push_back(line);
      }
      if (line.rfind("EHLO", 0) == 0) {
        say(c, "250-fake.test\r\n250-8BITMIME\r\n250 SIZE 1000000\r\n");
      } else if (line.rfind("MAIL FROM:", 0) == 0) {
        say(c, "250 2.1.0 ok\r\n");
      } else if (line.rfind("RCPT TO:", 0) == 0) {
        if (!reject_rcpt_.empty() && line.find(reject_rcpt_) != std::string::npos) {
          say(c, "550 5.1.1 no such user\r\n");
        } else {
          say(c, "250 2.1.5 ok\r\n");
        }
      } else if (line == "DATA") {
        data = true;
        say(c, "354 go ahead\r\n");
      } else if (line == "QUIT") {
        say(c, "221 2.0.0 bye\r\n");
        return;
      } else {
        say(c, "502 5.5.2 what?\r\n");
      }
    }
  }

  int fd_ = -1;
  uint16_t port_ = 0;
  std::string reject_rcpt_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> commands_;
  std::vector<std::string> messages_;
};

}  // namespace ioc::notify::fake
