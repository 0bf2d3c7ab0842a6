// Reading and writing files: memory maps for large inputs and derived indexes, whole-file reads for small
// ones, and atomic replacement (temp file + rename) for anything another process may read concurrently.
#pragma once

#include <cstddef>
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
  // Tells the kernel that [offset, offset+len) will not be read again soon, so its pages leave this
  // process's resident set (the page cache keeps them). Used to bound RSS while streaming huge files.
  void Release(size_t offset, size_t len) const;

 private:
  const char* data_ = nullptr;
  size_t size_ = 0;
};

// Reads all of `path` into a string. Throws NotFound / IoError.
std::string ReadFile(const std::string& path);
// Reads a file descriptor (e.g. stdin) to its end.
std::string ReadFd(int fd, const std::string& name);
// Writes `data` to `path` atomically: a temp file in the same folder, fsync, rename. Throws IoError.
void WriteFileAtomic(const std::string& path, std::string_view data);

}  // namespace rlm
