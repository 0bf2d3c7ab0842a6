// Bounds on what a Redis reply may announce, checked on the raw bytes before hiredis's reader sees them.
// hiredis 0.14 (Debian 12) trusts the headers: "*1122222222\r\n" makes it allocate 9 GB of element
// pointers, and its reader has no maxelements/maxbulklen settings. RespBoundsChecker follows the RESP
// structure across any split of the byte stream (headers, bulk bodies skipped by length, nesting) and
// refuses an array count or bulk length over the limits, counting every array announced within one
// top-level reply against one budget, so nested arrays cannot multiply it.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace rlm {

struct RespLimits {
  int64_t max_elements = int64_t{1} << 20;  // array elements announced in one reply, nested ones included
  int64_t max_bulk = int64_t{512} << 20;    // bytes of one string or one status/error line
};

// Not thread-safe; one per connection (or per parsed buffer).
class RespBoundsChecker {
 public:
  explicit RespBoundsChecker(RespLimits limits = {}) : limits_(limits) {}

  // Checks the next bytes of the stream. Throws IoError ("malformed Redis reply: ...") on a count or length
  // over the limits, a malformed header or an unknown type byte; the stream is unusable after that.
  void Feed(std::string_view bytes);

 private:
  enum class State { kType, kLine, kNumber, kBulkBody };
  void ItemDone();
  [[noreturn]] void Fail(const std::string& what) const;

  RespLimits limits_;
  State state_ = State::kType;
  char kind_ = 0;  // '$' or '*' while reading a number
  bool negative_ = false;
  int digits_ = 0;
  int64_t number_ = 0;
  bool cr_ = false;  // the previous byte was '\r'
  int64_t line_bytes_ = 0;
  int64_t body_left_ = 0;      // bytes of the bulk body and its CRLF still to skip
  int64_t announced_ = 0;      // elements announced in the current top-level reply
  std::vector<int64_t> open_;  // elements still expected by each open array, innermost last
};

}  // namespace rlm
