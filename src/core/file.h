// Reading and writing files: regular files only, read in windows (pread) for loads, memory maps for the
// derived indexes rlm writes itself, whole-file reads for small inputs, and atomic replacement (a temp file
// created exclusively beside the target, then rename) for every file rlm writes.
//
// Inputs: everything here opens without blocking and refuses what is not a regular file (a directory,
// FIFO, socket or device, and the pseudo-files of /proc and /sys, whose size says nothing of their
// content), naming the path, before any bytes are read; so `rlm load fifo` never waits on a writer and
// /dev/zero is never read.
//
// Outputs: the target may be a regular file (replaced; its permission bits are kept) or absent (created
// 0644 less the umask). A symbolic link, directory, FIFO, socket or device at the target is refused. The
// temp file has a random name and is created with O_CREAT|O_EXCL|O_NOFOLLOW, so a link planted in the
// folder is never followed.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace rlm {

// A read-only memory map of a whole file. Movable, not copyable. An empty file maps to an empty view.
class MappedFile {
 public:
  MappedFile() = default;
  // Throws NotFound when the file does not exist, IoError when it cannot be opened or mapped.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::string_view view() const { return {data_, size_}; }
  size_t size() const { return size_; }

 private:
  const char* data_ = nullptr;
  size_t size_ = 0;
};

// A regular file open for reading. Throws NotFound when `path` does not exist, InvalidInput (type
// NotRegularFile) when it is not a regular file (see above), IoError when it cannot be opened.
class InputFile {
 public:
  explicit InputFile(const std::string& path);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  const std::string& path() const { return path_; }
  uint64_t size() const { return size_; }  // at open
  int fd() const { return fd_; }
  // Reads [offset, offset + len) clipped to size() into `out` (appended). Throws InvalidInput (type
  // FileChanged) when the file ends before size(): it was truncated since it was opened.
  void ReadAt(uint64_t offset, size_t len, std::string& out) const;
  // Throws InvalidInput (type FileChanged) when the file's size or modification time is no longer what it
  // was at open.
  void CheckUnchanged() const;

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
  struct timespec mtime_ = {};
};

// Reads all of `path` (a regular file, see InputFile) into a string. Throws NotFound / InvalidInput /
// IoError.
std::string ReadFile(const std::string& path);
// Reads a file descriptor (e.g. stdin) to its end.
std::string ReadFd(int fd, const std::string& name);
// A file written atomically: bytes go to an exclusively created temp file beside `path`; Commit() fsyncs
// it, gives it the permission bits of the file it replaces, and renames it over `path`. Without Commit()
// the temp file is removed and `path` is untouched. The constructor refuses a target that is not a regular
// file or absent (InvalidInput, type OutputNotWritable) and throws IoError when the folder does not take
// the temp file. Errors name `path`.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void Write(std::string_view data);
  void Commit();

 private:
  std::string path_;
  std::string tmp_;
  int fd_ = -1;
  mode_t mode_ = 0;  // of the replaced file; 0 when `path` did not exist
  std::string buffer_;
  void Flush();
  void WriteAll(std::string_view data);
};

// Writes `data` to `path` atomically (an AtomicFile). Throws InvalidInput / IoError naming `path`.
void WriteFileAtomic(const std::string& path, std::string_view data);

// Creates `path` with O_CREAT|O_EXCL|O_NOFOLLOW (never follows or reuses anything already there) and
// returns the descriptor, or -1 with errno set.
int CreateExclusive(const std::string& path, mode_t mode);

// Refuses (InvalidInput, type OutputNotWritable) a target path that exists and is not a regular file: a
// symbolic link, directory, FIFO, socket or device. Returns the target's permission bits, 0 when absent.
mode_t CheckOutputTarget(const std::string& path);

}  // namespace rlm
