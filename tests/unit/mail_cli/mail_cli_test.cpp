#include "app/mail_cli.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "app/spamd_settings.hpp"
#include "core/spamd/scanner.hpp"

namespace gf::app {
namespace {

namespace fs = std::filesystem;

class MailCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("gf_mail_cli_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "mail" / "sub");
    write("mail/a.eml", "Subject: lunch\n\nLunch at noon?\n");
    write("mail/b.eml", "Subject: test\n\n" + std::string(spamd::kGtube) + "\n");
    write("mail/sub/box.mbox",
          "From x@example.org Mon Jan  1 00:00:00 2024\nSubject: one\n\nfirst\n\n"
          "From y@example.org Tue Jan  2 00:00:00 2024\nSubject: two\n\n>From the mbox\n");
    values_.set("spamd.model", (dir_ / "mail.model").string());
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string& rel, const std::string& text) {
    std::ofstream(dir_ / rel, std::ios::binary) << text;
  }
  std::string path(const std::string& rel) const { return (dir_ / rel).string(); }

  fs::path dir_;
  Values values_;
};

TEST_F(MailCli, ReadMailNamesEachFileAndEachMboxMessage) {
  auto items = read_mail(path("mail"));
  ASSERT_TRUE(items.has_value()) << items.error().message;
  std::vector<std::string> names;
  for (const MailItem& m : *items) {
    names.push_back(m.name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{path("mail/a.eml"), path("mail/b.eml"),
                                             path("mail/sub/box.mbox") + "#1",
                                             path("mail/sub/box.mbox") + "#2"}));
  EXPECT_EQ((*items)[3].raw, "Subject: two\n\nFrom the mbox\n");  // separator gone, unescaped
  auto one = read_mail(path("mail/a.eml"));
  ASSERT_TRUE(one.has_value());
  ASSERT_EQ(one->size(), 1U);
  EXPECT_EQ((*one)[0].name, path("mail/a.eml"));
  auto missing = read_mail(path("nope.eml"));
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message.find("nope.eml"), std::string::npos);
}

TEST_F(MailCli, ClassifyPrintsEachPathNotDirectoryIndexes) {
  ::testing::internal::CaptureStdout();
  const int rc = classify_command(values_, {path("mail")}, false);
  const std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(rc, 0);  // several messages: 0 unless something failed
  std::istringstream lines(out);
  std::vector<std::string> heads;
  for (std::string line; std::getline(lines, line);) {
    heads.push_back(line.substr(0, line.find(" score=")));
  }
  EXPECT_EQ(heads, (std::vector<std::string>{path("mail/a.eml") + " H", path("mail/b.eml") + " S",
                                             path("mail/sub/box.mbox") + "#1 H",
                                             path("mail/sub/box.mbox") + "#2 H"}));
  EXPECT_EQ(out.find(path("mail") + "#"), std::string::npos);
}

TEST_F(MailCli, ClassifyExitCodeForOneMessageAndForErrors) {
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(classify_command(values_, {path("mail/b.eml")}, false), 0);  // spam
  EXPECT_EQ(classify_command(values_, {path("mail/a.eml")}, false), 1);  // ham
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(classify_command(values_, {path("mail/a.eml"), path("missing")}, false), 3);
  EXPECT_NE(::testing::internal::GetCapturedStderr().find("missing"), std::string::npos);
  (void)::testing::internal::GetCapturedStdout();
}

TEST_F(MailCli, LearnWritesTheModelThatClassifyThenUses) {
  for (int i = 0; i < 12; ++i) {
    write("mail/spam" + std::to_string(i) + ".eml",
          "From: promo" + std::to_string(i) +
              "@prizes.example\nSubject: You WON claim now\n\nclaim your prize money casino "
              "bonus http://win.prizes.example/" +
              std::to_string(i) + "\n");
    write("mail/ham" + std::to_string(i) + ".eml",
          "From: carol@uni.example\nSubject: notes " + std::to_string(i) +
              "\n\nthe seminar on compilers and parser design\n");
  }
  std::vector<std::string> spam;
  std::vector<std::string> ham;
  for (int i = 0; i < 12; ++i) {
    spam.push_back(path("mail/spam" + std::to_string(i) + ".eml"));
    ham.push_back(path("mail/ham" + std::to_string(i) + ".eml"));
  }
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(learn_command(values_, spam, ham), 0);
  const std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("read 12 spam and 12 ham, learned 24 (0 already known"), std::string::npos)
      << out;
  EXPECT_NE(out.find("model now has 12 spam, 12 ham"), std::string::npos) << out;
  // The same folders again: read, none learned twice, and the output says so.
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(learn_command(values_, spam, ham), 0);
  const std::string again = ::testing::internal::GetCapturedStdout();
  EXPECT_NE(again.find("read 12 spam and 12 ham, learned 0 (24 already known"), std::string::npos)
      << again;
  EXPECT_NE(again.find("model now has 12 spam, 12 ham"), std::string::npos) << again;
  ASSERT_TRUE(fs::exists(dir_ / "mail.model"));
  ::testing::internal::CaptureStdout();
  const int rc = classify_command(values_, {spam[0]}, false);
  const std::string line = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(rc, 0) << line;
  EXPECT_NE(line.find("BAYES_"), std::string::npos) << line;
}

// The BAYES_* points are settings: their defaults are the scanner's, and a config can move them.
TEST(SpamdSettings, BayesPointsAreSettingsWithTheScannersDefaults) {
  const Values defaults;
  ASSERT_TRUE(validate_spamd(defaults).has_value());
  const spamd::ScannerOptions built = spamd::default_scanner_options();
  const spamd::ScannerOptions configured = spamd_scanner_options(defaults);
  for (const std::string_view symbol : spamd::kBayesSymbols) {
    ASSERT_NE(find_setting(bayes_setting(symbol)), nullptr) << symbol;
    EXPECT_EQ(configured.weights.at(std::string(symbol)), built.weights.at(std::string(symbol)))
        << symbol;
  }
  EXPECT_EQ(bayes_setting("BAYES_999"), "spamd.bayes_999");

  Values v;
  v.set("spamd.bayes_60", std::string("5.0"));
  ASSERT_TRUE(validate_spamd(v).has_value());
  EXPECT_EQ(spamd_scanner_options(v).weights.at("BAYES_60"), 5.0);
  v.set("spamd.bayes_60", std::string("five"));
  auto bad = validate_spamd(v);
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("spamd.bayes_60"), std::string::npos) << bad.error().message;
}

}  // namespace
}  // namespace gf::app
