// Greylist::begin() + finish(): the two halves of check() that the policy server runs around a
// read that does not block (a Redis store). Pure: the "networked" store below answers when the
// test says so.
#include <gtest/gtest.h>

#include <deque>
#include <variant>

#include "core/greylist/greylist.hpp"
#include "core/greylist/memory_store.hpp"

namespace gf::greylist {
namespace {

policy::Request rcpt(const std::string& client, const std::string& sender) {
  policy::Request r;
  r.request = "smtpd_access_policy";
  r.protocol_state = "RCPT";
  r.client_address = client;
  r.client_name = "mx.example.net";
  r.sender = sender;
  r.recipient = "rcpt@example.org";
  r.instance = client + sender;
  return r;
}

// A store whose get_many_async() answers later, when the test calls answer_all().
class LaterStore final : public Store {
 public:
  Result<std::optional<Record>> get(std::string_view key) override { return mem_.get(key); }
  Result<void> put(std::string_view key, const Record& rec) override { return mem_.put(key, rec); }
  Result<bool> erase(std::string_view key) override { return mem_.erase(key); }
  Result<void> scan(std::string_view prefix, const ScanFn& fn) override {
    return mem_.scan(prefix, fn);
  }
  Result<void> flush() override { return mem_.flush(); }
  Result<std::size_t> expire_step(const ExpiredFn& expired, std::size_t budget) override {
    return mem_.expire_step(expired, budget);
  }
  void get_many_async(std::vector<std::string> keys, ManyFn done) override {
    queued_.push_back({std::move(keys), std::move(done)});
  }
  bool reads_async() const override { return true; }
  void answer_all() {
    while (!queued_.empty()) {
      auto [keys, done] = std::move(queued_.front());
      queued_.pop_front();
      done(get_many(keys));
    }
  }
  std::size_t queued() const { return queued_.size(); }

