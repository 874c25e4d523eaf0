#include "core/flux/rpz.hpp"

#include <gtest/gtest.h>

using namespace gf;
using namespace gf::flux;

namespace {
IpAddress ip(const char* s) { return *parse_ip(s); }
}  // namespace

TEST(Rpz, WritesZoneWithWildcardsIpAndNsdname) {
  RpzContent c;
  c.names = {"flux.example", "bad.test"};
  c.agent_ips = {ip("192.0.2.7"), ip("2001:db8::1")};
  c.nsdnames = {"ns1.flux.example"};
  RpzOptions o;
  o.serial = 42;
  o.rpz_ip = true;
  o.rpz_nsdname = true;
  RpzWriteStats st;
  const std::string z = write_rpz(c, o, &st);
  EXPECT_NE(z.find("$ORIGIN rpz.greyflux.local.\n"), std::string::npos);
  EXPECT_NE(z.find("SOA localhost. hostmaster.localhost. 42 "), std::string::npos);
  EXPECT_NE(z.find("\nflux.example CNAME .\n*.flux.example CNAME .\n"), std::string::npos);
  EXPECT_NE(z.find("\n32.7.2.0.192.rpz-ip CNAME .\n"), std::string::npos) << z;
  EXPECT_NE(z.find("\n128.1.zz.db8.2001.rpz-ip CNAME .\n"), std::string::npos) << z;
  EXPECT_NE(z.find("\nns1.flux.example.rpz-nsdname CNAME .\n"), std::string::npos);
  EXPECT_EQ(st.names, 2u);
  EXPECT_EQ(st.ips, 2u);

  auto p = parse_rpz(z);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(*p->serial, 42u);
  EXPECT_EQ(p->origin, "rpz.greyflux.local");
  c.normalise();
  EXPECT_EQ(p->content, c);
  EXPECT_EQ(p->wildcards, c.names);
}

TEST(Rpz, IpOwnersRoundTrip) {
  for (const char* s : {"1.2.3.4", "2001:db8::1", "2001:db8:0:1::", "::1", "2001:db8:1:2:3:4:5:6",
                        "fe80::", "2001:0:0:1::1"}) {
    const IpAddress a = ip(s);
    auto back = parse_rpz_ip_owner(rpz_ip_owner(a));
    ASSERT_TRUE(back) << s << " " << rpz_ip_owner(a);
    EXPECT_EQ(*back, a) << s << " " << rpz_ip_owner(a);
  }
  EXPECT_EQ(rpz_ip_owner(ip("2001:db8:0:1::")), "128.zz.1.0.db8.2001.rpz-ip");
}

TEST(Rpz, SerialAlwaysIncreases) {
  const TimePoint now = from_unix(1'800'000'000);
  EXPECT_EQ(next_serial(std::nullopt, now), 1'800'000'000u);
  EXPECT_EQ(next_serial(1'700'000'000u, now), 1'800'000'000u);
  EXPECT_EQ(next_serial(1'800'000'000u, now), 1'800'000'001u);
  EXPECT_EQ(next_serial(1'900'000'000u, now), 1'900'000'001u);
}

TEST(Rpz, SkipsNamesThatWouldReadBackAsTriggers) {
  RpzContent c;
  c.names = {"*.wild.example", "x.rpz-ip", std::string(250, 'a')};
  RpzWriteStats st;
  const std::string z = write_rpz(c, {}, &st);
  EXPECT_EQ(st.names, 0u);
  EXPECT_EQ(st.skipped, 3u);
}

TEST(Rbldnsd, Rfc5782TestEntries) {
  const std::string d = write_rbldnsd_dnset({"flux.example"}, "fast-flux");
  EXPECT_NE(d.find("\ntest\n"), std::string::npos);
  EXPECT_EQ(d.find("\ninvalid\n"), std::string::npos);
  EXPECT_NE(d.find("\nflux.example\n*.flux.example\n"), std::string::npos);
  std::size_t v6 = 0;
  const std::string s =
      write_rbldnsd_ip4set({ip("192.0.2.9"), ip("127.0.0.1"), ip("2001:db8::1")}, "agent", &v6);
  EXPECT_NE(s.find("\n127.0.0.2\n"), std::string::npos);
  EXPECT_EQ(s.find("\n127.0.0.1\n"), std::string::npos);
  EXPECT_NE(s.find("\n192.0.2.9\n"), std::string::npos);
  EXPECT_EQ(v6, 1u);
}

#include "core/flux/lookup.hpp"

TEST(FluxIndex, MatchesNamesBelowAndAgents) {
  RpzContent c;
  c.names = {"flux.example"};
  c.agent_ips = {ip("10.1.2.3")};
  FluxIndex idx;
  idx.add(c);
  ASSERT_TRUE(idx.match_host("WWW.Flux.Example."));
  EXPECT_EQ(idx.match_host("a.b.flux.example")->name, "flux.example");
  EXPECT_FALSE(idx.match_host("notflux.example"));
  EXPECT_FALSE(idx.match_host("example"));
  EXPECT_FALSE(idx.match_host("bad..name"));
  EXPECT_TRUE(idx.is_agent(ip("10.1.2.3")));
  EXPECT_FALSE(idx.is_agent(ip("10.1.2.4")));
}

TEST(Rpz, NameRulesAreTheLinesTheZoneHoldsForOneName) {
  RpzOptions o;
  EXPECT_EQ(rpz_name_rules("flux.example", o), "flux.example CNAME .\n*.flux.example CNAME .\n");
  RpzContent c;
  c.names = {"flux.example"};
  EXPECT_NE(write_rpz(c, o).find("\n" + rpz_name_rules("flux.example", o)), std::string::npos);
  o.wildcard = false;
  EXPECT_EQ(rpz_name_rules("flux.example", o), "flux.example CNAME .\n");
  // Too long to fit under the origin: no rules, as write_rpz skips it.
  const std::string long_name = std::string(60, 'a') + "." + std::string(60, 'b') + "." +
                                std::string(60, 'c') + "." + std::string(60, 'd') + ".example";
  EXPECT_EQ(rpz_name_rules(long_name, RpzOptions{}), "");
}
