#include "core/error.h"

#include <cerrno>
#include <cstring>

namespace rlm {

const char* ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidInput: return "InvalidArgument";
    case ErrorKind::kNotFound: return "NotFound";
    case ErrorKind::kIo: return "IoError";
    case ErrorKind::kStorage: return "DatabaseError";
    case ErrorKind::kConflict: return "Conflict";
    case ErrorKind::kInternal: return "InternalError";
  }
  return "InternalError";
}

void ThrowErrno(const std::string& what) {
  int e = errno;
  throw IoError(what + ": " + std::strerror(e));
}

}  // namespace rlm
