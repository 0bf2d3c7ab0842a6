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

// The default "type" of JSON errors of a kind, in rlm-rs's CamelCase style, e.g. "InvalidArgument".
const char* ErrorKindName(ErrorKind kind);

// `type` names the error precisely for machines (the JSON "type"); rlm-rs's names are reused where one
// fits ("BufferNotFound", "InvalidUtf8", "OverlapTooLarge", ...). Empty means ErrorKindName(kind).
class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string message, std::string suggestion = "", std::string type = "")
      : std::runtime_error(std::move(message)),
        kind_(kind),
        suggestion_(std::move(suggestion)),
        type_(std::move(type)) {}
  ErrorKind kind() const { return kind_; }
  const std::string& suggestion() const { return suggestion_; }
  std::string type() const { return type_.empty() ? ErrorKindName(kind_) : type_; }

 private:
  ErrorKind kind_;
  std::string suggestion_;
  std::string type_;
};

#define RLM_ERROR_TYPE(Name, Kind)                                                       \
  struct Name : Error {                                                                  \
    explicit Name(std::string m, std::string s = "", std::string t = "")                 \
        : Error(ErrorKind::Kind, std::move(m), std::move(s), std::move(t)) {}            \
  }
RLM_ERROR_TYPE(InvalidInput, kInvalidInput);
RLM_ERROR_TYPE(NotFound, kNotFound);
RLM_ERROR_TYPE(IoError, kIo);
RLM_ERROR_TYPE(StorageError, kStorage);
RLM_ERROR_TYPE(Conflict, kConflict);
#undef RLM_ERROR_TYPE
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
