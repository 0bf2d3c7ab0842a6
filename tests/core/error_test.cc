#include "core/error.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace rlm {
namespace {

// The JSON "type" of an error is one of a closed set of names: every value has one, none is spelt twice.
TEST(ErrorType, EveryTypeHasOneDistinctName) {
  std::set<std::string> names;
  size_t count = 0;
#define RLM_COUNT_TYPE(Name)                                                     \
  ++count;                                                                       \
  EXPECT_EQ(std::string(ErrorTypeName(ErrorType::k##Name)), std::string(#Name)); \
  names.insert(ErrorTypeName(ErrorType::k##Name));
  RLM_ERROR_TYPES(RLM_COUNT_TYPE)
#undef RLM_COUNT_TYPE
  EXPECT_EQ(names.size(), count);
  EXPECT_STREQ(ErrorTypeName(ErrorType::kDefault), "");
}

TEST(ErrorType, DefaultTypeIsTheKindsName) {
  EXPECT_EQ(InvalidInput("x").type(), "InvalidArgument");
  EXPECT_EQ(NotFound("x").type(), "NotFound");
  EXPECT_EQ(NotFound("x", "", ErrorType::kBufferNotFound).type(), "BufferNotFound");
  EXPECT_EQ(NotFound("x", "", ErrorType::kBufferNotFound).error_type(), ErrorType::kBufferNotFound);
}

}  // namespace
}  // namespace rlm
