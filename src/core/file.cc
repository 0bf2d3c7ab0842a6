#include "core/file.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <random>

#include "core/error.h"

namespace rlm {

namespace {

// What a non-regular file is, for messages.
const char* FileKind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "not a regular file";
}

// Pseudo file systems whose files report a size unrelated to what a read returns.
bool IsPseudoFileSystem(int fd) {
  struct statfs fs;
  if (::fstatfs(fd, &fs) != 0) return false;
  switch (static_cast<unsigned long>(fs.f_type)) {
    case PROC_SUPER_MAGIC:
    case SYSFS_MAGIC:
    case DEBUGFS_MAGIC:
    case TRACEFS_MAGIC:
    case SECURITYFS_MAGIC:
    case CGROUP_SUPER_MAGIC:
    case CGROUP2_SUPER_MAGIC:
    case BPF_FS_MAGIC:
      return true;
    default:
      return false;
  }
}

[[noreturn]] void ThrowNotRegular(const std::string& path, const char* kind) {
  throw InvalidInput(path + ": not a regular file (" + kind + ")", "rlm reads regular files only",
                     ErrorType::kNotRegularFile);
}

[[noreturn]] void ThrowChanged(const std::string& path, const std::string& how) {
  throw InvalidInput(path + ": changed while rlm was reading it (" + how + "); nothing was written",
                     "try again when nothing is writing the file", ErrorType::kFileChanged);
}

}  // namespace

InputFile::InputFile(const std::string& path) : path_(path) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below anyway.
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd_ < 0) {
    if (errno == ENOENT)
      throw NotFound("file not found: " + path, "Verify the file path exists", ErrorType::kFileNotFound);
    ThrowErrno("cannot open " + path);
  }
  struct stat st;
  if (::fstat(fd_, &st) != 0) {
    int e = errno;
    ::close(fd_);
    errno = e;
    ThrowErrno("cannot stat " + path);
  }
  const char* kind = !S_ISREG(st.st_mode)      ? FileKind(st.st_mode)
                     : IsPseudoFileSystem(fd_) ? "a /proc or /sys pseudo-file"
                                               : nullptr;
  if (kind != nullptr) {
    ::close(fd_);
    ThrowNotRegular(path, kind);
  }
  // Reads of a regular file never block; clear the flag so they are ordinary reads.
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) & ~O_NONBLOCK);
  size_ = static_cast<uint64_t>(st.st_size);
  mtime_ = st.st_mtim;
}

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

void InputFile::ReadAt(uint64_t offset, size_t len, std::string& out) const {
  if (offset >= size_) return;
  len = static_cast<size_t>(std::min<uint64_t>(len, size_ - offset));
  const size_t base = out.size();
  out.resize(base + len);
  size_t got = 0;
  while (got < len) {
    ssize_t n = ::pread(fd_, out.data() + base + got, len - got, static_cast<off_t>(offset + got));
    if (n < 0) {
      if (errno == EINTR) continue;
      out.resize(base + got);
      ThrowErrno("cannot read " + path_);
    }
    if (n == 0) {
      out.resize(base + got);
      ThrowChanged(path_, "it was " + std::to_string(size_) + " bytes and ends at byte " +
                              std::to_string(offset + got));
    }
    got += static_cast<size_t>(n);
  }
}

void InputFile::CheckUnchanged() const {
  struct stat st;
  if (::fstat(fd_, &st) != 0) ThrowErrno("cannot stat " + path_);
  if (static_cast<uint64_t>(st.st_size) != size_) {
    ThrowChanged(path_, "its size went from " + std::to_string(size_) + " to " + std::to_string(st.st_size) +
                            " bytes");
  }
  if (st.st_mtim.tv_sec != mtime_.tv_sec || st.st_mtim.tv_nsec != mtime_.tv_nsec) {
    ThrowChanged(path_, "it was modified");
  }
}

MappedFile::MappedFile(const std::string& path) {
  InputFile file(path);
  size_ = file.size();
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, file.fd(), 0);
    if (p == MAP_FAILED) ThrowErrno("cannot map " + path);
    ::madvise(p, size_, MADV_SEQUENTIAL);
    data_ = static_cast<const char*>(p);
  }
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<char*>(data_), size_);
}

