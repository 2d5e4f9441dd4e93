#include "integration/harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace ioc::it {

namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

// A child that exits before reading its stdin, or a server that closes first, must not kill the
// test process with SIGPIPE.
[[maybe_unused]] const bool kSigpipeIgnored = [] {
  std::signal(SIGPIPE, SIG_IGN);
  return true;
}();

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

//! The parent's environment without CITYIOC_* (hermetic), plus `extra`.
std::vector<std::string> childEnvironment(const Env& extra) {
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    if (kv.starts_with("CITYIOC_")) continue;
    out.emplace_back(kv);
  }
  for (const auto& [k, v] : extra) out.push_back(k + "=" + v);
  return out;
}

std::vector<char*> cStrings(std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

std::string readFd(int fd) {
  std::string out;
  char buf[8192];
  lseek(fd, 0, SEEK_SET);
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string readTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int decodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

//! waitpid with a deadline; the decoded status, or nullopt if still running.
std::optional<int> waitFor(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return decodeStatus(status);
    if (r < 0 && errno != EINTR) return -1;
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
}

//! IOC_BINARY, unless IOC_TEST_BINARY names another build of cityioc to test.
std::string binaryPath() {
  const char* override_path = std::getenv("IOC_TEST_BINARY");  // NOLINT(concurrency-mt-unsafe)
  return override_path && *override_path ? override_path : IOC_BINARY;
}

std::string tail(const std::string& s, size_t n) {
  return s.size() <= n ? s : "…" + s.substr(s.size() - n);
}

//! The part of a server's stderr worth showing: a sanitizer report from its start, else the end.
std::string crashReport(const std::string& err) {
  for (const char* marker :
       {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:", "terminate called"}) {
    size_t at = err.find(marker);
    if (at == std::string::npos) continue;
    size_t from = err.rfind('\n', at);
    from = from == std::string::npos ? 0 : from + 1;
    return err.substr(from, 6000);
  }
  return tail(err, 8000);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// TempDir

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/cityioc-it-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed: " + std::string(std::strerror(errno)));
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  if (std::getenv("IOC_KEEP_TEST_DATA")) return;  // NOLINT(concurrency-mt-unsafe)
  std::error_code ec;
  fs::remove_all(path_, ec);
}

// ---------------------------------------------------------------------------------------------
// ServerProcess

ServerProcess::ServerProcess(std::vector<std::string> extra_args, Env env, std::string data_dir)
    : args_(std::move(extra_args)), env_(std::move(env)), data_dir_(std::move(data_dir)) {
  if (data_dir_.empty()) {
    owned_dir_.emplace();
    data_dir_ = owned_dir_->path();
  }
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    auto a = alive();
    if (!a) ADD_FAILURE() << a.message();
  }
  kill9();
}

testing::AssertionResult ServerProcess::alive() {
  if (pid_ <= 0) return testing::AssertionFailure() << "the server is not running";
  if (auto code = waitFor(pid_, 0ms)) {
    pid_ = -1;
    closeStdout();
    return testing::AssertionFailure()
           << "the server exited unexpectedly with code " << *code << "\n--- stderr ---\n"
           << crashReport(stderrText());
  }
  return testing::AssertionSuccess();
}

void ServerProcess::closeStdout() {
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
  stdout_fd_ = -1;
}

std::string ServerProcess::stderrText() const {
  return readTextFile(data_dir_ + "/server-stderr.log");
}

testing::AssertionResult ServerProcess::start() {
  if (pid_ > 0) return testing::AssertionFailure() << "server already running";
  port_ = 0;
  std::vector<std::string> argv_s = {binaryPath(),  "serve",  "--listen",
                                     "127.0.0.1:0", "--data", data_dir_};
  argv_s.insert(argv_s.end(), args_.begin(), args_.end());
  Env env = env_;
  // Quieter and faster unless a test asks otherwise; the test sees the access log if it wants.
  bool has_access = false;
  for (const auto& [k, v] : env) has_access = has_access || k == "CITYIOC_LOG_ACCESS";
  if (!has_access) env.emplace_back("CITYIOC_LOG_ACCESS", "false");
  auto envp_s = childEnvironment(env);
  auto argv = cStrings(argv_s);
  auto envp = cStrings(envp_s);

  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return testing::AssertionFailure() << "pipe2 failed";
  const std::string err_path = data_dir_ + "/server-stderr.log";
  int err_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (err_fd < 0) {
    ::close(out[0]);
    ::close(out[1]);
    return testing::AssertionFailure() << "cannot open " << err_path;
  }
  const size_t stderr_offset = stderrText().size();
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a crashed test
    int devnull = ::open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(out[1], 1);
    dup2(err_fd, 2);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  ::close(out[1]);
  ::close(err_fd);
  if (pid < 0) {
    ::close(out[0]);
    return testing::AssertionFailure() << "fork failed";
  }
  pid_ = pid;
  stdout_fd_ = out[0];

  std::string seen;
  const std::string marker = "cityioc listening on http://";
  auto deadline = Clock::now() + 30s;
  auto failure = [&](const std::string& why) {
    std::string err = stderrText().substr(std::min(stderr_offset, stderrText().size()));
    return testing::AssertionFailure() << why << "\n--- stdout ---\n"
                                       << tail(seen, 4000) << "\n--- stderr ---\n"
                                       << crashReport(err);
  };
  while (true) {
    size_t at = seen.find(marker);
    size_t nl = at == std::string::npos ? std::string::npos : seen.find('\n', at);
    if (nl != std::string::npos) {
      std::string addr = seen.substr(at + marker.size(), nl - at - marker.size());
      size_t colon = addr.rfind(':');
      int port = colon == std::string::npos ? 0 : std::atoi(addr.c_str() + colon + 1);
      if (port <= 0 || port > 65535) return failure("cannot parse the port in: " + addr);
      port_ = static_cast<uint16_t>(port);
      return testing::AssertionSuccess();
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left <= 0ms) {
      kill9();
      return failure("server did not print \"" + marker + "\" within 30 s");
    }
    pollfd p{stdout_fd_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 200)));
    if (r < 0 && errno == EINTR) continue;
    if (r > 0) {
      char buf[4096];
      ssize_t n = ::read(stdout_fd_, buf, sizeof buf);
      if (n > 0) {
        seen.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0) {  // stdout closed: the process is exiting
        auto code = waitFor(pid_, 10s);
        if (code) {
          pid_ = -1;
          closeStdout();
          return failure("server exited with code " + std::to_string(*code) +
                         " before it was ready");
        }
        kill9();
        return failure("server closed stdout before it was ready");
      }
    }
    if (auto code = waitFor(pid_, 0ms)) {
      pid_ = -1;
      closeStdout();
      return failure("server exited with code " + std::to_string(*code) + " before it was ready");
    }
  }
}

