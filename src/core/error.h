// Typed errors that end an operation. The library throws these; the CLI maps them to exit codes and to the
// JSON error object {"success":false,"error":{"type","message","suggestion"}}. Expected outcomes (a search
// with no hits, a cache miss) are plain return values, never exceptions.
#pragma once

#include <cstdint>
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

// What an error is, precisely, for machines: the JSON "type". A closed set, so that one kind of error is
// never spelt two ways; rlm-rs's names are reused where one fits. Add a value (and its name in error.cc)
// for a new kind of error that scripts need to tell apart; otherwise kDefault names the ErrorKind.
enum class ErrorType : uint8_t {
  kDefault,  // ErrorKindName(kind)
// clang-format off
#define RLM_ERROR_TYPES(X) \
  X(AlreadyJudged) \
  X(AmbiguousName) \
  X(BadEmbeddingReply) \
  X(BinaryContent) \
  X(BufferExists) \
  X(BufferNotFound) \
  X(ChunkNotFound) \
  X(DirectoryError) \
  X(EmbedderMismatch) \
  X(EmbeddingRequestRejected) \
  X(EmptyPool) \
  X(ExecutionFailed) \
  X(FileChanged) \
  X(FileNotFound) \
  X(IncompatibleMeasure) \
  X(Interrupted) \
  X(InvalidArgument) \
  X(InvalidConfig) \
  X(InvalidDataset) \
  X(InvalidExperiment) \
  X(InvalidInput) \
  X(InvalidModel) \
  X(InvalidNotes) \
  X(InvalidRedisUrl) \
  X(InvalidUtf8) \
  X(ModelNotFound) \
  X(NoQueries) \
  X(NotATerminal) \
  X(NotInitialized) \
  X(NotRegularFile) \
  X(OutputNotWritable) \
  X(OverlapTooLarge) \
  X(PathTraversalDenied) \
  X(ReadOnlyWorkspace) \
  X(RedisAuth) \
  X(TooLargeToShip) \
  X(UnknownDocument) \
  X(UnknownFormat) \
  X(UnknownMeasure) \
  X(UnknownQuery) \
  X(UnknownStrategy) \
  X(UnsupportedModel)
// clang-format on

#define RLM_ERROR_TYPE_ENUM(Name) k##Name,
  RLM_ERROR_TYPES(RLM_ERROR_TYPE_ENUM)
#undef RLM_ERROR_TYPE_ENUM
};

// "BufferNotFound" for kBufferNotFound; "" for kDefault.
const char* ErrorTypeName(ErrorType type);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string message, std::string suggestion = "",
        ErrorType type = ErrorType::kDefault)
      : std::runtime_error(std::move(message)),
        kind_(kind),
        suggestion_(std::move(suggestion)),
        type_(type) {}
  ErrorKind kind() const { return kind_; }
  const std::string& suggestion() const { return suggestion_; }
  ErrorType error_type() const { return type_; }
  // The JSON "type": ErrorTypeName, or ErrorKindName(kind) for kDefault.
  std::string type() const {
    return type_ == ErrorType::kDefault ? ErrorKindName(kind_) : ErrorTypeName(type_);
  }

 private:
  ErrorKind kind_;
  std::string suggestion_;
  ErrorType type_;
};

#define RLM_ERROR_TYPE(Name, Kind)                                                      \
  struct Name : Error {                                                                 \
    explicit Name(std::string m, std::string s = "", ErrorType t = ErrorType::kDefault) \
        : Error(ErrorKind::Kind, std::move(m), std::move(s), t) {}                      \
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
#define RLM_ASSERT(cond)                                                                           \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      throw ::rlm::InternalError(std::string("assertion failed: " #cond " at ") + __FILE__ + ":" + \
                                 std::to_string(__LINE__));                                        \
  } while (0)
