#include "jobs/redis_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

#include "jobs/redis.h"

namespace rlm::testing_redis {

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

RedisServer::RedisServer(std::filesystem::path dir, bool appendonly)
    : dir_(std::move(dir)), appendonly_(appendonly) {
  std::filesystem::create_directories(dir_);
}

RedisServer::~RedisServer() {
  if (pid_ > 0) Kill();
}

bool RedisServer::Available() {
  return std::system("command -v redis-server >/dev/null 2>&1") == 0;
}

bool RedisServer::Start(std::string* error) {
  if (port_ == 0) port_ = FreePort();
  std::vector<std::string> args = {"redis-server",
                                   "--port",
                                   std::to_string(port_),
                                   "--bind",
                                   "127.0.0.1",
                                   "--dir",
                                   dir_.string(),
                                   "--save",
                                   "",
                                   "--daemonize",
                                   "no",
                                   "--appendonly",
                                   appendonly_ ? "yes" : "no",
                                   "--logfile",
                                   (dir_ / "redis.log").string()};
  // argv is built before fork: the child of a threaded test process calls only async-signal-safe functions.
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test process
    int devnull = ::open("/dev/null", O_RDWR);
    ::dup2(devnull, 0);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    ::execvp("redis-server", argv.data());
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      if (error) *error = "redis-server exited at start; see " + (dir_ / "redis.log").string();
      return false;
    }
    try {
      RedisOptions o;
      o.reconnect_deadline_ms = 0;
      o.connect_timeout_ms = 200;
      RedisClient c(ParseRedisUrl(url()), o);
      RedisValue v = c.Command({"PING"});
      if (!v.IsError()) return true;  // LOADING: not yet
    } catch (const std::exception&) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (error) *error = "redis-server did not answer PING within 20 s";
  Kill();
  return false;
}

void RedisServer::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

void RedisServer::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace rlm::testing_redis
