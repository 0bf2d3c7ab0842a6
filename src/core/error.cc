#include "core/error.h"

#include <cerrno>
#include <cstring>

namespace rlm {

const char* ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidInput: return "invalid_input";
    case ErrorKind::kNotFound: return "not_found";
    case ErrorKind::kIo: return "io_error";
    case ErrorKind::kStorage: return "storage_error";
    case ErrorKind::kConflict: return "conflict";
    case ErrorKind::kInternal: return "internal_error";
  }
  return "internal_error";
}

void ThrowErrno(const std::string& what) {
  int e = errno;
  throw IoError(what + ": " + std::strerror(e));
}

}  // namespace rlm
