// Helpers of the tests that run the rlm binary. RlmProcess: the binary (RLM_BINARY) as a child process: run
// in `dir`, stdin from /dev/null, stdout and stderr to <dir>/<tag>.out and .err, extra environment variables,
// killed with the test process (PR_SET_PDEATHSIG) and when the object goes away.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace rlm::testing_cli {

inline std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `cmd` with /bin/sh and returns its stdout (tmux commands in the terminal tests).
inline std::string Shell(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

class RlmProcess {
 public:
  RlmProcess(const std::filesystem::path& dir, const std::string& tag, const std::vector<std::string>& args,
             const std::vector<std::string>& env = {})
      : out_(dir / (tag + ".out")), err_(dir / (tag + ".err")) {
    std::filesystem::create_directories(dir);
    // Everything the child needs is made before fork: the test process has threads (test servers), and a
    // child of a threaded process may only call async-signal-safe functions until exec (a malloc lock held
    // by another thread at fork time would hang it; seen under ASan).
    // RLM_TEST_BINARY runs the tests against another build (to show that a test fails on an old one).
    const char* other = std::getenv("RLM_TEST_BINARY");
    std::string bin = other != nullptr && *other != '\0' ? other : RLM_BINARY;
    std::vector<std::string> argv_strings = {bin};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : argv_strings) argv.push_back(a.data());
    argv.push_back(nullptr);
    // The environment: this process's, then `env` (NAME=value) in order, a later entry replacing an earlier
    // one of the same name (as putenv would).
    std::vector<std::string> env_strings;
    auto set = [&](const std::string& entry) {
      const std::string name = entry.substr(0, entry.find('=') + 1);
      for (std::string& e : env_strings) {
        if (e.compare(0, name.size(), name) == 0) {
          e = entry;
          return;
        }
      }
      env_strings.push_back(entry);
    };
    for (char** e = environ; *e != nullptr; ++e) set(*e);
    for (const std::string& e : env) set(e);
    std::vector<char*> envp;
    for (std::string& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    const std::string out_path = out_.string(), err_path = err_.string(), dir_path = dir.string();

    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      int in = ::open("/dev/null", O_RDONLY);
      int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (in < 0 || out < 0 || err < 0 || ::chdir(dir_path.c_str()) != 0) ::_exit(126);
      ::dup2(in, 0);
      ::dup2(out, 1);
      ::dup2(err, 2);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
  }
  ~RlmProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      Wait();
    }
  }
  RlmProcess(const RlmProcess&) = delete;
  RlmProcess& operator=(const RlmProcess&) = delete;

  pid_t pid() const { return pid_; }
  void Signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
  }
  // True once the process has exited (its code is then code()).
  bool Done() {
    if (pid_ < 0) return true;
    int status = 0;
    pid_t r;
    struct rusage usage {};
    while ((r = ::wait4(pid_, &status, WNOHANG, &usage)) < 0 && errno == EINTR) {
    }
    if (r != pid_) return false;
    max_rss_kb_ = usage.ru_maxrss;
    code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    pid_ = -1;
    return true;
  }
  // The exit code, or 128 + signal; -1 when it had to be killed after `timeout_s` (a hang fails the test
  // instead of stalling the suite).
  int Wait(int timeout_s = 600) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    while (!Done()) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        return code_ = -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return code_;
  }
  int code() const { return code_; }
  // The peak resident set of the exited process, in KiB (getrusage's ru_maxrss).
  long max_rss_kb() const { return max_rss_kb_; }
  std::string out() const { return Slurp(out_); }
  std::string err() const { return Slurp(err_); }

 private:
  pid_t pid_ = -1;
  int code_ = -1;
  long max_rss_kb_ = 0;
  std::filesystem::path out_, err_;
};

}  // namespace rlm::testing_cli
