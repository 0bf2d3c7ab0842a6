// An advisory lock between processes on a file that is read, changed and written back whole (the model
// registry) or appended to by one owner at a time (judge's qrels). The lock is flock(2) on a sibling file
// `<path>.lock`, never on the file itself, so the locked file can still be replaced by rename. The lock file
// holds the pid of the process that holds the lock (for the message a refused process prints); it is left in
// place afterwards, because deleting a lock file that another process has open and is about to lock would
// let two processes hold "the" lock. The kernel releases the lock when its holder exits, kill -9 included.
//
// Not for locking between threads of one process: flock locks belong to the open file description, and each
// FileLock opens its own, so two FileLocks on one path in one process exclude each other like two processes.
#pragma once

#include <string>
#include <string_view>

namespace rlm {

class FileLock {
 public:
  enum class Wait { kBlock, kFailFast };
  // Locks `<path>.lock` (creating it and, with its folder missing, nothing else: the caller creates folders)
  // exclusively. kBlock waits for the holder; kFailFast throws Conflict "<what> <path> is in use by process
  // <pid>" when another holds it. `what` names the file's role in messages ("qrels file"). Throws IoError
  // naming the lock file when it cannot be created or locked.
  FileLock(const std::string& path, Wait wait, std::string_view what);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

  const std::string& lock_path() const { return lock_path_; }

 private:
  std::string lock_path_;
  int fd_ = -1;
};

}  // namespace rlm
