// Runs every tests/scenarios/comments/*.scn script (the comment-check dialect,
// tests/support/comment_scenario.hpp) on simulated time.
#include "comment_scenario.hpp"

#include <gtest/gtest.h>

#include "app/akismet_settings.hpp"
#include "app/settings.hpp"
#include "scenario_suite.hpp"

namespace {

class CommentScenario : public ::testing::TestWithParam<std::string> {};

TEST_P(CommentScenario, Passes) {
  gf::testing::expect_scenario_passes(GetParam(), gf::testing::run_comment_scenario);
}

INSTANTIATE_TEST_SUITE_P(Scripts, CommentScenario,
                         ::testing::ValuesIn(gf::testing::scenario_files(GF_COMMENT_SCENARIO_DIR)),
                         gf::testing::scenario_test_name);

TEST(CommentScenarioRunner, ReportsAFailedExpectationWithItsLine) {
  const auto res = gf::testing::run_comment_scenario(
      "CHECK\nEXPECT verdict=spam\nEXPECT verdict=ham no_symbol=NO_REFERRER\n", true);
  ASSERT_EQ(res.failures.size(), 1u);
  EXPECT_NE(res.failures[0].find("line 2"), std::string::npos) << res.failures[0];
  EXPECT_EQ(res.expectations, 3u);
}

TEST(CommentScenarioRunner, StrictModeRejectsUnknownCommandsAndExpectations) {
  EXPECT_EQ(
      gf::testing::run_comment_scenario("FROB\nCHECK\nEXPECT colour=red\n", true).failures.size(),
      2u);
  EXPECT_TRUE(gf::testing::run_comment_scenario("FROB\nCHECK\nEXPECT colour=red\n", false)
                  .failures.empty());
}

// The comment API's rows that configure its LMDB store and the daemon's timer, not the
// service: a scenario's store is a MemoryKv and its time is simulated.
bool is_store_or_timer_row(std::string_view name) {
  for (std::string_view n :
       {"akismet.store_path", "akismet.map_size", "akismet.check_retention", "akismet.max_checks",
        "akismet.model_save_interval", "akismet.model_save_records"}) {
    if (name == n) {
      return true;
    }
  }
  return false;
}

TEST(CommentScenarioSettings, EveryCommentSettingInTheTableIsAcceptedBySet) {
  std::size_t checked = 0;
  for (const gf::app::SettingDef& d : gf::app::settings_table()) {
    if (!d.name.starts_with("akismet.") || is_store_or_timer_row(d.name)) {
      continue;
    }
    std::string value(d.default_text);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    const std::string script =
        "SET " + std::string(d.name.substr(8)) + "=" + value + "\nCHECK\nEXPECT verdict=ham\n";
    const auto res = gf::testing::run_comment_scenario(script, /*strict=*/true);
    EXPECT_TRUE(res.failures.empty())
        << d.name << " is in the settings table but a comment scenario cannot SET it:\n"
        << script << (res.failures.empty() ? "" : res.failures.front());
    ++checked;
  }
  EXPECT_EQ(checked, gf::app::akismet_bindings().size());
  for (const gf::app::AkismetBinding& b : gf::app::akismet_bindings()) {
    EXPECT_NE(gf::app::find_setting(b.name), nullptr) << b.name;
  }
}

TEST(CommentScenarioSettings, SetRefusesWhatTheConfigRefuses) {
  for (const char* bad : {"SET spam_threshold=9", "SET spam_threshold=high", "SET min_training=-1",
                          "SET max_site_models=0", "SET site_models=maybe", "SET colour=red"}) {
    const auto res =
        gf::testing::run_comment_scenario(std::string(bad) + "\nCHECK\nEXPECT verdict=ham\n", true);
    ASSERT_FALSE(res.failures.empty()) << bad;
    EXPECT_NE(res.failures[0].find("line 1"), std::string::npos) << res.failures[0];
  }
  const auto t = gf::testing::run_comment_scenario("SET spam_threshold=9\nCHECK\n", true);
  ASSERT_FALSE(t.failures.empty());
  EXPECT_NE(t.failures[0].find("akismet.spam_threshold: 9 is out of range"), std::string::npos)
      << t.failures[0];
}

}  // namespace
