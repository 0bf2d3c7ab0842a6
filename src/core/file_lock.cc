#include "core/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace rlm {

namespace {

// The pid recorded in the lock file, or "" when there is none (a holder between lock and write).
std::string ReadHolder(int fd) {
  char buf[32];
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return "";
  std::string s(buf, static_cast<size_t>(n));
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) return "";
  return s;
}

}  // namespace

FileLock::FileLock(const std::string& path, Wait wait, std::string_view what) : lock_path_(path + ".lock") {
  fd_ = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) ThrowErrno("cannot create the lock file " + lock_path_);
  int rc;
  while ((rc = ::flock(fd_, LOCK_EX | (wait == Wait::kFailFast ? LOCK_NB : 0))) != 0 && errno == EINTR) {
  }
  if (rc != 0) {
    const int e = errno;
    const std::string holder = ReadHolder(fd_);
    ::close(fd_);
    fd_ = -1;
    if (e == EWOULDBLOCK) {
      throw Conflict(std::string(what) + " " + path + " is in use by " +
                         (holder.empty() ? std::string("another process") : "process " + holder) + " (lock " +
                         lock_path_ + ")",
                     "wait for that process to finish, or stop it; the lock goes away with it");
    }
    errno = e;
    ThrowErrno("cannot lock " + lock_path_);
  }
  // Best effort: the pid only improves the message another process prints.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) == 0) {
    [[maybe_unused]] ssize_t n = ::pwrite(fd_, pid.data(), pid.size(), 0);
  }
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor of the open file releases the lock
}

}  // namespace rlm
