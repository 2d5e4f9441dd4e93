#pragma once
// Shared support for the black-box tests: child processes, a local Mosquitto broker and
// mosquitto_pub, API keys from the CLI, and a WebSocket client with deadlines.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>

#include "integration/harness.h"

namespace ioc::it {

inline constexpr const char* kMosquitto = "/usr/sbin/mosquitto";
inline constexpr const char* kMosquittoPub = "/usr/bin/mosquitto_pub";

//! A port that was free a moment ago (bound to port 0, then released).
inline uint16_t freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot find a free port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

inline std::string readText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

//! fork + exec with stdin from `stdin_fd` (or /dev/null) and stdout+stderr to `log_path`.
inline pid_t spawn(const std::vector<std::string>& args, const std::string& log_path,
                   int stdin_fd = -1) {
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int in = stdin_fd >= 0 ? stdin_fd : ::open("/dev/null", O_RDONLY);
    dup2(in, 0);
    dup2(log, 1);
    dup2(log, 2);
    execve(argv[0], argv.data(), environ);
    _exit(127);
  }
  if (log >= 0) ::close(log);
  return pid;
}

//! waitpid with a deadline; the exit code (128+signal), or nullopt if still running.
inline std::optional<int> waitPid(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (r < 0 && errno != EINTR) return -1;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
}

//! `/usr/sbin/mosquitto` on 127.0.0.1:port with anonymous access, as a child process.
class MosquittoBroker {
 public:
  explicit MosquittoBroker(const std::string& dir) : dir_(dir), port_(freePort()) {
    std::ofstream conf(dir_ + "/mosquitto.conf");
    conf << "listener " << port_ << " 127.0.0.1\n"
         << "allow_anonymous true\n"
         << "persistence false\n";
  }
  ~MosquittoBroker() { stop(); }

  testing::AssertionResult start() {
    pid_ = spawn({kMosquitto, "-c", dir_ + "/mosquitto.conf"}, dir_ + "/mosquitto.log");
    if (pid_ < 0) return testing::AssertionFailure() << "fork failed";
    bool up =
        eventually([&] { return !connectRefused(port_) || waitPid(pid_, 0ms).has_value(); }, 10s);
    if (!up || connectRefused(port_)) {
      stop();
      return testing::AssertionFailure() << "mosquitto did not listen on " << port_ << ":\n"
                                         << readText(dir_ + "/mosquitto.log");
    }
    return testing::AssertionSuccess();
  }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    if (!waitPid(pid_, 5s)) {
      ::kill(pid_, SIGKILL);
      waitPid(pid_, 5s);
    }
    pid_ = -1;
  }
  uint16_t port() const { return port_; }
  std::string url() const { return "mqtt://127.0.0.1:" + std::to_string(port_); }

 private:
  std::string dir_;
  uint16_t port_;
  pid_t pid_ = -1;
};

//! mosquitto_pub -q 1: returns once the broker has acknowledged the message.
inline testing::AssertionResult publish(uint16_t port, const std::string& topic,
                                        const std::string& payload, const std::string& log_dir) {
  int in[2];
  if (pipe2(in, O_CLOEXEC) != 0) return testing::AssertionFailure() << "pipe2 failed";
  pid_t pid = spawn(
      {kMosquittoPub, "-h", "127.0.0.1", "-p", std::to_string(port), "-q", "1", "-t", topic, "-s"},
      log_dir + "/mosquitto_pub.log", in[0]);
  ::close(in[0]);
  size_t off = 0;
  while (off < payload.size()) {
    ssize_t n = ::write(in[1], payload.data() + off, payload.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  ::close(in[1]);
  auto code = waitPid(pid, 15s);
  if (!code) {
    ::kill(pid, SIGKILL);
    waitPid(pid, 5s);
    return testing::AssertionFailure() << "mosquitto_pub timed out";
  }
  if (*code != 0) {
    return testing::AssertionFailure()
           << "mosquitto_pub exited " << *code << ": " << readText(log_dir + "/mosquitto_pub.log");
  }
  return testing::AssertionSuccess();
}

//! `cityioc key add`; the key is the last line of its output.
inline std::string addKey(const std::string& data_dir, const std::string& name,
                          const std::string& scope, const std::string& unit) {
  auto r =
      runCli({"key", "add", "--data", data_dir, "--name", name, "--scope", scope, "--unit", unit});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  std::string out = r.out;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  size_t nl = out.rfind('\n');
  return nl == std::string::npos ? out : out.substr(nl + 1);
}

namespace asio_ws {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using json = ioc::Json;

//! A WebSocket client with a deadline on every read.
class WsClient {
 public:
  //! Connects and upgrades; the handshake's HTTP status (101 on success).
  unsigned connect(uint16_t port, const std::string& target, const std::string& bearer = "") {
    asio::ip::tcp::resolver resolver(ioc_);
    beast::get_lowest_layer(ws_).expires_after(5s);
    beast::get_lowest_layer(ws_).connect(resolver.resolve("127.0.0.1", std::to_string(port)));
    ws_.set_option(websocket::stream_base::decorator([bearer](websocket::request_type& req) {
      if (!bearer.empty()) req.set(beast::http::field::authorization, "Bearer " + bearer);
    }));
    websocket::response_type res;
    beast::error_code ec;
    ws_.handshake(res, "127.0.0.1:" + std::to_string(port), target, ec);
    beast::get_lowest_layer(ws_).expires_never();
    return res.result_int();
  }
  void send(const json& j) { ws_.write(asio::buffer(j.dump())); }
  //! The next message, or nullopt after `timeout` (the connection is unusable after a timeout).
  std::optional<json> read(std::chrono::milliseconds timeout = 5s) {
    beast::flat_buffer buf;
    beast::error_code result = asio::error::would_block;
    beast::get_lowest_layer(ws_).expires_after(timeout);
    ws_.async_read(buf, [&](beast::error_code ec, size_t) { result = ec; });
    ioc_.restart();
    ioc_.run();
    if (result) return std::nullopt;
    return json::parse(beast::buffers_to_string(buf.data()), nullptr, false);
  }
  //! Reads until a message satisfies `pred`; nullopt on timeout.
  template <class Pred>
  std::optional<json> readUntil(Pred pred, std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      auto m = read(left);
      if (!m) return std::nullopt;
      if (pred(*m)) return m;
    }
    return std::nullopt;
  }

 private:
  asio::io_context ioc_;
  websocket::stream<beast::tcp_stream> ws_{ioc_};
};

}  // namespace asio_ws
using asio_ws::WsClient;

}  // namespace ioc::it