void ServerProcess::signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

std::optional<int> ServerProcess::waitExit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return std::nullopt;
  auto code = waitFor(pid_, timeout);
  if (code) {
    pid_ = -1;
    closeStdout();
  }
  return code;
}

std::optional<int> ServerProcess::terminate(int sig, std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return std::nullopt;
  ::kill(pid_, sig);
  return waitExit(timeout);
}

void ServerProcess::kill9() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }
  closeStdout();
}

// ---------------------------------------------------------------------------------------------
// CLI

CliResult runCli(const std::vector<std::string>& args, const std::string& stdin_text,
                 const Env& env, std::chrono::milliseconds timeout) {
  std::vector<std::string> argv_s = {binaryPath()};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  auto envp_s = childEnvironment(env);
  auto argv = cStrings(argv_s);
  auto envp = cStrings(envp_s);
  CliResult result;
  int in[2];
  if (pipe2(in, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  int out_fd = memfd_create("cityioc-out", MFD_CLOEXEC);
  int err_fd = memfd_create("cityioc-err", MFD_CLOEXEC);
  if (out_fd < 0 || err_fd < 0) throw std::runtime_error("memfd_create failed");
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a crashed test
    dup2(in[0], 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  ::close(in[0]);
  if (pid < 0) throw std::runtime_error("fork failed");
  size_t off = 0;
  while (off < stdin_text.size()) {
    ssize_t n = ::write(in[1], stdin_text.data() + off, stdin_text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the child exited without reading: fine
    off += static_cast<size_t>(n);
  }
  ::close(in[1]);
  auto code = waitFor(pid, timeout);
  if (!code) {
    ::kill(pid, SIGKILL);
    waitFor(pid, 10s);
    result.exit_code = -1;
  } else {
    result.exit_code = *code;
  }
  result.out = readFd(out_fd);
  result.err = readFd(err_fd);
  ::close(out_fd);
  ::close(err_fd);
  return result;
}

int64_t addUserCli(const std::string& data_dir, const std::string& username,
                   const std::string& password, const std::string& role, const std::string& unit) {
  std::vector<std::string> args = {"user",       "add",    "--data", data_dir,
                                   "--username", username, "--role", role};
  if (!unit.empty()) {
    args.push_back("--unit");
    args.push_back(unit);
  }
  auto r = runCli(args, password + "\n");
  EXPECT_EQ(r.exit_code, 0) << "cityioc user add " << username << ": " << r.out << r.err;
  std::smatch m;
  static const std::regex kId(R"(\(id (\d+),)");
  if (!std::regex_search(r.out, m, kId)) {
    ADD_FAILURE() << "no user id in: " << r.out;
    return 0;
  }
  return std::stoll(m[1].str());
}

// ---------------------------------------------------------------------------------------------
// HTTP

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return v;
  }
  return {};
}

bool HttpResponse::hasHeader(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return true;
  }
  return false;
}

ioc::Json HttpResponse::json() const {
  auto j = ioc::Json::parse(body, nullptr, false);
  return j.is_discarded() ? ioc::Json::object() : j;
}

ioc::Json HttpResponse::jsonField(const std::string& key) const {
  auto j = json();
  if (!j.is_object() || !j.contains(key)) return nullptr;
  return j[key];
}

std::string HttpResponse::describe() const {
  const size_t limit = header("Content-Type").find("json") != std::string::npos ? 1500 : 160;
  std::string shown = body.size() <= limit ? body : body.substr(0, limit) + "…";
  return std::to_string(status) + " " + header("Content-Type") + " " + shown;
}

testing::AssertionResult HttpResponse::isProblem() const {
  auto fail = [&](const std::string& why) {
    return testing::AssertionFailure() << why << " in " << describe();
  };
  std::string type = header("Content-Type");
  if (!type.starts_with("application/problem+json")) return fail("content type is not problem");
  auto j = json();
  if (!j.is_object()) return fail("body is not a JSON object");
  if (!j.contains("type") || !j["type"].is_string() ||
      !j["type"].get<std::string>().starts_with("urn:cityioc:problem:") ||
      j["type"].get<std::string>().size() <= std::string("urn:cityioc:problem:").size()) {
    return fail("\"type\" is not urn:cityioc:problem:<slug>");
  }
  if (!j.contains("title") || !j["title"].is_string() || j["title"].get<std::string>().empty()) {
    return fail("no \"title\"");
  }
  if (!j.contains("status") || !j["status"].is_number_integer() ||
      j["status"].get<unsigned>() != status) {
    return fail("\"status\" does not match the HTTP status");
  }
  if (!j.contains("request_id") || !j["request_id"].is_string() ||
      j["request_id"].get<std::string>().empty()) {
    return fail("no \"request_id\"");
  }
  if (hasHeader("X-Request-Id") && header("X-Request-Id") != j["request_id"]) {
    return fail("\"request_id\" differs from the X-Request-Id header");
  }
  return testing::AssertionSuccess();
}

namespace {

//! Runs the io_context until the pending operation completes (the stream's timer bounds it).
void runOne(asio::io_context& ioc) {
  ioc.run();
  ioc.restart();
}

HttpResponse fromBeast(http::response<http::string_body>&& res) {
  HttpResponse out;
  out.status = res.result_int();
  for (const auto& f : res) {
    out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  }
  out.body = std::move(res.body());
  return out;
}

}  // namespace

HttpResponse request(uint16_t port, const std::string& method, const std::string& target,
                     const RequestOptions& o) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  boost::system::error_code ec;
  stream.expires_after(o.timeout);
  stream.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                       [&](boost::system::error_code e) { ec = e; });
  runOne(ioc);
  if (ec) throw std::runtime_error("connect to port " + std::to_string(port) + ": " + ec.message());

  http::request<http::string_body> req;
  auto verb = http::string_to_verb(method);
  if (verb == http::verb::unknown) {
    req.method_string(method);
  } else {
    req.method(verb);
  }
  req.target(target);
  req.version(11);
  req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  req.set(http::field::user_agent, "cityioc-integration-test");
  req.keep_alive(false);
  if (!o.bearer.empty()) req.set(http::field::authorization, "Bearer " + o.bearer);
  if (!o.body.empty() && !o.content_type.empty()) {
    req.set(http::field::content_type, o.content_type);
  }
  for (const auto& [k, v] : o.headers) req.insert(k, v);
  req.body() = o.body;
  if (!o.body.empty() || verb == http::verb::post || verb == http::verb::patch ||
      verb == http::verb::put) {
    req.prepare_payload();
  }

  boost::system::error_code write_ec;
  http::async_write(stream, req, [&](boost::system::error_code e, size_t) { write_ec = e; });
  runOne(ioc);
  // A server may answer (413, 431) and close before the whole request is written: still read.
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  parser.header_limit(1024 * 1024);
  if (verb == http::verb::head) parser.skip(true);
  http::async_read(stream, buffer, parser, [&](boost::system::error_code e, size_t) { ec = e; });
  runOne(ioc);
  if (ec) {
    throw std::runtime_error(method + " " + target + ": " + ec.message() +
                             (write_ec ? " (write: " + write_ec.message() + ")" : ""));
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return fromBeast(parser.release());
}

