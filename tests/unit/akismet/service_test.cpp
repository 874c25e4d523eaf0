// AkismetService through handle() on a real LMDB store in a temporary directory (no sockets).
// Per-site models: each site's model follows that site's feedback only, the count bound holds,
// and a restart keeps the site models, from the snapshot and from the training log. The
// akismet.spam_threshold setting reaches the verdict.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "app/akismet_service.hpp"
#include "app/settings.hpp"
#include "io/store/lmdb_kv.hpp"

namespace gf::app {
namespace {

constexpr std::int64_t kNow = 1795600000;

std::string encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || c == '-' || c == '.' || c == '_') {
      out.push_back(c);
    } else {
      out += '%';
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

// "NAME(1.23)" in the reasons header: the weight, if the symbol is there.
std::optional<std::string> symbol(const io::HttpResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k != "X-Greyflux-Reasons") {
      continue;
    }
    const std::string key = std::string(name) + "(";
    const auto at = v.find(key);
    if (at == std::string::npos || (at != 0 && v[at - 1] != ' ')) {
      return std::nullopt;
    }
    const auto end = v.find(')', at);
    return v.substr(at + key.size(), end - at - key.size());
  }
  return std::nullopt;
}

// The deployment's and the site's classifier symbols of two answers are the same.
void expect_same_text_symbols(const io::HttpResponse& got, const io::HttpResponse& want) {
  for (const char* name : {"TEXT_CLASSIFIER", "SITE_CLASSIFIER"}) {
    EXPECT_EQ(symbol(got, name), symbol(want, name)) << name;
  }
}

double weight(const io::HttpResponse& r, std::string_view name) {
  const auto w = symbol(r, name);
  EXPECT_TRUE(w.has_value()) << name;
  return w ? std::stod(*w) : 0.0;
}

// Sites: A is a baking blog whose owner reports crypto pitches as spam; B is a crypto blog
// where the same talk is wanted, and pharmacy pitches are its spam.
const std::vector<std::string> kCrypto{
    "Earn passive income with bitcoin trading signals, message me on telegram",
    "My crypto mentor turned 500 dollars into 9000 in a week, bitcoin trading works",
    "Join our ethereum investment group for daily trading signals and profit",
    "Bitcoin mining pool pays daily, best crypto investment this year",
    "Crypto trading bot with guaranteed daily profit, bitcoin and ethereum",
    "Which exchange do you use for bitcoin trading with low fees",
    "Ethereum staking rewards look better than bitcoin mining now",
    "Daily crypto signals helped my trading, profit on bitcoin this week",
};
const std::vector<std::string> kBread{
    "I baked this sourdough with rye flour and it turned out great",
    "Lovely crumb on that loaf, my starter is finally bubbly too",
    "Tried the recipe with whole wheat flour, the bread rose nicely",
    "Thanks for the tip about steam in the oven, the crust is perfect now",
};
const std::vector<std::string> kPills{
    "Cheap pills online pharmacy, no prescription needed, fast shipping",
    "Buy generic pills at our online pharmacy with discount codes",
    "Best online pharmacy prices for pills, order today and save",
    "Discount pharmacy pills shipped worldwide without prescription",
};
const std::string kProbe = "Bitcoin trading signals every day, crypto profit guaranteed";

class SiteModelsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "gf-site-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    svc_.reset();
    std::filesystem::remove_all(dir_);
  }

  AkismetConfig config() const {
    AkismetConfig c;
    c.store_path = (dir_ / "akismet.lmdb").string();
    c.map_size = 64ULL << 20;
    c.commit_interval = Millis(5);
    c.sync = false;
    c.service.model.min_training = 3;
    c.service.model.site_models = true;
    c.service.model.max_site_models = 10;
    return c;
  }
  void open(const AkismetConfig& c) {
    auto s = AkismetService::open(c);
    ASSERT_TRUE(s) << s.error().message;
    svc_ = std::move(*s);
    if (key_.empty()) {
      auto k = svc_->add_key("https://a.example", kNow);
      ASSERT_TRUE(k) << k.error().message;
      key_ = *k;
    }
  }
  io::HttpResponse post(const char* path, const std::string& blog, const std::string& content) {
    ++ip_;
    io::HttpRequest req;
    req.method = "POST";
    req.path = path;
    req.host = "127.0.0.1";
    req.body = "api_key=" + key_ + "&blog=" + encode(blog) + "&user_ip=192.0.2." +
               std::to_string(ip_ % 250) + "&user_agent=Mozilla%2F5.0&referrer=" + encode(blog) +
               "&comment_type=comment&comment_author=Sam&comment_content=" + encode(content);
    return svc_->handle(req, kNow);
  }
  void feedback(const std::string& blog, const std::vector<std::string>& texts, bool spam) {
    for (const std::string& t : texts) {
      const auto r = post(spam ? "/1.1/submit-spam" : "/1.1/submit-ham", blog, t);
      ASSERT_EQ(r.body, "Thanks for making the web a better place.");
    }
  }
  io::HttpResponse check(const std::string& blog) {
    return post("/1.1/comment-check", blog, kProbe);
  }
  // A: crypto spam, bread ham. B: pharmacy spam, crypto ham.
  void train_two_sites() {
    feedback("https://a.example", {kCrypto.begin(), kCrypto.begin() + 4}, true);
    feedback("https://a.example", kBread, false);
    feedback("https://b.example", kPills, true);
    feedback("https://b.example", {kCrypto.begin() + 4, kCrypto.end()}, false);
  }
  std::string stat(std::string_view name) {
    const std::string text = svc_->stats_text();
    const auto at = text.find(std::string(name) + "\t");
    return at == std::string::npos
               ? ""
               : text.substr(at + name.size() + 1, text.find('\n', at) - at - name.size() - 1);
  }

  std::filesystem::path dir_;
  std::unique_ptr<AkismetService> svc_;
  std::string key_;
  int ip_ = 0;
};

TEST_F(SiteModelsTest, EachSiteModelFollowsItsOwnFeedback) {
  open(config());
  train_two_sites();
  const auto a = check("https://a.example");
  const auto b = check("https://b.example");
  // One deployment model for both, so one TEXT_CLASSIFIER share; the site models disagree.
  EXPECT_EQ(symbol(a, "TEXT_CLASSIFIER"), symbol(b, "TEXT_CLASSIFIER"));
  EXPECT_GT(weight(a, "SITE_CLASSIFIER"), 0.5);
  EXPECT_LT(weight(b, "SITE_CLASSIFIER"), -0.5);
  // A site without enough feedback of its own, and a site without any: deployment alone.
  feedback("https://c.example", {kPills[0]}, true);
  EXPECT_FALSE(symbol(check("https://c.example"), "SITE_CLASSIFIER"));
  EXPECT_FALSE(symbol(check("https://d.example"), "SITE_CLASSIFIER"));
  EXPECT_EQ(stat("akismet.site_models"), "3");

  // More feedback on A moves A's site model; B's site share stays exactly as it was, B moves
  // only through the deployment model's share.
  const auto b_site = symbol(b, "SITE_CLASSIFIER");
  feedback("https://a.example", {kCrypto.begin() + 4, kCrypto.end()}, true);
  const auto a2 = check("https://a.example");
  const auto b2 = check("https://b.example");
  EXPECT_GT(weight(a2, "SITE_CLASSIFIER"), weight(a, "SITE_CLASSIFIER"));
  EXPECT_EQ(symbol(b2, "SITE_CLASSIFIER"), b_site);
  EXPECT_NE(symbol(b2, "TEXT_CLASSIFIER"), symbol(b, "TEXT_CLASSIFIER"));
  EXPECT_EQ(symbol(a2, "TEXT_CLASSIFIER"), symbol(b2, "TEXT_CLASSIFIER"));
}

TEST_F(SiteModelsTest, OffByDefaultOneModelPerDeployment) {
  AkismetConfig c = config();
  c.service.model.site_models = AkismetConfig{}.service.model.site_models;
  ASSERT_FALSE(c.service.model.site_models);
  open(c);
  train_two_sites();
  const auto a = check("https://a.example");
  EXPECT_TRUE(symbol(a, "TEXT_CLASSIFIER"));
  EXPECT_FALSE(symbol(a, "SITE_CLASSIFIER"));
  EXPECT_EQ(stat("akismet.site_models"), "");
}

TEST_F(SiteModelsTest, CountBoundHolds) {
  AkismetConfig c = config();
  c.service.model.max_site_models = 2;
  open(c);
  train_two_sites();
  feedback("https://c.example", kPills, true);
  feedback("https://c.example", kBread, false);
  EXPECT_EQ(stat("akismet.site_models"), "2");
  EXPECT_TRUE(symbol(check("https://a.example"), "SITE_CLASSIFIER"));
  EXPECT_FALSE(symbol(check("https://c.example"), "SITE_CLASSIFIER"));
  // Also across a restart (the snapshots and the replay respect it).
  svc_.reset();
  open(c);
  EXPECT_EQ(stat("akismet.site_models"), "2");
  EXPECT_FALSE(symbol(check("https://c.example"), "SITE_CLASSIFIER"));
}

