#include "jobs/resp_bounds.h"

#include <string>

#include "core/error.h"

namespace rlm {
namespace {

// hiredis 0.14 supports 7 levels of nested arrays and reports deeper ones as a protocol error itself; the
// checker stops there too, so its stack stays small.
constexpr size_t kMaxDepth = 7;

}  // namespace

void RespBoundsChecker::Fail(const std::string& what) const {
  throw IoError("malformed Redis reply: " + what);
}

void RespBoundsChecker::ItemDone() {
  while (!open_.empty()) {
    if (--open_.back() > 0) return;
    open_.pop_back();  // the array is complete: it was one item of its parent
  }
  announced_ = 0;  // a top-level reply is complete
}

void RespBoundsChecker::Feed(std::string_view bytes) {
  size_t i = 0;
  while (i < bytes.size()) {
    switch (state_) {
      case State::kType: {
        const char c = bytes[i++];
        if (c == '+' || c == '-' || c == ':') {
          state_ = State::kLine;
          line_bytes_ = 0;
          cr_ = false;
        } else if (c == '$' || c == '*') {
          state_ = State::kNumber;
          kind_ = c;
          negative_ = false;
          digits_ = 0;
          number_ = 0;
          cr_ = false;
        } else {
          Fail("unknown reply type byte " + std::to_string(static_cast<unsigned char>(c)));
        }
        break;
      }
      case State::kLine: {
        const size_t nl = bytes.find('\n', i);
        const size_t end = nl == std::string_view::npos ? bytes.size() : nl;
        if (end > i) cr_ = bytes[end - 1] == '\r';
        line_bytes_ += static_cast<int64_t>(end - i);
        if (line_bytes_ > limits_.max_bulk) {
          Fail("a status line of over " + std::to_string(limits_.max_bulk) + " bytes");
        }
        if (nl == std::string_view::npos) {
          i = bytes.size();
          break;
        }
        i = nl + 1;
        if (cr_) {
          state_ = State::kType;
          ItemDone();
        } else {
          ++line_bytes_;  // a bare '\n' is part of the line, as hiredis reads up to "\r\n"
        }
        break;
      }
      case State::kNumber: {
        const char c = bytes[i++];
        const char* what = kind_ == '*' ? "array length" : "string length";
        if (cr_) {
          if (c != '\n') Fail(std::string("a ") + what + " not followed by CRLF");
          cr_ = false;
          if (digits_ == 0) Fail(std::string("an empty ") + what);
          if (negative_) {  // only -1 (nil) is valid
            if (number_ != 1) Fail(std::string("a negative ") + what + " -" + std::to_string(number_));
            state_ = State::kType;
            ItemDone();
          } else if (kind_ == '$') {
            state_ = State::kBulkBody;
            body_left_ = number_ + 2;
          } else if (number_ == 0) {
            state_ = State::kType;
            ItemDone();
          } else {
            if (open_.size() >= kMaxDepth) Fail("arrays nested deeper than " + std::to_string(kMaxDepth));
            announced_ += number_;
            if (announced_ > limits_.max_elements) {
              Fail("arrays of " + std::to_string(announced_) + " elements in one reply, over the limit of " +
                   std::to_string(limits_.max_elements));
            }
            open_.push_back(number_);
            state_ = State::kType;
          }
        } else if (c == '\r') {
          cr_ = true;
        } else if (c == '-' && digits_ == 0 && !negative_) {
          negative_ = true;
        } else if (c >= '0' && c <= '9') {
          ++digits_;
          number_ = number_ * 10 + (c - '0');
          const int64_t limit = kind_ == '*' ? limits_.max_elements : limits_.max_bulk;
          if (number_ > limit && !negative_) {
            // Refused as soon as it is over, before the rest of the header (or the body) arrives.
            std::string shown = std::to_string(number_);
            while (i < bytes.size() && bytes[i] >= '0' && bytes[i] <= '9' && shown.size() < 20)
              shown += bytes[i++];
            Fail(kind_ == '*'
                     ? "an array of " + shown + " elements, over the limit of " + std::to_string(limit)
                     : "a string of " + shown + " bytes, over the limit of " + std::to_string(limit));
          }
          if (number_ > 1 && negative_) Fail(std::string("a negative ") + what);
        } else {
          Fail(std::string("a ") + what + " with the byte " + std::to_string(static_cast<unsigned char>(c)));
        }
        break;
      }
      case State::kBulkBody: {
        const int64_t take = std::min<int64_t>(body_left_, static_cast<int64_t>(bytes.size() - i));
        i += static_cast<size_t>(take);
        body_left_ -= take;
        if (body_left_ == 0) {
          state_ = State::kType;
          ItemDone();
        }
        break;
      }
    }
  }
}

}  // namespace rlm