 private:
  MemoryStore mem_;
  std::deque<std::pair<std::vector<std::string>, ManyFn>> queued_;
};

Decision two_step(Greylist& gl, LaterStore& store, const policy::Request& req, TimePoint now) {
  auto begun = gl.begin(req);
  if (auto* d = std::get_if<Decision>(&begun)) {
    return *d;
  }
  const auto& look = std::get<Greylist::Lookup>(begun);
  std::optional<Result<std::vector<std::optional<Record>>>> got;
  store.get_many_async(look.wanted, [&got](auto r) { got = std::move(r); });
  EXPECT_FALSE(got.has_value());  // nothing answered until the store does
  store.answer_all();
  EXPECT_TRUE(got.has_value());
  return gl.finish(req, look, *got, now);
}

std::shared_ptr<Policy> policy_for_test() {
  auto p = std::make_shared<Policy>();
  p->settings.delay = Seconds(300);
  p->settings.auto_whitelist_after = 2;
  return p;
}

// The verdict label of each reason (gf_decisions_total{verdict=...}): a triplet whose delay
// starts again because the clock went back is deferred, not "dunno" (GCC's -Wswitch named it).
TEST(GreylistVerdict, EveryDeferralIsADeferVerdict) {
  EXPECT_STREQ(verdict_of(Reason::New), "defer");
  EXPECT_STREQ(verdict_of(Reason::EarlyRetry), "defer");
  EXPECT_STREQ(verdict_of(Reason::RetryWindowExpired), "defer");
  EXPECT_STREQ(verdict_of(Reason::ClockWentBack), "defer");
  EXPECT_STREQ(verdict_of(Reason::Known), "pass");
  EXPECT_STREQ(verdict_of(Reason::NotRcpt), "dunno");
}

TEST(GreylistTwoStep, BeginAndFinishDecideAsCheckDoes) {
  MemoryStore sync_store;
  LaterStore later_store;
  auto pol = policy_for_test();
  auto regdom = [](std::string_view) { return std::string("example.net"); };
  Greylist sync_gl(pol, sync_store, regdom);
  Greylist two_gl(pol, later_store, regdom);
  const TimePoint t0 = from_unix(1'800'000'000);
  const Seconds steps[] = {Seconds(0), Seconds(60), Seconds(301), Seconds(400), Seconds(5000)};
  for (const char* client : {"192.0.2.1", "192.0.2.2"}) {
    for (const Seconds at : steps) {
      const auto req = rcpt(client, std::string("a@") + client + ".example");
      const Decision a = sync_gl.check(req, t0 + at);
      const Decision b = two_step(two_gl, later_store, req, t0 + at);
      EXPECT_EQ(a.reason, b.reason) << to_string(a.reason) << " vs " << to_string(b.reason);
      EXPECT_EQ(a.reply, b.reply);
      EXPECT_EQ(a.delay_s, b.delay_s);
    }
  }
  // Both stores hold the same records afterwards.
  std::vector<std::pair<std::string, Record>> x, y;
  ASSERT_TRUE(sync_store.scan("", [&](std::string_view k, const Record& r) {
    x.emplace_back(std::string(k), r);
    return true;
  }));
  ASSERT_TRUE(later_store.scan("", [&](std::string_view k, const Record& r) {
    y.emplace_back(std::string(k), r);
    return true;
  }));
  EXPECT_FALSE(x.empty());
  EXPECT_EQ(x, y);
}

TEST(GreylistTwoStep, WhatNeedsNoStoreIsDecidedByBeginAlone) {
  LaterStore store;
  auto pol = policy_for_test();
  ASSERT_TRUE(pol->recipients.add_entry("rcpt@example.org"));
  Greylist gl(pol, store, {});
  auto begun = gl.begin(rcpt("192.0.2.1", "a@b.example"));
  ASSERT_TRUE(std::holds_alternative<Decision>(begun));
  EXPECT_EQ(std::get<Decision>(begun).reason, Reason::RecipientWhitelist);
  auto req = rcpt("192.0.2.1", "a@b.example");
  req.protocol_state = "DATA";
  EXPECT_EQ(std::get<Decision>(gl.begin(req)).reason, Reason::NotRcpt);
  EXPECT_EQ(store.queued(), 0u);
}

TEST(GreylistTwoStep, AFailedOrShortReadIsTheStoreFailureAnswer) {
  LaterStore store;
  auto pol = policy_for_test();
  Greylist gl(pol, store, {});
  const auto req = rcpt("192.0.2.1", "a@b.example");
  auto begun = gl.begin(req);
  const auto& look = std::get<Greylist::Lookup>(begun);
  const TimePoint t0 = from_unix(1'800'000'000);
  const Decision down =
      gl.finish(req, look, fail(Errc::StoreFailure, "redis: timeout after 50ms"), t0);
  EXPECT_EQ(down.reason, Reason::StoreFailure);
  EXPECT_EQ(down.reply, "DUNNO");
  EXPECT_EQ(down.error, "redis: timeout after 50ms");
  const Decision short_read =
      gl.finish(req, look, std::vector<std::optional<Record>>(look.wanted.size() - 1), t0);
  EXPECT_EQ(short_read.reason, Reason::StoreFailure);
  // defer_on_store_failure: the failure answer is a tempfail.
  auto deferring = policy_for_test();
  deferring->settings.defer_on_store_failure = true;
  gl.set_policy(deferring);
  auto again = gl.begin(req);
  const Decision tempfail = gl.finish(req, std::get<Greylist::Lookup>(again),
                                      fail(Errc::StoreFailure, "redis: connection lost"), t0);
  EXPECT_EQ(tempfail.action, Action::Defer);
  EXPECT_EQ(store.queued(), 0u);
  EXPECT_TRUE(store.scan("", [](std::string_view, const Record&) { return false; }));
}

}  // namespace
}  // namespace gf::greylist
