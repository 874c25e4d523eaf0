// Admin tokens: the hash, the constant-time compare, the token format, and the store's
// create / list / revoke / verify on a MemoryKv (the same KvStore port LMDB and Redis serve).
#include "core/admin/tokens.hpp"

#include <gtest/gtest.h>

#include <set>

#include "core/common/memory_kv.hpp"

namespace gf::admin {
namespace {

TEST(AdminTokens, Sha256MatchesTheFipsVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(AdminTokens, ConstantTimeEqualComparesContentsAndLengths) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
  EXPECT_FALSE(constant_time_equal("", "a"));
}

TEST(AdminTokens, RandomSecretIs256BitsOfBase64Url) {
  SplitMix64 rng(7);
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string s = random_secret(rng, "gfa_");
    ASSERT_EQ(s.size(), 4u + 43u) << s;
    EXPECT_TRUE(s.starts_with("gfa_"));
    EXPECT_EQ(
        s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 4),
        std::string::npos)
        << s;
    seen.insert(s);
  }
  EXPECT_EQ(seen.size(), 100u);
  // The same seed gives the same secrets (injected randomness).
  SplitMix64 a(1), b(1);
  EXPECT_EQ(random_secret(a, ""), random_secret(b, ""));
}

TEST(AdminTokens, CreateStoresOnlyTheHashAndVerifyFindsIt) {
  MemoryKv kv;
  SplitMix64 rng(42);
  TokenStore store(kv);
  auto t = store.create(rng, "ops", 1000);
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_TRUE(t->token.starts_with(kTokenPrefix));
  EXPECT_EQ(t->info.hash, sha256_hex(t->token));
  EXPECT_EQ(t->info.id, t->info.hash.substr(0, kTokenIdChars));
  // Nothing in the store holds the token itself.
  std::size_t entries = 0;
  ASSERT_TRUE(kv.scan("", [&](std::string_view key, std::string_view value) {
    ++entries;
    EXPECT_EQ(key, std::string(kTokenKeyPrefix) + t->info.hash);
    EXPECT_EQ(key.find(t->token), std::string_view::npos);
    EXPECT_EQ(value.find(t->token), std::string_view::npos);
    return true;
  }));
  EXPECT_EQ(entries, 1u);
  auto found = store.verify(t->token);
  ASSERT_TRUE(found);
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(**found, t->info);
  EXPECT_EQ((*found)->name, "ops");
  EXPECT_EQ((*found)->created_s, 1000);
  auto exists = store.exists(t->info.hash);
  ASSERT_TRUE(exists);
  EXPECT_TRUE(*exists);
}

TEST(AdminTokens, WrongOrMalformedTokensAreNotFound) {
  MemoryKv kv;
  SplitMix64 rng(1);
  TokenStore store(kv);
  auto t = store.create(rng, "", 5);
  ASSERT_TRUE(t);
  std::string wrong = t->token;
  wrong.back() = wrong.back() == 'A' ? 'B' : 'A';
  for (const std::string& bad :
       {wrong, std::string(), std::string("gfa_"), t->token.substr(4), t->info.hash,
        std::string(kTokenKeyPrefix) + t->info.hash, std::string(4000, 'x')}) {
    auto r = store.verify(bad);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->has_value()) << bad;
  }
}

TEST(AdminTokens, ListIsOldestFirstAndRevokeByIdOrUniqueName) {
  MemoryKv kv;
  SplitMix64 rng(3);
  TokenStore store(kv);
  auto a = store.create(rng, "ci", 300);
  auto b = store.create(rng, "ui", 100);
  auto c = store.create(rng, "ui", 200);
  ASSERT_TRUE(a && b && c);
  auto all = store.list();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0], b->info);
  EXPECT_EQ((*all)[1], c->info);
  EXPECT_EQ((*all)[2], a->info);

  auto shared = store.revoke("ui");
  ASSERT_FALSE(shared);
  EXPECT_EQ(shared.error().code, Errc::InvalidInput);
  auto none = store.revoke("nobody");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Errc::NotFound);
  EXPECT_EQ(store.revoke("").error().code, Errc::NotFound);

  auto by_name = store.revoke("ci");
  ASSERT_TRUE(by_name);
  EXPECT_EQ(by_name->id, a->info.id);
  auto by_id = store.revoke(b->info.id);
  ASSERT_TRUE(by_id);
  EXPECT_EQ(by_id->name, "ui");

  EXPECT_FALSE(store.verify(a->token)->has_value());
  EXPECT_FALSE(store.verify(b->token)->has_value());
  EXPECT_TRUE(store.verify(c->token)->has_value());
  EXPECT_FALSE(*store.exists(a->info.hash));
  ASSERT_EQ(store.list()->size(), 1u);
}

TEST(AdminTokens, NamesAreCheckedAndRecordsRoundTrip) {
  MemoryKv kv;
  SplitMix64 rng(9);
  TokenStore store(kv);
  EXPECT_FALSE(store.create(rng, "has space", 1));
  EXPECT_FALSE(store.create(rng, "tab\there", 1));
  EXPECT_FALSE(store.create(rng, std::string(kMaxTokenNameBytes + 1, 'a'), 1));
  EXPECT_TRUE(store.create(rng, std::string(kMaxTokenNameBytes, 'a'), 1));
  EXPECT_TRUE(store.create(rng, "ops@example.org:ci-1_x", 1));

  TokenInfo info{std::string(64, 'a'), std::string(kTokenIdChars, 'a'), "n.1", 1234567890};
  auto back = decode_token_record(info.hash, encode_token_record(info));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, info);
  for (std::string_view bad : {"", "1", "1\t", "2\t5\tx", "1\tx\tn", "1\t5", "1\t-\tn",
                               "1\t5\tbad name", "1\t\tn", "1\t007\tn", "1\t-0\tn"}) {
    EXPECT_FALSE(decode_token_record(info.hash, bad)) << bad;
  }
  EXPECT_FALSE(decode_token_record("abc", "1\t5\tn"));
  EXPECT_FALSE(decode_token_record(std::string(64, 'G'), "1\t5\tn"));
}

// A record that does not decode (written by something else, or damaged) is skipped by list()
// and is no valid token.
TEST(AdminTokens, DamagedRecordsAreSkipped) {
  MemoryKv kv;
  SplitMix64 rng(11);
  TokenStore store(kv);
  auto t = store.create(rng, "ok", 1);
  ASSERT_TRUE(t);
  const std::string token2 = "gfa_damaged";
  ASSERT_TRUE(kv.put(std::string(kTokenKeyPrefix) + sha256_hex(token2), "garbage"));
  ASSERT_TRUE(kv.put(std::string(kTokenKeyPrefix) + "short", "1\t1\tx"));
  EXPECT_EQ(store.list()->size(), 1u);
  EXPECT_FALSE(store.verify(token2)->has_value());
}

}  // namespace
}  // namespace gf::admin