HttpResponse get(uint16_t port, const std::string& target, const std::string& bearer) {
  RequestOptions o;
  o.bearer = bearer;
  return request(port, "GET", target, o);
}

HttpResponse postJson(uint16_t port, const std::string& target, const ioc::Json& body,
                      const std::string& bearer) {
  RequestOptions o;
  o.bearer = bearer;
  o.body = body.dump();
  return request(port, "POST", target, o);
}

std::string login(uint16_t port, const std::string& username, const std::string& password) {
  auto r = postJson(port, "/api/v1/auth/login", {{"username", username}, {"password", password}});
  if (r.status != 200) {
    ADD_FAILURE() << "login " << username << ": " << r.describe();
    return "";
  }
  auto j = r.json();
  if (!j.is_object() || !j.contains("token") || !j["token"].is_string()) {
    ADD_FAILURE() << "login " << username << ": no token in " << r.body;
    return "";
  }
  return j["token"].get<std::string>();
}

// ---------------------------------------------------------------------------------------------
// Raw sockets

namespace {
int connectTo(uint16_t port, int* error) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = errno;
    return -1;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    *error = errno;
    ::close(fd);
    return -1;
  }
  *error = 0;
  return fd;
}
}  // namespace

RawConnection::RawConnection(uint16_t port) {
  int error = 0;
  fd_ = connectTo(port, &error);
  if (fd_ < 0) {
    throw std::runtime_error("connect to port " + std::to_string(port) + ": " +
                             std::strerror(error));
  }
}

