// History rows: the store codec round-trips and rejects malformed bytes; the API's JSON view.
#include "core/history/row.hpp"

#include <gtest/gtest.h>

namespace gf::history {
namespace {

Row sample() {
  Row r;
  r.id = 12;
  r.t_s = 1700000000;
  r.door = Door::Mail;
  r.via = "spamd";
  r.verdict = "spam";
  r.score = 7.25;
  r.summary = "Cheap \"pills\"";
  r.client = "192.0.2.1";
  r.sender = "x@spam.example";
  r.recipient = "u@example.org";
  r.reasons = {{"BAYES_99", 3.5}, {"URI_LOCAL_SPAM", 2.0}};
  r.learned = Class::Ham;
  r.features = std::string("\0\1\2", 3);
  return r;
}

TEST(HistoryRow, EncodeDecodeRoundTrip) {
  const Row r = sample();
  auto d = decode_row(encode_row(r));
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->id, r.id);
  EXPECT_EQ(d->t_s, r.t_s);
  EXPECT_EQ(d->door, Door::Mail);
  EXPECT_EQ(d->verdict, "spam");
  EXPECT_DOUBLE_EQ(d->score, 7.25);
  EXPECT_EQ(d->summary, r.summary);
  EXPECT_EQ(d->reasons, r.reasons);
  EXPECT_EQ(d->learned, Class::Ham);
  EXPECT_EQ(d->features, r.features);
  EXPECT_EQ(encode_row(*d), encode_row(r));
}

TEST(HistoryRow, DecodeRejectsMalformed) {
  const std::string good = encode_row(sample());
  for (std::size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(decode_row(good.substr(0, n))) << "truncated at " << n;
  }
  EXPECT_FALSE(decode_row(good + "x"));
  std::string bad_door = good;
  bad_door[17] = 9;  // format(1) id(8) t(8) -> door
  EXPECT_FALSE(decode_row(bad_door));
  std::string bad_format = good;
  bad_format[0] = 2;
  EXPECT_FALSE(decode_row(bad_format));
}

TEST(HistoryRow, JsonView) {
  Row r = sample();
  const std::string j = row_to_json(r);
  EXPECT_NE(j.find(R"("id":12)"), std::string::npos) << j;
  EXPECT_NE(j.find(R"("door":"mail")"), std::string::npos) << j;
  EXPECT_NE(j.find(R"("score":7.25)"), std::string::npos) << j;
  EXPECT_NE(j.find(R"("summary":"Cheap \"pills\"")"), std::string::npos) << j;
  EXPECT_NE(j.find(R"({"symbol":"BAYES_99","weight":3.5})"), std::string::npos) << j;
  EXPECT_NE(j.find(R"("learnable":true,"learned":"ham"})"), std::string::npos) << j;
  r.features.clear();
  r.learned = Class::None;
  EXPECT_NE(row_to_json(r).find(R"("learnable":false,"learned":null})"), std::string::npos);
}

TEST(HistoryRow, JsonQuoteEscapes) {
  EXPECT_EQ(json_quote("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(json_quote("tab\there"), R"("tab?here")");
  EXPECT_EQ(json_quote("\xff"), R"("?")");
  EXPECT_EQ(json_quote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
}

TEST(HistoryRow, Names) {
  EXPECT_EQ(parse_door("comments"), Door::Comments);
  EXPECT_FALSE(parse_door("comment"));
  EXPECT_EQ(to_string(Door::Flux), "flux");
  EXPECT_EQ(parse_class("spam"), Class::Spam);
  EXPECT_FALSE(parse_class("SPAM"));
}

}  // namespace
}  // namespace gf::history
