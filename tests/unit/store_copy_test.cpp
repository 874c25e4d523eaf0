// store copy (core/common/store_copy.hpp) between memory stores: everything arrives and is
// verified, skipped records are counted, a non-empty destination is refused, a destination that
// loses a write fails the verification, progress is reported.
#include "core/common/store_copy.hpp"

#include <gtest/gtest.h>

#include "core/common/memory_kv.hpp"
#include "core/greylist/memory_store.hpp"
#include "forwarding_kv.hpp"

namespace gf {
namespace {

using greylist::MemoryStore;
using greylist::Record;

TEST(EntryDigest, IsOrderIndependentAndSeesChanges) {
  EntryDigest a, b, c, d;
  a.add("k1", "v1");
  a.add("k2", "v2");
  b.add("k2", "v2");
  b.add("k1", "v1");
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.count(), 2U);
  c.add("k1", "v1");
  c.add("k2", "v3");
  EXPECT_NE(a.hex(), c.hex());
  d.add("k1v", "1");  // the same bytes split differently
  EntryDigest e;
  e.add("k1", "v1");
  EXPECT_NE(d.hex(), e.hex());
  EXPECT_EQ(a.hex().size(), 32U);
}

TEST(StoreCopy, CopiesEveryGreylistRecordAndVerifies) {
  MemoryStore from, to;
  for (std::uint32_t i = 0; i < 25000; ++i) {
    ASSERT_TRUE(from.put("t:" + std::to_string(i), Record{i, i + 1, i % 7, i}).has_value());
  }
  ASSERT_TRUE(from.put("t:old", Record{1, 1, 0, 0}).has_value());
  std::vector<std::uint64_t> lines;
  auto r = copy_greylist(
      from, to, [](std::string_view k, const Record&) { return k == "t:old"; },
      [&](std::uint64_t read, std::uint64_t) { lines.push_back(read); });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->read, 25001U);
  EXPECT_EQ(r->skipped, 1U);
  EXPECT_EQ(r->copied.count(), 25000U);
  EXPECT_EQ(r->verified, r->copied);
  EXPECT_EQ(to.get("t:24999").value(), (Record{24999, 25000, 24999 % 7, 24999}));
  EXPECT_FALSE(to.get("t:old").value().has_value());
  EXPECT_EQ(lines, (std::vector<std::uint64_t>{10000, 20000, 25001}));
}

TEST(StoreCopy, RefusesADestinationThatHoldsEntries) {
  MemoryStore from, to;
  ASSERT_TRUE(from.put("t:a", Record{}).has_value());
  ASSERT_TRUE(to.put("c:b", Record{}).has_value());
  auto r = copy_greylist(from, to, {}, {});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("already holds greylist entries"), std::string::npos);
  EXPECT_FALSE(to.get("t:a").value().has_value());  // nothing written
}

// A destination that drops one write: the verification notices.
class LossyKv final : public test::ForwardingKv {
 public:
  Result<void> put(std::string_view key, std::string value) override {
    if (key == "k:lost") {
      return {};
    }
    return inner.put(key, std::move(value));
  }
};

TEST(StoreCopy, CopiesEveryKvEntryAndNoticesALostOne) {
  MemoryKv from;
  ASSERT_TRUE(from.put("k:a", std::string("\0x\xff", 3)).has_value());
  ASSERT_TRUE(from.put("c:guid", "check").has_value());
  MemoryKv to;
  auto r = copy_kv(from, to, {});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->copied.count(), 2U);
  EXPECT_EQ(to.get("k:a").value(), std::string("\0x\xff", 3));

  ASSERT_TRUE(from.put("k:lost", "v").has_value());
  LossyKv lossy;
  auto bad = copy_kv(from, lossy, {});
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("holds 2 entries"), std::string::npos) << bad.error().message;
}

}  // namespace
}  // namespace gf
