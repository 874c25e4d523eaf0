// constant_time_equal: the comparison for secrets (API keys, admin tokens).
#include "core/common/constant_time.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gf {
namespace {

TEST(ConstantTime, EqualOnlyForTheSameBytes) {
  EXPECT_TRUE(constant_time_equal("abcdef012345", "abcdef012345"));
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_FALSE(constant_time_equal("abcdef012346", "abcdef012345"));  // last byte
  EXPECT_FALSE(constant_time_equal("bbcdef012345", "abcdef012345"));  // first byte
  EXPECT_FALSE(constant_time_equal(std::string("ab\0", 3), std::string("ab\1", 3)));
}

TEST(ConstantTime, OtherLengthsAreUnequal) {
  EXPECT_FALSE(constant_time_equal("abc", "abcabc"));  // a repeating prefix is no match
  EXPECT_FALSE(constant_time_equal("abcabc", "abc"));
  EXPECT_FALSE(constant_time_equal("", "a"));
  EXPECT_FALSE(constant_time_equal("a", ""));
}

}  // namespace
}  // namespace gf
