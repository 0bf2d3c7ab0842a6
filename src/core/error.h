// Typed errors that end an operation. The library throws these; the CLI maps them to exit codes and to the
// JSON error object {"success":false,"error":{"type","message","suggestion"}}. Expected outcomes (a search
// with no hits, a cache miss) are plain return values, never exceptions.
#pragma once

#include <stdexcept>
#include <string>

namespace rlm {

enum class ErrorKind {
  kInvalidInput,  // the user's input is wrong: bad flag value, invalid UTF-8, malformed file
  kNotFound,      // a named thing does not exist: buffer, chunk, file
  kIo,            // the operating system refused: open, read, write, mmap
  kStorage,       // SQLite failed
  kConflict,      // the request clashes with existing state: name taken, workspace exists
  kInternal,      // a bug: an invariant did not hold
};

// Returns the stable snake_case name used as the "type" of JSON errors, e.g. "invalid_input".
const char* ErrorKindName(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string message, std::string suggestion = "")
      : std::runtime_error(std::move(message)), kind_(kind), suggestion_(std::move(suggestion)) {}
  ErrorKind kind() const { return kind_; }
  const std::string& suggestion() const { return suggestion_; }

 private:
  ErrorKind kind_;
  std::string suggestion_;
};

struct InvalidInput : Error {
  explicit InvalidInput(std::string m, std::string s = "") : Error(ErrorKind::kInvalidInput, std::move(m), std::move(s)) {}
};
struct NotFound : Error {
  explicit NotFound(std::string m, std::string s = "") : Error(ErrorKind::kNotFound, std::move(m), std::move(s)) {}
};
struct IoError : Error {
  explicit IoError(std::string m, std::string s = "") : Error(ErrorKind::kIo, std::move(m), std::move(s)) {}
};
struct StorageError : Error {
  explicit StorageError(std::string m, std::string s = "") : Error(ErrorKind::kStorage, std::move(m), std::move(s)) {}
};
struct Conflict : Error {
  explicit Conflict(std::string m, std::string s = "") : Error(ErrorKind::kConflict, std::move(m), std::move(s)) {}
};
struct InternalError : Error {
  explicit InternalError(std::string m) : Error(ErrorKind::kInternal, std::move(m)) {}
};

// Throws IoError naming `what` and strerror(errno).
[[noreturn]] void ThrowErrno(const std::string& what);

}  // namespace rlm

// Programmer-error check, active in every build: a failed RLM_ASSERT is a bug, reported as InternalError.
#define RLM_ASSERT(cond)                                                                                  \
  do {                                                                                                    \
    if (!(cond)) throw ::rlm::InternalError(std::string("assertion failed: " #cond " at ") + __FILE__ + \
                                            ":" + std::to_string(__LINE__));                              \
  } while (0)
