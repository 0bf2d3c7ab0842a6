// A small real HTTP/1.1 server for tests of HTTP clients: POSIX sockets on 127.0.0.1, a kernel-chosen port,
// one thread accepting and one thread per connection. It parses the request line, headers and a
// Content-Length body (answering "Expect: 100-continue"), hands each request to a handler and writes its
// response; connections are kept alive unless the client or the response asks to close. Every request is
// recorded for the test to inspect. Header-only so that the test glob (tests/*/*_test.cc) needs no change.
//
// The handler runs on connection threads, possibly concurrently: it must be thread-safe (atomics, a mutex).
// The destructor stops the server: it closes every connection, cuts response delays short and joins.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace rlm::testhttp {

struct TestHttpRequest {
  std::string method;                                        // "POST"
  std::string target;                                        // "/v1/embeddings"
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case, values trimmed
  std::string body;

  // The value of the first header called `name` (lower case), or nullopt.
  std::optional<std::string> Header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (k == name) return v;
    }
    return std::nullopt;
  }
};

struct TestHttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers, e.g. {"Retry-After", "0"}
  std::chrono::milliseconds delay{0};  // waited before responding; cut short when the server stops
  bool close = false;                  // close the connection after this response
  // A huge reply without holding it: instead of `body`, this many '0' bytes, written in 64 KiB pieces
  // until done or the client hangs up (which then ends the connection).
  uint64_t zeros = 0;
  // With `zeros`: Transfer-Encoding: chunked, no Content-Length (the client cannot know the size up front).
  bool chunked = false;
};

class TestHttpServer {
 public:
  using Handler = std::function<TestHttpResponse(const TestHttpRequest&)>;

