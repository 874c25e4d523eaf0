#include "core/greylist/sender.hpp"

#include <gtest/gtest.h>

namespace gf::greylist {
namespace {

TEST(Sender, LowercasesAndStripsExtensions) {
  EXPECT_EQ(normalize_sender("Alice+News@Example.COM"), "alice@example.com");
  EXPECT_EQ(normalize_sender("<bob@example.com>"), "bob@example.com");
}

TEST(Sender, NullSenderStaysEmpty) { EXPECT_EQ(normalize_sender(""), ""); }

TEST(Sender, UnwrapsBatvInBothOrders) {
  EXPECT_EQ(normalize_sender("prvs=1234a5b6c7=alice@example.com"), "alice@example.com");
  EXPECT_EQ(normalize_sender("prvs=alice=1234a5b6c7@example.com"), "alice@example.com");
  EXPECT_EQ(normalize_sender("msprvs1=17abcdefghij=bounces@example.com"), "bounces@example.com");
}

TEST(Sender, UnwrapsSrs0AndSrs1ToTheOriginalSender) {
  EXPECT_EQ(normalize_sender("SRS0=HHH=TT=orig.example=alice@forwarder.example"),
            "alice@orig.example");
  EXPECT_EQ(normalize_sender("SRS0+x1y2=AB=orig.example=alice+tag@fwd.example"),
            "alice@orig.example");
  EXPECT_EQ(normalize_sender("SRS1=HHH=first.example==HHH=TT=orig.example=alice@second.example"),
            "alice@orig.example");
  EXPECT_EQ(normalize_sender("srs0=broken@fwd.example"), "srs0=broken@fwd.example");
}

TEST(Sender, NormalisingTwiceChangesNothing) {
  // Found by fuzz_sender: one pass left an inner SRS wrapper, brackets or spaces behind.
  for (const char* s : {"SRS0=H=T=orig=SRS1=H=f1==H=T=orig=al@f2alice@f",
                        "SRS0=HHH=TT=mid.example=SRS0=HHH=TT=orig.example=alice@mid@fwd.example",
                        "<<alice@example.com>>", "srs0=h=t= d =x@f", "srs0=h=t=d>=<x@f"}) {
    const std::string once = normalize_sender(s);
    EXPECT_EQ(normalize_sender(once), once) << s;
  }
  EXPECT_EQ(normalize_sender("SRS0=H=T=orig=SRS1=H=f1==H=T=orig=al@f2alice@f"), "al@f2alice@orig");
  EXPECT_EQ(normalize_sender("<<alice@example.com>>"), "alice@example.com");
  // Found by fuzz_sender at depth: each pass strips one pair; seven pairs deep must still end.
  EXPECT_EQ(normalize_sender("<<<<<<<>>>>>>>>"), ">");
  EXPECT_EQ(normalize_sender("<<<<<<<<<<bob@example.com>>>>>>>>>>"), "bob@example.com");
}

TEST(Sender, FoldsVerpDigitRuns) {
  EXPECT_EQ(normalize_sender("bounce-12345-67@lists.example.com"), "bounce-#-#@lists.example.com");
  EXPECT_EQ(normalize_sender("user123@example.com"), "user123@example.com");
  EXPECT_EQ(normalize_sender("123@example.com"), "#@example.com");
}

TEST(Sender, AddressDomain) {
  EXPECT_EQ(address_domain("a@b.example"), "b.example");
  EXPECT_EQ(address_domain("nodomain"), "");
}

}  // namespace
}  // namespace gf::greylist
