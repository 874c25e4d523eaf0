// Runs every tests/scenarios/*.scn script with simulated time.
#include "scenario.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "app/greylist_settings.hpp"
#include "app/settings.hpp"
#include "scenario_suite.hpp"

namespace {

class Scenario : public ::testing::TestWithParam<std::string> {};

TEST_P(Scenario, Passes) {
  gf::testing::expect_scenario_passes(GetParam(), gf::testing::run_scenario);
}

INSTANTIATE_TEST_SUITE_P(Scripts, Scenario,
                         ::testing::ValuesIn(gf::testing::scenario_files(GF_SCENARIO_DIR)),
                         gf::testing::scenario_test_name);

TEST(ScenarioRunner, ReportsAFailedExpectation) {
  const auto res = gf::testing::run_scenario("REQUEST\nEXPECT action=DUNNO\n", true);
  ASSERT_EQ(res.failures.size(), 1u);
  EXPECT_NE(res.failures[0].find("line 2"), std::string::npos);
}

// The scenario dialect has no file access: the whitelist file lists' lines are given with
// WHITELIST_CLIENT / WHITELIST_RECIPIENT instead of SET.
bool is_whitelist_file_list(std::string_view name) {
  return name == "greylist.whitelist_clients" || name == "greylist.whitelist_recipients";
}

// `SET key=value` as a scenario writes it: the key without its section, '^' for a space.
std::string set_line(std::string_view name, std::string_view value) {
  std::string v(value);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
    v = v.substr(1, v.size() - 2);
  }
  for (char& c : v) {
    c = c == ' ' ? '^' : c;
  }
  return fmt::format("SET {}={}\n", name.substr(name.find('.') + 1), v);
}

TEST(ScenarioSettings, EveryGreylistSettingInTheTableIsAcceptedBySet) {
  std::size_t checked = 0;
  for (const gf::app::SettingDef& d : gf::app::settings_table()) {
    const bool greylist = d.name.starts_with("greylist.");
    if ((!greylist && gf::app::find_greylist_binding(d.name) == nullptr) ||
        is_whitelist_file_list(d.name)) {
      continue;
    }
    const std::string script =
        set_line(d.name, d.default_text) + "REQUEST\nEXPECT action=DEFER_IF_PERMIT reason=new\n";
    const auto res = gf::testing::run_scenario(script, /*strict=*/true);
    EXPECT_TRUE(res.failures.empty())
        << d.name << " is in the settings table but a scenario cannot SET it:\n"
        << script << (res.failures.empty() ? "" : res.failures.front());
    EXPECT_EQ(res.expectations, 1u);
    ++checked;
  }
  EXPECT_EQ(checked, gf::app::greylist_bindings().size());
}

TEST(ScenarioSettings, EveryBindingIsAReloadableRowOfTheTable) {
  for (const gf::app::GreylistBinding& b : gf::app::greylist_bindings()) {
    const gf::app::SettingDef* d = gf::app::find_setting(b.name);
    ASSERT_NE(d, nullptr) << b.name;
    EXPECT_TRUE(d->reloadable) << b.name << " lands in the reloadable greylist policy";
    EXPECT_EQ(gf::app::find_greylist_binding(b.name.substr(b.name.find('.') + 1)), &b)
        << "a scenario's short key must name exactly this setting";
  }
}

TEST(ScenarioSettings, SetTakesTheTablesValueFormsAndItsChecks) {
  // A duration in any unit, a string with spaces, a bool in the config's spellings.
  auto ok = gf::testing::run_scenario(
      "SET delay=2m pooled_senders=off text=Come^back^in^%s^s\nREQUEST\n"
      "EXPECT delay=120 reply~=Come^back^in^120^s\n",
      true);
  EXPECT_TRUE(ok.failures.empty()) << ok.failures.front();
  // A value the config would refuse is refused with the config's words, naming the setting.
  for (const char* bad : {"SET ipv4_prefix=7", "SET flux_agents=maybe", "SET delay=soon",
                          "SET on_store_failure=panic", "SET colour=red"}) {
    const auto res =
        gf::testing::run_scenario(std::string(bad) + "\nREQUEST\nEXPECT reason=new\n", true);
    ASSERT_EQ(res.failures.size(), 1u) << bad;
    EXPECT_NE(res.failures[0].find("line 1"), std::string::npos) << res.failures[0];
  }
  const auto prefix = gf::testing::run_scenario("SET ipv4_prefix=7\nREQUEST\nEXPECT\n", true);
  ASSERT_FALSE(prefix.failures.empty());
  EXPECT_NE(prefix.failures[0].find("greylist.ipv4_prefix: must be 8..32"), std::string::npos)
      << prefix.failures[0];
}

}  // namespace
