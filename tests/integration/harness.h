#pragma once
// Black-box harness for the integration tests: runs the real `cityioc` binary as a child process
// on 127.0.0.1 with port 0, talks HTTP to it, and runs its CLI subcommands. The binary is
// IOC_BINARY (the build's cityioc) unless the environment variable IOC_TEST_BINARY names another.
// Children get the test's environment minus every CITYIOC_* variable, plus what a test passes.
#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/json.h"

namespace ioc::it {

inline constexpr const char* kAdminUser = "admin";
inline constexpr const char* kAdminPassword = "admin-password-1";

using Env = std::vector<std::pair<std::string, std::string>>;
using Headers = std::vector<std::pair<std::string, std::string>>;
using namespace std::chrono_literals;

//! A fresh directory under $TMPDIR (or /tmp), removed on destruction unless IOC_KEEP_TEST_DATA is
//! set in the environment.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

//! `cityioc serve --listen 127.0.0.1:0 --data DIR [args…]` as a child process, with `env` added
//! (CITYIOC_LOG_ACCESS=false unless `env` sets it). Stdout is read for the listening line; stderr
//! goes to DIR/server-stderr.log.
class ServerProcess {
 public:
  //! `data_dir` empty = a fresh temporary directory owned by this object.
  explicit ServerProcess(std::vector<std::string> extra_args = {}, Env env = {},
                         std::string data_dir = "");
  ~ServerProcess();  // SIGKILL + reap if still running; a gtest failure if it had died
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  //! Starts the server and waits (up to 30 s) for "cityioc listening on http://127.0.0.1:PORT".
  //! Fails with the captured stderr when the process exits first or the line never comes.
  testing::AssertionResult start();
  //! Sends `sig` and waits for the exit; the exit code, or 128+signal if killed by a signal,
  //! or nullopt if it was still running after `timeout` (it is then left running).
  std::optional<int> terminate(int sig = 15, std::chrono::milliseconds timeout = 20s);
  //! Sends `sig` without waiting.
  void signal(int sig);
  //! Waits for the process to exit; see terminate().
  std::optional<int> waitExit(std::chrono::milliseconds timeout);
  //! SIGKILL and reap.
  void kill9();
  //! Starts again on the same data directory (after terminate() or kill9()).
  testing::AssertionResult restart() { return start(); }

  //! Started and not yet stopped by this object (it may have died meanwhile: see alive()).
  bool running() const { return pid_ > 0; }
  //! Fails, with the exit code and stderr, if the process has exited on its own (a crash).
  testing::AssertionResult alive();
  pid_t pid() const { return pid_; }
  uint16_t port() const { return port_; }
  const std::string& dataDir() const { return data_dir_; }
  //! Everything the server wrote to stderr so far (all runs on this data directory).
  std::string stderrText() const;

 private:
  std::vector<std::string> args_;
  Env env_;
  std::optional<TempDir> owned_dir_;
  std::string data_dir_;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  uint16_t port_ = 0;

  void closeStdout();
};

struct CliResult {
  int exit_code = -1;  //!< 128+signal if killed by a signal
  std::string out;
  std::string err;
};
//! Runs `cityioc args…` with `stdin_text` on stdin (and `env` added to a CITYIOC_-free
//! environment); kills it after `timeout` (exit_code -1).
CliResult runCli(const std::vector<std::string>& args, const std::string& stdin_text = "",
                 const Env& env = {}, std::chrono::milliseconds timeout = 120s);

//! Creates a user with the CLI (before or without a server); returns its id (from the output).
int64_t addUserCli(const std::string& data_dir, const std::string& username,
                   const std::string& password, const std::string& role,
                   const std::string& unit = "");

struct HttpResponse {
  unsigned status = 0;
  Headers headers;  //!< in arrival order, names as sent
  std::string body;

  //! First header with that name (case-insensitive); "" when absent.
  std::string header(std::string_view name) const;
  bool hasHeader(std::string_view name) const;
  //! The body parsed as JSON; an empty object when it is not JSON (so .value() stays usable).
  ioc::Json json() const;
  //! json()[key] by value (null when absent), safe to range-for over.
  ioc::Json jsonField(const std::string& key) const;
  //! True if this is an RFC 9457 problem: content type application/problem+json, and a body with
  //! "type" urn:cityioc:problem:…, "title", "status" equal to the HTTP status and "request_id".
  testing::AssertionResult isProblem() const;
  std::string describe() const;  //!< "STATUS BODY" for failure messages
};

struct RequestOptions {
  Headers headers;
  std::string body;
  std::string content_type = "application/json";  //!< sent only with a non-empty body
  std::string bearer;                             //!< "Authorization: Bearer …" when set
  std::chrono::milliseconds timeout = 30s;
};

//! One request on a fresh connection (Boost.Beast). Throws std::runtime_error on a network
//! error or a timeout.
HttpResponse request(uint16_t port, const std::string& method, const std::string& target,
                     const RequestOptions& options = {});
HttpResponse get(uint16_t port, const std::string& target, const std::string& bearer = "");
HttpResponse postJson(uint16_t port, const std::string& target, const ioc::Json& body,
                      const std::string& bearer = "");

//! POST /api/v1/auth/login; the token, or "" (with a gtest failure) when it did not answer 200.
std::string login(uint16_t port, const std::string& username, const std::string& password);

//! A plain TCP connection for sending arbitrary bytes.
class RawConnection {
 public:
  explicit RawConnection(uint16_t port);  // throws on failure
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  //! Writes all of `bytes`; false if the peer closed or reset.
  bool send(std::string_view bytes);
  //! Reads until the peer closes the connection or `timeout` passes; what arrived.
  std::string readUntilClose(std::chrono::milliseconds timeout);
  //! Reads until `needle` has arrived (or close/timeout); returns and forgets everything up to
  //! the end of the needle's first occurrence, or all of it if the needle never came.
  std::string readUntil(std::string_view needle, std::chrono::milliseconds timeout);
  //! Reads one complete HTTP response (or until close/timeout); nullopt if none arrived whole.
  std::optional<HttpResponse> readResponse(std::chrono::milliseconds timeout);
  //! True once the peer has closed (EOF or reset) within `timeout`.
  bool waitClosed(std::chrono::milliseconds timeout);
  void close();

 private:
  int fd_ = -1;
  std::string pending_;
};

//! Parses one HTTP/1.1 response from raw bytes; nullopt if incomplete or malformed.
std::optional<HttpResponse> parseResponse(const std::string& raw);

//! True if a TCP connect to 127.0.0.1:port is refused.
bool connectRefused(uint16_t port);
//! A listening socket on 127.0.0.1 with an ephemeral port (for receivers the server calls);
//! throws std::runtime_error when it cannot listen.
int listenLoopback(uint16_t* port);

//! Percent-encodes a query parameter value (UTF-8 bytes).
std::string urlEncode(std::string_view s);

//! Polls `pred` every 20 ms until true or `timeout`; the last result.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

}  // namespace ioc::it