MappedFile::MappedFile(MappedFile&& o) noexcept : data_(o.data_), size_(o.size_) {
  o.data_ = nullptr;
  o.size_ = 0;
}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    if (data_ != nullptr) ::munmap(const_cast<char*>(data_), size_);
    data_ = o.data_;
    size_ = o.size_;
    o.data_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

std::string ReadFd(int fd, const std::string& name) {
  std::string out;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      ThrowErrno("cannot read " + name);
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string ReadFile(const std::string& path) {
  InputFile file(path);
  std::string s;
  file.ReadAt(0, file.size(), s);
  // A regular file that grew since it was opened: read the rest too.
  if (::lseek(file.fd(), static_cast<off_t>(file.size()), SEEK_SET) < 0) ThrowErrno("cannot read " + path);
  s += ReadFd(file.fd(), path);
  return s;
}

mode_t CheckOutputTarget(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return 0;
    ThrowErrno("cannot write " + path);
  }
  if (!S_ISREG(st.st_mode)) {
    throw InvalidInput(
        "cannot write " + path + ": it exists and is " + FileKind(st.st_mode) + ", not a regular file",
        "choose another output path (rlm replaces regular files only)", ErrorType::kOutputNotWritable);
  }
  return st.st_mode & 07777;
}

int CreateExclusive(const std::string& path, mode_t mode) {
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
}

namespace {
// 16 random hex digits for a temp name.
std::string RandomSuffix() {
  static std::atomic<uint64_t> counter{0};
  uint64_t r = 0;
  if (::getrandom(&r, sizeof r, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof r)) {
    std::random_device rd;
    r = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }
  r ^= counter.fetch_add(1) * 0x9E3779B97F4A7C15ull;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(r));
  return buf;
}
}  // namespace

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  mode_ = CheckOutputTarget(path_);
  const std::string base = std::filesystem::path(path_).filename().string();
  const std::string dir = std::filesystem::path(path_).parent_path().string();
  for (int attempt = 0; attempt < 16 && fd_ < 0; ++attempt) {
    tmp_ = (dir.empty() ? "" : dir + "/") + "." + base + ".tmp-" + RandomSuffix();
    fd_ = CreateExclusive(tmp_, 0644);
    if (fd_ < 0 && errno != EEXIST)
      ThrowErrno("cannot write " + path_ + " (creating a temp file in its folder)");
  }
  if (fd_ < 0) ThrowErrno("cannot write " + path_ + " (creating a temp file in its folder)");
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_.c_str());
  }
}

void AtomicFile::Write(std::string_view data) {
  constexpr size_t kBufferBytes = 1u << 20;  // small writes are gathered; large ones go straight out
  if (buffer_.size() + data.size() > kBufferBytes) Flush();
  if (data.size() > kBufferBytes) {
    WriteAll(data);
  } else {
    buffer_.append(data);
  }
}

void AtomicFile::WriteAll(std::string_view data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd_, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      ThrowErrno("cannot write " + path_);
    }
    off += static_cast<size_t>(n);
  }
}

void AtomicFile::Flush() {
  WriteAll(buffer_);
  buffer_.clear();
}

void AtomicFile::Commit() {
  RLM_ASSERT(fd_ >= 0);
  Flush();
  if (mode_ != 0 && ::fchmod(fd_, mode_) != 0) ThrowErrno("cannot set the mode of " + path_);
  if (::fsync(fd_) != 0) ThrowErrno("cannot write " + path_);
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    int e = errno;
    ::unlink(tmp_.c_str());
    errno = e;
    ThrowErrno("cannot write " + path_);
  }
  // The target may have become something else since the constructor looked: check again just before.
  try {
    CheckOutputTarget(path_);
  } catch (...) {
    ::unlink(tmp_.c_str());
    throw;
  }
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp_.c_str());
    errno = e;
    ThrowErrno("cannot write " + path_);
  }
}

void WriteFileAtomic(const std::string& path, std::string_view data) {
  AtomicFile file(path);
  file.Write(data);
  file.Commit();
}

}  // namespace rlm
