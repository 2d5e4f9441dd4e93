// Notification latency probe (bench/mqtt_ingest.sh with IOC_BENCH_PROBE=1): while the server
// ingests a load, this tool PATCHes one probe entity at a fixed rate with the send time as the
// value, receives the NGSI-LD notifications of a keyValues subscription on its own HTTP port and
// reports the latency from "update sent" to "notification received" (same host, same clock).
// Plain POSIX sockets: the tool must not share code paths with what it measures.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

int64_t nowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Latencies {
  std::mutex mu;
  std::vector<int64_t> micros;
  void add(int64_t v) {
    std::lock_guard lock(mu);
    micros.push_back(v);
  }
};

// Reads one HTTP/1.1 message (head + Content-Length body) from buf/fd; false on EOF.
bool readRequest(int fd, std::string& buf, std::string& body, std::string* head_out = nullptr) {
  for (;;) {
    auto head_end = buf.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      size_t length = 0;
      std::string head = buf.substr(0, head_end);
      std::transform(head.begin(), head.end(), head.begin(), ::tolower);
      auto cl = head.find("content-length:");
      if (cl != std::string::npos) length = std::strtoul(head.c_str() + cl + 15, nullptr, 10);
      if (buf.size() >= head_end + 4 + length) {
        body = buf.substr(head_end + 4, length);
        if (head_out) *head_out = head;
        buf.erase(0, head_end + 4 + length);
        return true;
      }
    }
    char chunk[65536];
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n <= 0) return false;
    buf.append(chunk, static_cast<size_t>(n));
  }
}

// Every "probe": <micros> in a keyValues notification body is one sample.
void recordSamples(std::string_view body, Latencies& out) {
  const int64_t now = nowMicros();
  size_t pos = 0;
  while ((pos = body.find("\"probe\":", pos)) != std::string_view::npos) {
    pos += 8;
    int64_t sent = std::strtoll(std::string(body.substr(pos, 24)).c_str(), nullptr, 10);
    if (sent > 0) out.add(now - sent);
  }
}

void serveConnection(int fd, Latencies& out) {
  std::string buf, body;
  static constexpr std::string_view kOk = "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n";
  while (readRequest(fd, buf, body)) {
    recordSamples(body, out);
    if (::write(fd, kOk.data(), kOk.size()) < 0) break;
  }
  ::close(fd);
}

int listenOn(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 64) != 0) {
    std::perror("listen");
    std::exit(2);
  }
  return fd;
}

int connectTo(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::perror("connect");
    std::exit(2);
  }
  return fd;
}

// PATCHes the probe attribute `count` times at `rate`/s; returns how many were answered 2xx.
long sendUpdates(int port, const std::string& token, const std::string& entity, long count,
                 long rate) {
  int fd = connectTo(port);
  std::string buf, ignored, head;
  long ok = 0;
  auto next = std::chrono::steady_clock::now();
  const auto step = std::chrono::microseconds(1'000'000 / std::max(1L, rate));
  for (long i = 0; i < count; ++i) {
    std::this_thread::sleep_until(next);
    next += step;
    std::string body = "{\"probe\":{\"type\":\"Property\",\"value\":" + std::to_string(nowMicros()) +
                       "}}";
    std::string req = "PATCH /ngsi-ld/v1/entities/" + entity +
                      "/attrs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token +
                      "\r\nContent-Type: application/json\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n\r\n" + body;
    if (::write(fd, req.data(), req.size()) < 0) break;
    // Responses carry no body we need; read the status line and any Content-Length body.
    if (!readRequest(fd, buf, ignored, &head)) break;
    if (head.rfind("http/1.1 2", 0) == 0) ok += 1;  // head is lower-cased
  }
  ::close(fd);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr,
                 "usage: bench_notify_probe SERVER_PORT TOKEN ENTITY_ID LISTEN_PORT COUNT RATE\n");
    return 2;
  }
  const int server_port = std::atoi(argv[1]);
  const std::string token = argv[2], entity = argv[3];
  const int listen_port = std::atoi(argv[4]);
  const long count = std::atol(argv[5]), rate = std::atol(argv[6]);
  Latencies lat;
  int lfd = listenOn(listen_port);
  std::thread acceptor([&] {
    for (;;) {
      int fd = ::accept(lfd, nullptr, nullptr);
      if (fd < 0) return;
      std::thread(serveConnection, fd, std::ref(lat)).detach();
    }
  });
  acceptor.detach();
  long sent = sendUpdates(server_port, token, entity, count, rate);
  std::this_thread::sleep_for(std::chrono::seconds(2));  // stragglers
  std::vector<int64_t> v;
  {
    std::lock_guard lock(lat.mu);
    v = lat.micros;
  }
  std::sort(v.begin(), v.end());
  auto pct = [&](double p) {
    return v.empty() ? 0.0 : v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))] / 1000.0;
  };
  std::printf(
      "notifications: %zu received for %ld updates sent; latency update→notification ms: "
      "p50 %.2f p90 %.2f p99 %.2f max %.2f\n",
      v.size(), sent, pct(0.50), pct(0.90), pct(0.99), v.empty() ? 0.0 : v.back() / 1000.0);
  return v.empty() ? 1 : 0;
}
