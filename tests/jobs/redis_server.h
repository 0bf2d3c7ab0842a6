// A real redis-server for tests: started on a free loopback port in a private folder, stopped (or killed,
// or restarted on the same port with the same data) by the test.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

namespace rlm::testing_redis {

class RedisServer {
 public:
  // Does not start anything; Start() does. `appendonly` keeps every write in an AOF (fsync every second,
  // and on shutdown), so a restart finds the data again.
  RedisServer(std::filesystem::path dir, bool appendonly);
  ~RedisServer();

  // True when redis-server is installed (tests skip with a message otherwise).
  static bool Available();

  // Starts the server (on a new free port the first time, the same port afterwards) and waits until it
  // answers PING. The server is killed when the calling thread ends (PR_SET_PDEATHSIG), so a crashed test
  // leaves no server behind: call it from the test's main thread. Returns false with `error` set when it does not come up.
  bool Start(std::string* error = nullptr);
  // SHUTDOWN-like stop: SIGTERM (the server writes its AOF and exits), then waits.
  void Stop();
  void Kill();  // SIGKILL
  bool running() const { return pid_ > 0; }
  int port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

 private:
  std::filesystem::path dir_;
  bool appendonly_;
  int port_ = 0;
  pid_t pid_ = -1;
};

int FreePort();

}  // namespace rlm::testing_redis