// The stored values under the model keys ("m:"), read with the service closed.
// The service's store opened directly, as the CLI does (no writer thread).
Result<std::unique_ptr<io::LmdbKv>> open_store(const std::string& path) {
  io::KvOptions o;
  o.path = path;
  o.map_size = 64ULL << 20;
  o.writer_thread = false;
  return io::LmdbKv::open(o);
}

std::vector<std::pair<std::string, std::string>> model_records(const std::string& path) {
  auto kv = open_store(path);
  EXPECT_TRUE(kv);
  std::vector<std::pair<std::string, std::string>> out;
  EXPECT_TRUE((*kv)->scan("m:", [&](std::string_view k, std::string_view v) {
    out.emplace_back(std::string(k), std::string(v));
    return true;
  }));
  return out;
}

void put_records(const std::string& path,
                 const std::vector<std::pair<std::string, std::string>>& records) {
  auto kv = open_store(path);
  ASSERT_TRUE(kv);
  for (const auto& [k, v] : records) {
    ASSERT_TRUE((*kv)->put(k, v));
  }
  ASSERT_TRUE((*kv)->flush());
}

TEST_F(SiteModelsTest, RestartKeepsSiteModelsFromSnapshotAndLog) {
  const AkismetConfig c = config();
  open(c);
  train_two_sites();
  svc_.reset();  // saves the snapshots
  const auto first = model_records(c.store_path);
  ASSERT_EQ(first.size(), 3U);  // m:model, m:s:https://a.example, m:s:https://b.example
  EXPECT_EQ(first[1].first, "m:s:https://a.example");

  // Snapshot only: the same opinions after a clean restart.
  open(c);
  const auto a = check("https://a.example");
  const auto b = check("https://b.example");
  EXPECT_GT(weight(a, "SITE_CLASSIFIER"), 0.5);
  EXPECT_LT(weight(b, "SITE_CLASSIFIER"), -0.5);
  // Feedback after the snapshot, then the process "dies" before saving: put back the first
  // snapshots, so that the second batch of feedback exists only in the training log.
  feedback("https://a.example", {kCrypto.begin() + 4, kCrypto.end()}, true);
  feedback("https://b.example", kPills, true);
  const auto a2 = check("https://a.example");
  const auto b2 = check("https://b.example");
  svc_.reset();
  put_records(c.store_path, first);
  open(c);
  const auto a3 = check("https://a.example");
  const auto b3 = check("https://b.example");
  expect_same_text_symbols(a3, a2);
  expect_same_text_symbols(b3, b2);
  EXPECT_NE(symbol(a3, "SITE_CLASSIFIER"), symbol(a, "SITE_CLASSIFIER"));

  // An unreadable snapshot of one site: that site is rebuilt from the log, the others load.
  svc_.reset();
  put_records(c.store_path, {{"m:s:https://a.example", "not a model"}});
  open(c);
  const auto a4 = check("https://a.example");
  const auto b4 = check("https://b.example");
  expect_same_text_symbols(a4, a2);
  expect_same_text_symbols(b4, b2);
}

using DecisionSettingsTest = SiteModelsTest;

TEST_F(DecisionSettingsTest, SpamThresholdSettingReachesTheVerdict) {
  Values v;
  EXPECT_EQ(akismet_config(v).service.decision.threshold, 0.0);
  v.set("akismet.spam_threshold", std::string("-1.0"));
  EXPECT_EQ(akismet_config(v).service.decision.threshold, -1.0);

  // Untrained (heuristics alone), one outside link: score -1.0 (bias) + 0.4 (LINKS_1) = -0.6,
  // ham at the default threshold 0 and spam at -1.0.
  const std::string text = "Nice post, more on this at https://elsewhere.example.net/page";
  AkismetConfig c = config();
  c.service.model.site_models = false;
  open(c);
  const auto at_default = post("/1.1/comment-check", "https://a.example", text);
  EXPECT_EQ(at_default.body, "false");
  EXPECT_DOUBLE_EQ(weight(at_default, "LINKS_1"), 0.4);
  svc_.reset();
  c.service.decision.threshold = akismet_config(v).service.decision.threshold;
  open(c);
  EXPECT_EQ(post("/1.1/comment-check", "https://a.example", text).body, "true");
}

}  // namespace
}  // namespace gf::app