  // Listens on 127.0.0.1 at a free port; throws std::runtime_error when the socket cannot be set up.
  explicit TestHttpServer(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) throw std::runtime_error("test server: socket failed");
    const int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 64) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ::close(listen_fd_);
      throw std::runtime_error("test server: bind/listen failed");
    }
    port_ = ntohs(addr.sin_port);
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }

  ~TestHttpServer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      for (int fd : conn_fds_) ::shutdown(fd, SHUT_RDWR);
    }
    cv_.notify_all();
    accept_thread_.join();  // AcceptLoop polls, so it sees stopping_ within its poll interval
    ::close(listen_fd_);
    for (std::thread& t : conn_threads_) t.join();  // no new ones: the accept thread has ended
  }

  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:<port>"
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Copies of every request received so far, in arrival order.
  std::vector<TestHttpRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  size_t request_count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_.size();
  }

 private:
  void AcceptLoop() {
    for (;;) {
      pollfd p{listen_fd_, POLLIN, 0};
      const int ready = ::poll(&p, 1, 20);
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) return;
      }
      if (ready <= 0) continue;
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) {
        ::close(fd);
        return;
      }
      conn_fds_.insert(fd);
      conn_threads_.emplace_back([this, fd] { Serve(fd); });
    }
  }

  // Appends what the peer sent to `buf`; false on end of stream or error.
  static bool Receive(int fd, std::string& buf) {
    char chunk[16384];
    for (;;) {
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n > 0) {
        buf.append(chunk, static_cast<size_t>(n));
        return true;
      }
      if (n < 0 && errno == EINTR) continue;
      return false;
    }
  }

  static bool SendAll(int fd, std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // `n` '0' bytes in 64 KiB pieces (as chunks when `chunked`); false when the peer hung up.
  static bool SendZeros(int fd, uint64_t n, bool chunked) {
    const std::string piece(size_t{1} << 16, '0');
    char size_line[32];
    while (n > 0) {
      const size_t k = static_cast<size_t>(std::min<uint64_t>(n, piece.size()));
      if (chunked) {
        std::snprintf(size_line, sizeof size_line, "%zx\r\n", k);
        if (!SendAll(fd, size_line)) return false;
      }
      if (!SendAll(fd, std::string_view(piece).substr(0, k))) return false;
      if (chunked && !SendAll(fd, "\r\n")) return false;
      n -= k;
    }
    return !chunked || SendAll(fd, "0\r\n\r\n");
  }

  static std::string Trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return std::string(s);
  }

  // Reads one request from `fd`, leaving any pipelined bytes in `buf`; false when the connection ended
  // or the request is not understood.
  static bool ReadRequest(int fd, std::string& buf, TestHttpRequest* req) {
    size_t head_end;
    while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
      if (buf.size() > (1u << 20) || !Receive(fd, buf)) return false;
    }
    const std::string head = buf.substr(0, head_end);
    buf.erase(0, head_end + 4);
    size_t line_end = head.find("\r\n");
    const std::string request_line = head.substr(0, line_end);
    const size_t sp1 = request_line.find(' '), sp2 = request_line.rfind(' ');
    if (sp1 == std::string::npos || sp2 == sp1) return false;
    req->method = request_line.substr(0, sp1);
    req->target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    size_t content_length = 0;
    bool expect_continue = false;
    while (line_end != std::string::npos) {
      const size_t start = line_end + 2;
      line_end = head.find("\r\n", start);
      const std::string line =
          head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
      const size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = Trim(line.substr(colon + 1));
      if (name == "content-length") content_length = std::strtoul(value.c_str(), nullptr, 10);
      if (name == "expect" && value == "100-continue") expect_continue = true;
      if (name == "transfer-encoding") return false;  // chunked bodies are not supported
      req->headers.emplace_back(std::move(name), std::move(value));
    }
    if (expect_continue && buf.size() < content_length && !SendAll(fd, "HTTP/1.1 100 Continue\r\n\r\n")) {
      return false;
    }
    while (buf.size() < content_length) {
      if (!Receive(fd, buf)) return false;
    }
    req->body = buf.substr(0, content_length);
    buf.erase(0, content_length);
    return true;
  }

  static std::string Reason(int status) {
    switch (status) {
      case 200:
        return "OK";
      case 400:
        return "Bad Request";
      case 401:
        return "Unauthorized";
      case 404:
        return "Not Found";
      case 429:
        return "Too Many Requests";
      case 500:
        return "Internal Server Error";
      case 502:
        return "Bad Gateway";
      case 503:
        return "Service Unavailable";
      case 504:
        return "Gateway Timeout";
      default:
        return "Status";
    }
  }

  void Serve(int fd) {
    std::string buf;
    for (;;) {
      TestHttpRequest req;
      if (!ReadRequest(fd, buf, &req)) break;
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(req);
      }
      const TestHttpResponse res = handler_(req);
      if (res.delay.count() > 0) {
        std::unique_lock<std::mutex> lock(mu_);
        if (cv_.wait_for(lock, res.delay, [this] { return stopping_; })) break;
      }
      const bool close = res.close || req.Header("connection") == std::optional<std::string>("close");
      std::string out = "HTTP/1.1 " + std::to_string(res.status) + " " + Reason(res.status) + "\r\n";
      out += "Content-Type: " + res.content_type + "\r\n";
      if (res.zeros > 0 && res.chunked) {
        out += "Transfer-Encoding: chunked\r\n";
      } else {
        out += "Content-Length: " + std::to_string(res.zeros > 0 ? res.zeros : res.body.size()) + "\r\n";
      }
      for (const auto& [k, v] : res.headers) out += k + ": " + v + "\r\n";
      if (close) out += "Connection: close\r\n";
      out += "\r\n";
      if (res.zeros > 0) {
        if (!SendAll(fd, out) || !SendZeros(fd, res.zeros, res.chunked)) break;
        if (close) break;
        continue;
      }
      out += res.body;
      if (!SendAll(fd, out) || close) break;
    }
    std::lock_guard<std::mutex> lock(mu_);
    conn_fds_.erase(fd);
    ::close(fd);
  }

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread accept_thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;                  // GUARDED_BY(mu_)
  std::set<int> conn_fds_;                 // GUARDED_BY(mu_): open connections
  std::vector<std::thread> conn_threads_;  // appended only by the accept thread
  std::vector<TestHttpRequest> requests_;  // GUARDED_BY(mu_)
};

// A port on 127.0.0.1 where nothing listens (bound, then released), for "connection refused".
inline int ClosedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace rlm::testhttp
