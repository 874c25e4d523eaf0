// The ASCII fast paths in classify/normalize.cpp (added for mail throughput) must give exactly
// what the utf8proc paths give.
#include <gtest/gtest.h>
#include <utf8proc.h>

#include <cstdlib>
#include <string>

#include "core/classify/normalize.hpp"

namespace gf::classify {
namespace {

std::string reference(const std::string& s) {
  utf8proc_uint8_t* mapped = nullptr;
  const auto options = static_cast<utf8proc_option_t>(
      UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE |
      UTF8PROC_LUMP | UTF8PROC_STRIPNA);
  std::string clean;
  for (char c : s) {
    if (c != 0) {
      clean.push_back(c);
    }
  }
  auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(clean.data()),
                        static_cast<utf8proc_ssize_t>(clean.size()), &mapped, options);
  std::string out(reinterpret_cast<const char*>(mapped), static_cast<std::size_t>(n));
  std::free(mapped);
  return out;
}

TEST(NormalizeAscii, EveryAsciiCharacterMatchesUtf8proc) {
  for (int c = 1; c < 128; ++c) {
    const std::string s = std::string("a") + static_cast<char>(c) + "Z";
    EXPECT_EQ(normalize(s), reference(s)) << c;
  }
  const std::string mixed = "Hello, WORLD!\t\r\n{x}~ 0123 $%&";
  EXPECT_EQ(normalize(mixed), reference(mixed));
  EXPECT_EQ(normalize(std::string("a\0b", 3)), "ab");
}

TEST(NormalizeAscii, CodePointsAndClasses) {
  for (int c = 0; c < 128; ++c) {
    const std::string s(1, static_cast<char>(c));
    std::size_t i = 0;
    EXPECT_EQ(next_code_point(s, i), c);
    EXPECT_EQ(i, 1U);
    utf8proc_int32_t cp = c;
    const bool upper = utf8proc_category(cp) == UTF8PROC_CATEGORY_LU;
    EXPECT_EQ(is_upper(c), upper) << c;
  }
  EXPECT_EQ(classify_code_point('a'), CharClass::Letter);
  EXPECT_EQ(classify_code_point('7'), CharClass::Digit);
  EXPECT_EQ(classify_code_point(' '), CharClass::Space);
  EXPECT_EQ(classify_code_point('\n'), CharClass::Space);
  EXPECT_EQ(classify_code_point('$'), CharClass::Symbol);
  EXPECT_EQ(classify_code_point('!'), CharClass::Punct);
  EXPECT_EQ(classify_code_point(1), CharClass::Other);
  EXPECT_EQ(classify_code_point(0xE9), CharClass::Letter);  // slow path still used above ASCII
}

}  // namespace
}  // namespace gf::classify
