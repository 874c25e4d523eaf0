#include "io/dns/psl.hpp"

#include <gtest/gtest.h>

namespace gf::io {
namespace {

TEST(PublicSuffixList, RegistrableDomainsAreExactWithTheParentCache) {
  PublicSuffixList psl;
  ASSERT_TRUE(psl.loaded());
  // Twice each: the second answer comes from the cache and must not differ.
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(psl.registrable_domain("mail-a.outbound.protection.outlook.com"), "outlook.com");
    EXPECT_EQ(psl.registrable_domain("mail-b.outbound.protection.outlook.com"), "outlook.com");
    EXPECT_EQ(psl.registrable_domain("foo.co.uk"), "foo.co.uk");
    EXPECT_EQ(psl.registrable_domain("bar.co.uk"), "bar.co.uk");
    EXPECT_EQ(psl.registrable_domain("mx.bar.co.uk"), "bar.co.uk");
    EXPECT_EQ(psl.registrable_domain("mail-sor-f41.google.com."), "google.com");
    EXPECT_EQ(psl.registrable_domain("co.uk"), "");
    EXPECT_EQ(psl.registrable_domain(""), "");
  }
}

}  // namespace
}  // namespace gf::io
