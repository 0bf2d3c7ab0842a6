#include "core/error.h"

#include <cerrno>
#include <cstring>

namespace rlm {

const char* ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidInput:
      return "InvalidArgument";
    case ErrorKind::kNotFound:
      return "NotFound";
    case ErrorKind::kIo:
      return "IoError";
    case ErrorKind::kStorage:
      return "DatabaseError";
    case ErrorKind::kConflict:
      return "Conflict";
    case ErrorKind::kInternal:
      return "InternalError";
  }
  return "InternalError";
}

const char* ErrorTypeName(ErrorType type) {
  switch (type) {
    case ErrorType::kDefault:
      return "";
#define RLM_ERROR_TYPE_NAME(Name) \
  case ErrorType::k##Name:        \
    return #Name;
      RLM_ERROR_TYPES(RLM_ERROR_TYPE_NAME)
#undef RLM_ERROR_TYPE_NAME
  }
  return "";
}

void ThrowErrno(const std::string& what) {
  int e = errno;
  throw IoError(what + ": " + std::strerror(e));
}

}  // namespace rlm
