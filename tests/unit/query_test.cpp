// core/common/query: one parameter of a URL query string.
#include "core/common/query.hpp"

#include <gtest/gtest.h>

namespace gf {
namespace {

TEST(Query, FindsTheFirstMatchingParameter) {
  EXPECT_EQ(query_param("range=hour&limit=20", "limit"), "20");
  EXPECT_EQ(query_param("range=hour&range=day", "range"), "hour");
  EXPECT_EQ(query_param("flag&x=1", "flag"), "");
  EXPECT_EQ(query_param("x=", "x"), "");
  EXPECT_FALSE(query_param("", "x").has_value());
  EXPECT_FALSE(query_param("xx=1&y=2", "x").has_value());
  EXPECT_FALSE(query_param("&&", "x").has_value());
}

TEST(Query, DecodesEscapesAndPlus) {
  EXPECT_EQ(query_param("q=a+b%20c%2Fd", "q"), "a b c/d");
  EXPECT_EQ(query_param("na%6De=v", "name"), "v");
  EXPECT_EQ(url_decode("100%"), "100%");  // a broken escape stays as written
  EXPECT_EQ(url_decode("%4"), "%4");
  EXPECT_EQ(url_decode("%zz%41"), "%zzA");
}

}  // namespace
}  // namespace gf
