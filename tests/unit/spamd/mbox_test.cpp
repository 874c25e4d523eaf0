#include "core/mime/mbox.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gf::mime {
namespace {

constexpr std::string_view kTwo =
    "From alice@example.org Mon Jan  1 00:00:00 2024\n"
    "Subject: one\n"
    "\n"
    "body one\n"
    ">From the start, this was escaped\n"
    "\n"
    "From bob@example.net Tue Jan  2 00:00:00 2024\n"
    "Subject: two\n"
    "\n"
    "body two\n";

TEST(Mbox, SplitsTwoMessagesAndDropsSeparators) {
  auto box = split_mbox(kTwo);
  ASSERT_TRUE(box.has_value());
  EXPECT_TRUE(box->is_mbox);
  ASSERT_EQ(box->parts.size(), 2U);
  EXPECT_EQ(box->parts[0].separator, "From alice@example.org Mon Jan  1 00:00:00 2024\n");
  EXPECT_EQ(box->parts[0].raw, "Subject: one\n\nbody one\n>From the start, this was escaped\n\n");
  EXPECT_EQ(box->parts[1].raw, "Subject: two\n\nbody two\n");
}

TEST(Mbox, PartsAndSeparatorsTileTheInput) {
  auto box = split_mbox(kTwo);
  ASSERT_TRUE(box.has_value());
  std::string joined;
  for (const MboxPart& p : box->parts) {
    joined.append(p.separator).append(p.raw);
  }
  EXPECT_EQ(joined, kTwo);
}

TEST(Mbox, MessagesAreUnescaped) {
  auto msgs = mbox_messages(kTwo);
  ASSERT_TRUE(msgs.has_value());
  ASSERT_EQ(msgs->size(), 2U);
  EXPECT_EQ((*msgs)[0], "Subject: one\n\nbody one\nFrom the start, this was escaped\n\n");
  EXPECT_EQ(unescape_mboxrd(">>From x\n>From y\n>Fromage\nFrom z\n"),
            ">From x\nFrom y\n>Fromage\nFrom z\n");
}

TEST(Mbox, BodyFromLineWithoutBlankLineOrWeekdayIsNotASeparator) {
  const std::string data =
      "From a@b Mon Jan  1 00:00:00 2024\n"
      "Subject: x\n"
      "\n"
      "From Monday on, we meet\n"  // after a blank line but no " Mon " token
      "From a Mon call\n"          // a weekday but not after a blank line
      "\n"
      "From b@c Wed Jan  3 00:00:00 2024\n"
      "\n"
      "y\n";
  auto box = split_mbox(data);
  ASSERT_TRUE(box.has_value());
  ASSERT_EQ(box->parts.size(), 2U);
  EXPECT_NE(box->parts[0].raw.find("From a Mon call\n"), std::string_view::npos);
  EXPECT_FALSE(is_mbox_separator_at(data, data.find("From Monday")));
  EXPECT_FALSE(is_mbox_separator_at(data, data.find("From a Mon")));
  EXPECT_TRUE(is_mbox_separator_at(data, data.find("From b@c")));
}

TEST(Mbox, CrlfBlankLineBeforeSeparator) {
  const std::string data =
      "From a@b Mon Jan  1 00:00:00 2024\r\nA: 1\r\n\r\nx\r\n\r\n"
      "From b@c Thu Jan  4 00:00:00 2024\r\nB: 2\r\n\r\ny\r\n";
  auto box = split_mbox(data);
  ASSERT_TRUE(box.has_value());
  ASSERT_EQ(box->parts.size(), 2U);
  EXPECT_EQ(box->parts[1].raw, "B: 2\r\n\r\ny\r\n");
}

TEST(Mbox, SingleMessageWithEnvelopeLineStaysWhole) {
  const std::string one = "From a@b Mon Jan  1 00:00:00 2024\nSubject: x\n\nhello\n";
  auto box = split_mbox(one);
  ASSERT_TRUE(box.has_value());
  EXPECT_FALSE(box->is_mbox);
  ASSERT_EQ(box->parts.size(), 1U);
  EXPECT_EQ(box->parts[0].raw, one);
  EXPECT_TRUE(box->parts[0].separator.empty());
}

TEST(Mbox, NotStartingWithSeparatorIsOneMessage) {
  const std::string data =
      "Subject: x\n\nbody\n\nFrom a@b Mon Jan  1 00:00:00 2024\n\n"
      "\nFrom c@d Tue Jan  2 00:00:00 2024\n\nz\n";
  auto msgs = mbox_messages(data);
  ASSERT_TRUE(msgs.has_value());
  ASSERT_EQ(msgs->size(), 1U);
  EXPECT_EQ((*msgs)[0], data);
}

TEST(Mbox, EmptyInputIsOneEmptyMessage) {
  auto msgs = mbox_messages("");
  ASSERT_TRUE(msgs.has_value());
  ASSERT_EQ(msgs->size(), 1U);
  EXPECT_TRUE((*msgs)[0].empty());
}

TEST(Mbox, SeparatorWithoutLineEndingIsNotOne) {
  // The last "From " line has no '\n': it stays in the message before it.
  const std::string data = std::string(kTwo) + "\nFrom c@d Fri Jan  5 00:00:00 2024";
  auto box = split_mbox(data);
  ASSERT_TRUE(box.has_value());
  ASSERT_EQ(box->parts.size(), 2U);
  EXPECT_TRUE(box->parts[1].raw.ends_with("Fri Jan  5 00:00:00 2024"));
}

TEST(Mbox, TooManyMessagesIsAClearError) {
  MboxLimits limits;
  limits.max_messages = 1;
  auto box = split_mbox(kTwo, limits);
  ASSERT_FALSE(box.has_value());
  EXPECT_EQ(box.error().code, Errc::TooLarge);
  EXPECT_NE(box.error().message.find("more than 1 messages"), std::string::npos);
}

TEST(Mbox, OverlongMessageIsAClearError) {
  MboxLimits limits;
  limits.max_message_bytes = 20;
  auto box = split_mbox(kTwo, limits);
  ASSERT_FALSE(box.has_value());
  EXPECT_EQ(box.error().code, Errc::TooLarge);
  EXPECT_NE(box.error().message.find("mbox message 1 (at byte 0)"), std::string::npos);
  auto whole = split_mbox("Subject: a long single message\n\nbody\n", limits);
  ASSERT_FALSE(whole.has_value());
  EXPECT_EQ(whole.error().code, Errc::TooLarge);
}

}  // namespace
}  // namespace gf::mime