RawConnection::~RawConnection() {
  close();
}

void RawConnection::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool RawConnection::send(std::string_view bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

namespace {
//! One read with a deadline: >0 bytes appended, 0 on EOF/reset, -1 on timeout.
int readSome(int fd, std::string& into, Clock::time_point deadline) {
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left <= 0ms) return -1;
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) return -1;
    char buf[8192];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;
    into.append(buf, static_cast<size_t>(n));
    return 1;
  }
}
}  // namespace

std::string RawConnection::readUntilClose(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (readSome(fd_, pending_, deadline) > 0) {
  }
  return std::exchange(pending_, {});
}

std::string RawConnection::readUntil(std::string_view needle, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  size_t at = pending_.find(needle);
  while (at == std::string::npos && readSome(fd_, pending_, deadline) > 0)
    at = pending_.find(needle);
  if (at == std::string::npos) return std::exchange(pending_, {});
  std::string got = pending_.substr(0, at + needle.size());
  pending_.erase(0, at + needle.size());
  return got;
}

bool RawConnection::waitClosed(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    int r = readSome(fd_, pending_, deadline);
    if (r == 0) return true;
    if (r < 0) return false;
  }
}

namespace {
std::optional<HttpResponse> parse(const std::string& raw, bool at_eof) {
  http::response_parser<http::string_body> p;
  p.eager(true);
  p.body_limit(64 * 1024 * 1024);
  boost::system::error_code ec;
  size_t off = 0;
  while (off < raw.size() && !p.is_done()) {
    size_t n = p.put(asio::buffer(raw.data() + off, raw.size() - off), ec);
    if (ec == http::error::need_more) {
      ec = {};
      break;
    }
    if (ec) return std::nullopt;
    off += n;
    if (n == 0) break;
  }
  if (!p.is_done() && at_eof && p.is_header_done()) {
    p.put_eof(ec);
    if (ec) return std::nullopt;
  }
  if (!p.is_done()) return std::nullopt;
  return fromBeast(p.release());
}
}  // namespace

std::optional<HttpResponse> parseResponse(const std::string& raw) {
  return parse(raw, true);
}

std::optional<HttpResponse> RawConnection::readResponse(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    if (auto r = parse(pending_, false)) return r;
    int got = readSome(fd_, pending_, deadline);
    if (got == 0) return parse(pending_, true);
    if (got < 0) return std::nullopt;
  }
}

bool connectRefused(uint16_t port) {
  int error = 0;
  int fd = connectTo(port, &error);
  if (fd >= 0) {
    ::close(fd);
    return false;
  }
  return error == ECONNREFUSED;
}

int listenLoopback(uint16_t* port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd, 16) != 0 || ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot listen on 127.0.0.1");
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

std::string urlEncode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace ioc::it
