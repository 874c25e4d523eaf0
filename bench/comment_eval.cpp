// gf_comment_eval: evaluates the comment classifier on the YouTube Spam Collection (TubeSpam).
//
// Usage: gf_comment_eval [DATA_DIR] [--sweep | --site-sweep | --time | --errors MODEL_INDEX]
//   DATA_DIR defaults to ../shared/data/youtube-spam-collection-v1 relative to the repository
//   (this file's ../..), read at run time; the data never enters the repository.
//
// Protocols (as in the data set's README):
//   (a) leave-one-video-out: train on four files, test on the fifth; five folds, reported per
//       fold and pooled over all 1,956 test decisions (AUC pooled over the concatenated scores).
//   (b) time-ordered online: all five files merged into one stream in DATE order (files whose
//       rows run newest-first are reversed; rows with an empty DATE, 245 in the Eminem file,
//       take the date of the row before them in chronological order); each comment is scored
//       first, then trained on with its label, as submit-spam/submit-ham feedback would.
// Models: a plain word-level multinomial naive Bayes written here as the anchor, Fisher
// (Robinson/chi-square) Bayes, logistic regression, and the library's default Classifier.
// Metrics at threshold 0.5 (spam when score > 0.5): accuracy, false-positive rate on ham,
// recall on spam, ROC AUC.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/akismet/decision.hpp"
#include "core/akismet/evidence.hpp"
#include "core/akismet/request.hpp"
#include "core/classify/classifier.hpp"
#include "core/classify/fisher.hpp"
#include "core/classify/logistic.hpp"
#include "core/classify/site_model.hpp"
#include "core/classify/tokenizer.hpp"

namespace {

namespace cl = gf::classify;

// ---- RFC 4180 CSV --------------------------------------------------------------------------

// Parses RFC 4180 text: fields separated by ',', records by CRLF or LF; a quoted field may
// hold commas, line breaks and doubled quotes. A UTF-8 byte order mark at the start is skipped.
// Returns nullopt on an unterminated quoted field or a quote in the middle of a bare field.
std::optional<std::vector<std::vector<std::string>>> parse_csv(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) {
    text.remove_prefix(3);
  }
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  std::size_t i = 0;
  bool any = false;  // the current record has started
  while (i < text.size()) {
    char c = text[i];
    if (c == '"' && field.empty()) {
      ++i;
      bool closed = false;
      while (i < text.size()) {
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          closed = true;
          ++i;
          break;
        }
        field.push_back(text[i++]);
      }
      if (!closed || (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r')) {
        return std::nullopt;
      }
      any = true;
      continue;
    }
    if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      any = true;
      ++i;
    } else if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
        ++i;
      }
      ++i;
      if (any || !field.empty()) {
        row.push_back(std::move(field));
        rows.push_back(std::move(row));
      }
      row.clear();
      field.clear();
      any = false;
    } else if (c == '"') {
      return std::nullopt;
    } else {
      field.push_back(c);
      any = true;
      ++i;
    }
  }
  if (any || !field.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

// ---- data ----------------------------------------------------------------------------------

struct Comment {
  std::string author;
  std::string date;
  std::string content;
  bool spam = false;
  int video = 0;
};

constexpr std::array<const char*, 5> kFiles{"Youtube01-Psy.csv", "Youtube02-KatyPerry.csv",
                                            "Youtube03-LMFAO.csv", "Youtube04-Eminem.csv",
                                            "Youtube05-Shakira.csv"};

std::optional<std::vector<Comment>> load_file(const std::filesystem::path& path, int video) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot open %s\n", path.c_str());
    return std::nullopt;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto rows = parse_csv(text);
  if (!rows || rows->empty()) {
    std::fprintf(stderr, "%s: malformed CSV\n", path.c_str());
    return std::nullopt;
  }
  const auto& header = rows->front();
  auto col = [&](std::string_view name) -> int {
    auto it = std::find(header.begin(), header.end(), name);
    return it == header.end() ? -1 : static_cast<int>(it - header.begin());
  };
  int author = col("AUTHOR");
  int date = col("DATE");
  int content = col("CONTENT");
  int cls = col("CLASS");
  if (author < 0 || date < 0 || content < 0 || cls < 0) {
    std::fprintf(stderr, "%s: missing columns\n", path.c_str());
    return std::nullopt;
  }
  std::vector<Comment> out;
  for (std::size_t r = 1; r < rows->size(); ++r) {
    const auto& row = (*rows)[r];
    if (row.size() != header.size() || (row[cls] != "0" && row[cls] != "1")) {
      std::fprintf(stderr, "%s: bad record %zu\n", path.c_str(), r);
      return std::nullopt;
    }
    out.push_back(Comment{row[author], row[date], row[content], row[cls] == "1", video});
  }
  return out;
}

// Chronological order for protocol (b): see the header comment.
std::vector<std::size_t> chronological_order(const std::vector<Comment>& all) {
  std::vector<std::string> dates(all.size());
  std::map<int, std::vector<std::size_t>> by_video;
  for (std::size_t i = 0; i < all.size(); ++i) {
    by_video[all[i].video].push_back(i);
  }
  for (auto& [video, idx] : by_video) {
    std::vector<std::string> known;
    for (auto i : idx) {
      if (!all[i].date.empty()) {
        known.push_back(all[i].date);
      }
    }
    if (known.size() >= 2 && known.front() > known.back()) {
      std::reverse(idx.begin(), idx.end());  // the file runs newest-first
    }
    std::string last;
    for (auto i : idx) {
      if (!all[i].date.empty()) {
        last = all[i].date;
        break;
      }
    }
    for (auto i : idx) {
      last = all[i].date.empty() ? last : all[i].date;
      dates[i] = last;
    }
  }
  std::vector<std::size_t> order;
  for (auto& [video, idx] : by_video) {
    order.insert(order.end(), idx.begin(), idx.end());
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return dates[a] < dates[b]; });
  return order;
}

// ---- metrics -------------------------------------------------------------------------------

struct Metrics {
  std::size_t n = 0;
  double accuracy = 0;
  double fpr = 0;     // ham flagged as spam / ham
  double recall = 0;  // spam caught / spam
  double auc = 0;
  // The best accuracy at any threshold whose ham FPR is at most 3%, the threshold chosen on
  // these very scores: a ceiling for threshold choice, not a result.
  double oracle = 0;
};

double roc_auc(const std::vector<double>& scores, const std::vector<bool>& labels) {
  std::vector<std::size_t> idx(scores.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](auto a, auto b) { return scores[a] < scores[b]; });
  double rank_sum = 0;
  std::size_t pos = 0;
  for (std::size_t i = 0; i < idx.size();) {
    std::size_t j = i;
    while (j < idx.size() && scores[idx[j]] == scores[idx[i]]) {
      ++j;
    }
    double avg_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (std::size_t k = i; k < j; ++k) {
      if (labels[idx[k]]) {
        rank_sum += avg_rank;
        ++pos;
      }
    }
    i = j;
  }
  std::size_t neg = scores.size() - pos;
  if (pos == 0 || neg == 0) {
    return 0.5;
  }
  double p = static_cast<double>(pos);
  return (rank_sum - p * (p + 1) / 2.0) / (p * static_cast<double>(neg));
}

double oracle_accuracy(const std::vector<double>& scores, const std::vector<bool>& labels) {
  // Sweep the threshold upwards through the sorted scores: each step unflags one comment.
  std::vector<std::size_t> idx(scores.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](auto a, auto b) { return scores[a] < scores[b]; });
  const auto spam = static_cast<std::size_t>(std::count(labels.begin(), labels.end(), true));
  const std::size_t ham = labels.size() - spam;
  std::size_t tp = spam;  // threshold below every score: all flagged
  std::size_t fp = ham;
  double best = 0;
  for (std::size_t k = 0; k <= idx.size(); ++k) {
    // Only between distinct scores is a threshold possible.
    if (k == idx.size() || k == 0 || scores[idx[k]] != scores[idx[k - 1]]) {
      if (ham == 0 || static_cast<double>(fp) <= 0.03 * static_cast<double>(ham)) {
        best = std::max(best, static_cast<double>(tp + (ham - fp)) /
                                  static_cast<double>(std::max<std::size_t>(1, labels.size())));
      }
    }
    if (k < idx.size()) {
      (labels[idx[k]] ? tp : fp) -= 1;
    }
  }
  return best;
}

Metrics measure(const std::vector<double>& scores, const std::vector<bool>& labels) {
  std::size_t tp = 0, fp = 0, tn = 0, fn = 0;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    bool flagged = scores[i] > 0.5;
    if (labels[i]) {
      (flagged ? tp : fn) += 1;
    } else {
      (flagged ? fp : tn) += 1;
    }
  }
  Metrics m;
  m.n = scores.size();
  m.accuracy = m.n ? static_cast<double>(tp + tn) / static_cast<double>(m.n) : 0;
  m.fpr = (fp + tn) ? static_cast<double>(fp) / static_cast<double>(fp + tn) : 0;
  m.recall = (tp + fn) ? static_cast<double>(tp) / static_cast<double>(tp + fn) : 0;
  m.auc = roc_auc(scores, labels);
  m.oracle = oracle_accuracy(scores, labels);
  return m;
}

// ---- models --------------------------------------------------------------------------------

class Model {
 public:
  virtual ~Model() = default;
  virtual void train(std::size_t i, bool spam) = 0;
  [[nodiscard]] virtual double score(std::size_t i) const = 0;
};

// The anchor: multinomial naive Bayes over lower-cased ASCII words, Laplace smoothing.
class PlainNaiveBayes final : public Model {
 public:
  explicit PlainNaiveBayes(const std::vector<Comment>& all) {
    for (const auto& c : all) {
      docs_.push_back(words(c.content));
    }
  }
  void train(std::size_t i, bool spam) override {
    ++docs_per_class_[spam ? 1 : 0];
    for (const auto& w : docs_[i]) {
      ++counts_[w][spam ? 1 : 0];
      ++total_[spam ? 1 : 0];
    }
  }
  [[nodiscard]] double score(std::size_t i) const override {
    double vocab = static_cast<double>(counts_.size()) + 1.0;
    double log_odds = std::log((docs_per_class_[1] + 1.0) / (docs_per_class_[0] + 1.0));
    for (const auto& w : docs_[i]) {
      auto it = counts_.find(w);
      double s = it == counts_.end() ? 0 : it->second[1];
      double h = it == counts_.end() ? 0 : it->second[0];
      log_odds +=
          std::log((s + 1.0) / (total_[1] + vocab)) - std::log((h + 1.0) / (total_[0] + vocab));
    }
    return 1.0 / (1.0 + std::exp(-std::clamp(log_odds, -50.0, 50.0)));
  }

 private:
  static std::vector<std::string> words(const std::string& text) {
    std::vector<std::string> out;
    std::string w;
    for (char ch : text) {
      auto u = static_cast<unsigned char>(ch);
      if (std::isalnum(u) || u >= 0x80) {
        w.push_back(static_cast<char>(std::tolower(u)));
      } else if (!w.empty()) {
        out.push_back(std::move(w));
        w.clear();
      }
    }
    if (!w.empty()) {
      out.push_back(std::move(w));
    }
    return out;
  }
  std::vector<std::vector<std::string>> docs_;
  std::unordered_map<std::string, std::array<double, 2>> counts_;
  std::array<double, 2> total_{0, 0};
  std::array<double, 2> docs_per_class_{0, 0};
};

constexpr std::size_t kMinTraining = 10;  // akismet.min_training default

// Per-site models as app/akismet_service keeps them with `[akismet] site_models = true`: each
// video is a site with its own Classifier (cl::site_classifier_options(), or `hash_bits`),
// trained on that site's feedback; it has a say once it has seen kMinTraining spam and ham.
struct SiteSpec {
  bool on = false;
  cl::SiteCombineOptions combine;
  int hash_bits = cl::kSiteHashBits;
};

class SiteModels {
 public:
  SiteModels(const std::vector<Comment>& all, const std::vector<cl::FeatureVector>& features,
             const SiteSpec& spec)
      : all_(all), features_(features), spec_(spec) {}
  void train(std::size_t i, bool spam) {
    if (!spec_.on) {
      return;
    }
    auto it = sites_.find(all_[i].video);
    if (it == sites_.end()) {
      cl::ClassifierOptions o = cl::site_classifier_options();
      o.logistic.hash_bits = spec_.hash_bits;
      it = sites_.emplace(all_[i].video, Site{cl::Classifier(o)}).first;
    }
    it->second.classifier.train(features_[i], spam);
    ++(spam ? it->second.spam : it->second.ham);
  }
  // The site model's P(spam) for comment i, when its site model has a say.
  [[nodiscard]] std::optional<double> score(std::size_t i) const {
    auto it = sites_.find(all_[i].video);
    if (it == sites_.end() || it->second.spam < kMinTraining || it->second.ham < kMinTraining) {
      return std::nullopt;
    }
    return it->second.classifier.score(features_[i]);
  }
  [[nodiscard]] const SiteSpec& spec() const { return spec_; }

 private:
  struct Site {
    cl::Classifier classifier;
    std::size_t spam = 0;
    std::size_t ham = 0;
  };
  const std::vector<Comment>& all_;
  const std::vector<cl::FeatureVector>& features_;
  SiteSpec spec_;
  std::map<int, Site> sites_;
};

// Any Classifier configuration over features computed once per comment; with site models, the
// deployment model combined with the comment's site model by cl::combined_probability() (the
// production rule; its log-odds clamp is left wide here so that it does not tie scores).
class ClassifierModel final : public Model {
 public:
  ClassifierModel(const std::vector<Comment>& all, const std::vector<cl::FeatureVector>& features,
                  cl::ClassifierOptions o, const SiteSpec& site)
      : features_(features), classifier_(o), sites_(all, features, site) {}
  void train(std::size_t i, bool spam) override {
    classifier_.train(features_[i], spam);
    sites_.train(i, spam);
  }
  [[nodiscard]] double score(std::size_t i) const override {
    const double p = classifier_.score(features_[i]);
    if (!sites_.spec().on) {
      return p;
    }
    return cl::combined_probability(p, sites_.score(i), sites_.spec().combine, 30.0);
  }

 private:
  const std::vector<cl::FeatureVector>& features_;
  cl::Classifier classifier_;
  SiteModels sites_;
};

// The verdict a site gets from comment-check: akismet::analyze() + akismet::decide() with the
// default DecisionOptions, fed the classifier's P(spam) once it has seen min_training spam and
// ham (as app/akismet_service does), and the URL-host and exact-text reputation that
// submit-spam/submit-ham feedback builds (each training comment reported once). CONTENT goes
// to comment_content and AUTHOR to comment_author; the data has no IP, e-mail, user agent or
// referrer, so the IP and e-mail reputations stay empty and a fixed browser user agent and
// referrer stand in for what every real WordPress request carries (otherwise NO_USER_AGENT and
// NO_REFERRER would fire on every comment). The score is sigmoid(decision score - threshold),
// so "> 0.5" is exactly decide()'s verdict.
// With site models, each video is a site (its own blog URL, so TEXT_ON_MANY_SITES stays off
// as before: the flood tracker is not modelled) and decide() gets the site model's P(spam).
class DecisionModel final : public Model {
 public:
  DecisionModel(const std::vector<Comment>& all, const std::vector<cl::FeatureVector>& features,
                cl::ClassifierOptions o, const SiteSpec& site, double threshold)
      : threshold_(threshold),
        features_(features),
        classifier_(o),
        sites_(all, features, site),
        reported_(all.size(), false) {
    for (const auto& c : all) {
      gf::akismet::CommentRequest r;
      r.blog = "https://blog.example.org/";
      r.user_agent = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
      r.referrer = "https://blog.example.org/a-post/";
      r.comment_type = "comment";
      r.comment_author = c.author;
      r.comment_content = c.content;
      analyses_.push_back(gf::akismet::analyze(r));
      requests_.push_back(std::move(r));
    }
  }
  void train(std::size_t i, bool spam) override {
    classifier_.train(features_[i], spam);
    sites_.train(i, spam);
    ++(spam ? spam_ : ham_);
    if (reported_[i]) {
      return;  // later passes over the same training comments: reputation counts feedback once
    }
    reported_[i] = true;
    const auto& a = analyses_[i];
    if (a.link_hosts.size() <= 3) {
      for (const auto& h : a.link_hosts) {
        bump(urls_[h], spam);
      }
    }
    if (a.text_hash != 0) {
      bump(texts_[a.text_hash], spam);
    }
  }
  [[nodiscard]] double score(std::size_t i) const override {
    const auto& a = analyses_[i];
    gf::akismet::Signals sig;
    for (std::size_t k = 0; k < a.link_hosts.size() && k < 5; ++k) {
      auto it = urls_.find(a.link_hosts[k]);
      if (it != urls_.end() &&
          (it->second.spam > sig.url.spam || (sig.url.spam == 0 && it->second.ham > sig.url.ham))) {
        sig.url = it->second;
      }
    }
    if (auto it = texts_.find(a.text_hash); a.text_hash != 0 && it != texts_.end()) {
      sig.text = it->second;
    }
    if (spam_ >= kMinTraining && ham_ >= kMinTraining) {
      sig.text_probability = classifier_.score(features_[i]);
      sig.site_probability = sites_.score(i);
    }
    gf::akismet::DecisionOptions o;
    o.site = sites_.spec().combine;
    o.threshold = threshold_;
    const auto d = gf::akismet::decide(requests_[i], a, sig, o);
    return 1.0 / (1.0 + std::exp(-(d.score - o.threshold)));
  }

 private:
  static void bump(gf::akismet::Reputation& r, bool spam) { ++(spam ? r.spam : r.ham); }
  double threshold_;
  const std::vector<cl::FeatureVector>& features_;
  cl::Classifier classifier_;
  SiteModels sites_;
  std::vector<gf::akismet::CommentRequest> requests_;
  std::vector<gf::akismet::Analysis> analyses_;
  std::vector<bool> reported_;
  std::unordered_map<std::string, gf::akismet::Reputation> urls_;
  std::unordered_map<std::uint64_t, gf::akismet::Reputation> texts_;
  std::size_t spam_ = 0;
  std::size_t ham_ = 0;
};

// The loss of the AvgLogisticModel experiment.
enum class Loss : std::uint8_t { Log, Hinge, ModifiedHuber };

struct Spec {
  std::string name;
  bool plain_nb = false;
  bool decision = false;  // the production verdict: akismet::decide() over the classifier
  double threshold = 0.0;  // ... with this akismet.spam_threshold
  cl::ClassifierOptions options;
  bool author = false;  // add the AUTHOR field under its prefix
  int epochs = 1;       // passes over the training folds in protocol (a)
  unsigned seed = 0;    // protocol (a): shuffle seed offset (0 = the reported runs)
  int bag = 1;          // protocol (a): average the log-odds of this many models, each trained
                        // on its own shuffle of the training folds
  SiteSpec site;        // per-site models (protocol (b) only: in (a) the test site is unseen,
                        // its model never trained, so the rows would equal the ones without)
  // An experiment: also train a second classifier with these options and average the two
  // log-odds (a second view of the same comment).
  std::optional<cl::ClassifierOptions> partner;
  double nb_alpha = 0.0;  // > 0: the NB-weighted experiment (NbLogisticModel) with this smoothing
  bool nb_absolute = false;
  std::optional<Loss> loss;  // the AvgLogisticModel experiment with this loss
  bool average = false;      // ... scoring with its averaged weights
  // An experiment: features whose readable name starts with one of these are dropped.
  std::vector<std::string> drop_prefixes;
};

using FeatureCache = std::map<std::string, std::vector<cl::FeatureVector>>;

std::string cache_key(const Spec& s) {
  const auto& t = s.options.tokenizer;
  std::ostringstream k;
  k << t.osb << t.osb_window << t.char_ngrams << t.char_ngram_min << t.char_ngram_max << t.shape
    << t.length << t.stems << t.text_ngrams << t.text_ngram_min << t.text_ngram_max << s.author;
  for (const auto& p : s.drop_prefixes) {
    k << '|' << p;
  }
  return k.str();
}

const std::vector<cl::FeatureVector>& features_for(const Spec& s, const std::vector<Comment>& all,
                                                   FeatureCache& cache) {
  auto key = cache_key(s);
  auto it = cache.find(key);
  if (it != cache.end()) {
    return it->second;
  }
  cl::Classifier c(s.options);
  std::vector<cl::FeatureVector> fv;
  fv.reserve(all.size());
  for (const auto& cm : all) {
    cl::CommentFields f;
    f.content = cm.content;
    if (s.author) {
      f.author = cm.author;
    }
    cl::TokenNames names;
    auto v = c.features(f, s.drop_prefixes.empty() ? nullptr : &names);
    std::erase_if(v, [&](const cl::Feature& x) {
      const auto name = names.find(x.id);
      return name && std::any_of(s.drop_prefixes.begin(), s.drop_prefixes.end(),
                                 [&](const std::string& p) { return name->starts_with(p); });
    });
    fv.push_back(std::move(v));
  }
  return cache.emplace(key, std::move(fv)).first->second;
}

// ---- shared by the learner experiments below ---------------------------------------------

using Terms = std::vector<std::pair<std::size_t, double>>;

double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-std::clamp(z, -35.0, 35.0))); }

// (table index, value(f)) per feature, each block scaled to unit L2 norm as in LogisticModel:
// character n-grams on their own to `ngram_weight`, the rest to 1 (one block when it is 0).
template <class ValueFn>
Terms block_terms(const cl::FeatureVector& fv, std::uint64_t mask, double ngram_weight,
                  ValueFn value) {
  const auto block = [&](const cl::Feature& f) -> std::size_t {
    return ngram_weight > 0 && f.group == cl::FeatureGroup::CharNgram ? 1 : 0;
  };
  Terms out;
  out.reserve(fv.size());
  std::array<double, 2> norm{0, 0};
  for (const cl::Feature& f : fv) {
    const std::size_t j = f.id & mask;
    const double x = value(j);
    out.emplace_back(j, x);
    norm[block(f)] += x * x;
  }
  std::size_t k = 0;
  for (const cl::Feature& f : fv) {
    const std::size_t b = block(f);
    out[k++].second *= norm[b] > 0 ? (b == 1 ? ngram_weight : 1.0) / std::sqrt(norm[b]) : 0.0;
  }
  return out;
}

// bias + sum of weight(j) * x.
template <class WeightFn>
double linear_margin(const Terms& ts, double bias, WeightFn weight) {
  double z = bias;
  for (const auto& [j, x] : ts) {
    z += weight(j) * x;
  }
  return z;
}

// An experiment: NB-weighted logistic regression (Wang and Manning's NBSVM idea, online): each
// present feature's value is its current naive-Bayes log-count ratio r_j (or |r_j|), the two
// blocks are normalised as in LogisticModel, AdaGrad as there; the counts grow as it trains.
class NbLogisticModel final : public Model {
 public:
  NbLogisticModel(const std::vector<cl::FeatureVector>& features, const cl::ClassifierOptions& o,
                  double alpha, bool absolute)
      : features_(features),
        o_(o.logistic),
        alpha_(alpha),
        absolute_(absolute),
        mask_((1ULL << o.logistic.hash_bits) - 1),
        w_(mask_ + 1),
        acc_(mask_ + 1),
        spam_(mask_ + 1),
        ham_(mask_ + 1) {}
  void train(std::size_t i, bool spam) override {
    const auto ts = terms(i);
    const double p = sigmoid(margin(ts));
    const double g = p - (spam ? 1.0 : 0.0);
    for (const auto& [j, x] : ts) {
      const double w = w_[j];
      const double gi = g * x + o_.l2 * w;
      acc_[j] += static_cast<float>(gi * gi);
      w_[j] = static_cast<float>(w - o_.learning_rate / (std::sqrt(acc_[j]) + 1e-6) * gi);
    }
    bias_acc_ += g * g;
    bias_ -= o_.learning_rate / (std::sqrt(bias_acc_) + 1e-6) * g;
    for (const cl::Feature& f : features_[i]) {
      const std::size_t j = f.id & mask_;
      (spam ? spam_ : ham_)[j] += 1.0F;
      (spam ? spam_total_ : ham_total_) += 1.0;
    }
  }
  [[nodiscard]] double score(std::size_t i) const override { return sigmoid(margin(terms(i))); }

 private:
  [[nodiscard]] Terms terms(std::size_t i) const {
    return block_terms(features_[i], mask_, o_.ngram_weight, [&](std::size_t j) {
      const double r = std::log((spam_[j] + alpha_) / (spam_total_ + alpha_)) -
                       std::log((ham_[j] + alpha_) / (ham_total_ + alpha_));
      return absolute_ ? 1.0 + std::fabs(r) : r;
    });
  }
  [[nodiscard]] double margin(const Terms& ts) const {
    return linear_margin(ts, bias_, [&](std::size_t j) { return w_[j]; });
  }
  const std::vector<cl::FeatureVector>& features_;
  cl::LogisticOptions o_;
  double alpha_;
  bool absolute_;
  std::uint64_t mask_;
  std::vector<float> w_, acc_, spam_, ham_;
  double spam_total_ = 0, ham_total_ = 0, bias_ = 0, bias_acc_ = 0;
};

// An experiment: the default logistic model (binary values, two unit-norm blocks, AdaGrad, L2
// on the touched weights), optionally scoring with the running average of its weights over all
// updates (averaged SGD), and optionally with the hinge loss (a linear SVM trained by SGD) or the
// modified Huber loss instead of the log loss. Doubles throughout; the hash table as configured.
class AvgLogisticModel final : public Model {
 public:
  AvgLogisticModel(const std::vector<cl::FeatureVector>& features, const cl::ClassifierOptions& o,
                   Loss loss, bool average)
      : features_(features),
        o_(o.logistic),
        loss_(loss),
        average_(average),
        mask_((1ULL << o.logistic.hash_bits) - 1),
        w_(mask_ + 1),
        u_(mask_ + 1),
        acc_(mask_ + 1) {}
  void train(std::size_t i, bool spam) override {
    ++t_;
    const auto ts = terms(i);
    const double z = margin(ts, false);
    const double y = spam ? 1.0 : -1.0;
    double g = 0;  // d loss / d margin
    switch (loss_) {
      case Loss::Log:
        g = sigmoid(z) - (spam ? 1.0 : 0.0);
        break;
      case Loss::Hinge:
        g = y * z < 1 ? -y : 0.0;
        break;
      case Loss::ModifiedHuber:
        g = y * z >= 1 ? 0.0 : (y * z >= -1 ? -2 * (1 - y * z) * y : -4 * y);
        break;
    }
    // Averaging by the usual lazy trick: u accumulates t * step, the average is w - u / t.
    for (const auto& [j, x] : ts) {
      const double gi = g * x + o_.l2 * w_[j];
      if (gi == 0) {
        continue;
      }
      acc_[j] += gi * gi;
      const double d = -o_.learning_rate / (std::sqrt(acc_[j]) + 1e-6) * gi;
      w_[j] += d;
      u_[j] += static_cast<double>(t_) * d;
    }
    if (g != 0) {
      bias_acc_ += g * g;
      const double d = -o_.learning_rate / (std::sqrt(bias_acc_) + 1e-6) * g;
      bias_ += d;
      bias_u_ += static_cast<double>(t_) * d;
    }
  }
  // The margin of the hinge losses is not log-odds; sigmoid keeps its sign and its ranking.
  [[nodiscard]] double score(std::size_t i) const override {
    return sigmoid(margin(terms(i), average_));
  }

 private:
  [[nodiscard]] Terms terms(std::size_t i) const {
    return block_terms(features_[i], mask_, o_.ngram_weight, [](std::size_t) { return 1.0; });
  }
  [[nodiscard]] double margin(const Terms& ts, bool average) const {
    const double t = static_cast<double>(std::max<std::uint64_t>(t_, 1));
    if (!average) {
      return linear_margin(ts, bias_, [&](std::size_t j) { return w_[j]; });
    }
    return linear_margin(ts, bias_ - bias_u_ / t, [&](std::size_t j) { return w_[j] - u_[j] / t; });
  }
  const std::vector<cl::FeatureVector>& features_;
  cl::LogisticOptions o_;
  Loss loss_;
  bool average_;
  std::uint64_t mask_;
  std::vector<double> w_, u_, acc_;
  std::uint64_t t_ = 0;
  double bias_ = 0, bias_u_ = 0, bias_acc_ = 0;
};

// The mean log-odds of two models.
class PairModel final : public Model {
 public:
  PairModel(std::unique_ptr<Model> a, std::unique_ptr<Model> b)
      : a_(std::move(a)), b_(std::move(b)) {}
  void train(std::size_t i, bool spam) override {
    a_->train(i, spam);
    b_->train(i, spam);
  }
  [[nodiscard]] double score(std::size_t i) const override {
    const auto logit = [](double p) {
      p = std::clamp(p, 1e-9, 1 - 1e-9);
      return std::log(p / (1 - p));
    };
    const double z = (logit(a_->score(i)) + logit(b_->score(i))) / 2;
    return 1 / (1 + std::exp(-z));
  }

 private:
  std::unique_ptr<Model> a_;
  std::unique_ptr<Model> b_;
};

std::unique_ptr<Model> make_model(const Spec& s, const std::vector<Comment>& all,
                                  FeatureCache& cache) {
  if (s.partner) {
    Spec one = s;
    one.partner.reset();
    Spec two = one;
    two.options = *s.partner;
    return std::make_unique<PairModel>(make_model(one, all, cache), make_model(two, all, cache));
  }
  if (s.plain_nb) {
    return std::make_unique<PlainNaiveBayes>(all);
  }
  if (s.nb_alpha > 0) {
    return std::make_unique<NbLogisticModel>(features_for(s, all, cache), s.options, s.nb_alpha,
                                             s.nb_absolute);
  }
  if (s.loss) {
    return std::make_unique<AvgLogisticModel>(features_for(s, all, cache), s.options, *s.loss,
                                              s.average);
  }
  if (s.decision) {
    return std::make_unique<DecisionModel>(all, features_for(s, all, cache), s.options, s.site,
                                           s.threshold);
  }
  return std::make_unique<ClassifierModel>(all, features_for(s, all, cache), s.options, s.site);
}

struct LovoResult {
  std::array<Metrics, 5> folds;
  Metrics pooled;
};

LovoResult leave_one_video_out(const Spec& s, const std::vector<Comment>& all,
                               FeatureCache& cache) {
  LovoResult r;
  std::vector<double> pooled_scores;
  std::vector<bool> pooled_labels;
  for (int fold = 0; fold < 5; ++fold) {
    std::vector<std::unique_ptr<Model>> models;
    for (int b = 0; b < std::max(1, s.bag); ++b) {
      auto model = make_model(s, all, cache);
      std::vector<std::size_t> train;
      for (std::size_t i = 0; i < all.size(); ++i) {
        if (all[i].video != fold) {
          train.push_back(i);
        }
      }
      // Fixed seeds: runs are reproducible (bag member 0 is the single-model run).
      std::mt19937_64 rng(0x5eed + static_cast<unsigned>(fold) + 1000u * static_cast<unsigned>(b) +
                          1000003u * s.seed);
      for (int e = 0; e < s.epochs; ++e) {
        std::shuffle(train.begin(), train.end(), rng);
        for (auto i : train) {
          model->train(i, all[i].spam);
        }
      }
      models.push_back(std::move(model));
    }
    std::vector<double> scores;
    std::vector<bool> labels;
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (all[i].video == fold) {
        double logit = 0;
        for (const auto& m : models) {
          const double p = std::clamp(m->score(i), 1e-12, 1 - 1e-12);
          logit += std::log(p / (1 - p));
        }
        logit /= static_cast<double>(models.size());
        scores.push_back(models.size() == 1 ? models[0]->score(i) : 1 / (1 + std::exp(-logit)));
        labels.push_back(all[i].spam);
      }
    }
    r.folds[static_cast<std::size_t>(fold)] = measure(scores, labels);
    pooled_scores.insert(pooled_scores.end(), scores.begin(), scores.end());
    pooled_labels.insert(pooled_labels.end(), labels.begin(), labels.end());
  }
  r.pooled = measure(pooled_scores, pooled_labels);
  return r;
}

Metrics online(const Spec& s, const std::vector<Comment>& all,
               const std::vector<std::size_t>& order, FeatureCache& cache) {
  auto model = make_model(s, all, cache);
  std::vector<double> scores;
  std::vector<bool> labels;
  for (auto i : order) {
    scores.push_back(model->score(i));
    labels.push_back(all[i].spam);
    model->train(i, all[i].spam);
  }
  return measure(scores, labels);
}

// Prints the test comments that `s` gets wrong in protocol (a), with the features that pushed
// the score most (used while iterating on features).
void dump_errors(const Spec& s, const std::vector<Comment>& all) {
  for (int fold = 0; fold < 5; ++fold) {
    cl::Classifier c(s.options);
    std::vector<std::size_t> train;
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (all[i].video != fold) {
        train.push_back(i);
      }
    }
    auto fields = [&](std::size_t i) {
      cl::CommentFields f;
      f.content = all[i].content;
      if (s.author) {
        f.author = all[i].author;
      }
      return f;
    };
    std::mt19937_64 rng(0x5eed + static_cast<unsigned>(fold));
    for (int e = 0; e < s.epochs; ++e) {
      std::shuffle(train.begin(), train.end(), rng);
      for (auto i : train) {
        c.train(c.features(fields(i)), all[i].spam);
      }
    }
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (all[i].video != fold) {
        continue;
      }
      cl::TokenNames names;
      auto fv = c.features(fields(i), &names);
      double p = c.score(fv);
      if ((p > 0.5) == all[i].spam) {
        continue;
      }
      std::printf("%s v%d p=%.3f  %.160s\n   ", all[i].spam ? "MISSED-SPAM" : "FALSE-POS  ", fold,
                  p, all[i].content.c_str());
      for (const auto& k : c.top_contributions(fv, 6)) {
        auto n = names.find(k.id);
        std::printf(" [%s %+.2f]", n ? std::string(*n).c_str() : "?", k.weight);
      }
      std::printf("\n");
    }
  }
}

// The default before character n-grams (kept as the anchor of the change): words, stems, OSB,
// URL and shape features; L2 1e-3; content only, as it was measured.
cl::ClassifierOptions previous_default_options() {
  cl::ClassifierOptions o = cl::default_classifier_options();
  o.tokenizer.text_ngrams = false;
  o.logistic.ngram_weight = 0.0;
  o.logistic.l2 = 1e-3;
  return o;
}

// Per-comment cost of the production path: Classifier::features() of content + author, then
// score(), with a classifier trained on every comment. Single thread, best of 5 runs.
void time_scoring(const std::vector<Comment>& all, const cl::ClassifierOptions& options,
                  const char* label) {
  cl::Classifier c(options);
  auto fields = [&](const Comment& cm) {
    cl::CommentFields f;
    f.content = cm.content;
    f.author = cm.author;
    return f;
  };
  for (const auto& cm : all) {
    c.train(c.features(fields(cm)), cm.spam);
  }
  std::size_t bytes = 0;
  std::size_t nfeatures = 0;
  for (const auto& cm : all) {
    bytes += cm.content.size() + cm.author.size();
    nfeatures += c.features(fields(cm)).size();
  }
  double best = 1e30;
  double sink = 0;
  for (int run = 0; run < 5; ++run) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int rep = 0; rep < 5; ++rep) {
      for (const auto& cm : all) {
        sink += c.score(c.features(fields(cm)));
      }
    }
    const std::chrono::duration<double, std::nano> dt = std::chrono::steady_clock::now() - t0;
    best = std::min(best, dt.count() / (5.0 * static_cast<double>(all.size())));
  }
  std::printf(
      "%-18s features+score: %.2f us per comment (mean %.0f bytes, %.0f features; sink %.1f)\n",
      label, best / 1000.0, static_cast<double>(bytes) / static_cast<double>(all.size()),
      static_cast<double>(nfeatures) / static_cast<double>(all.size()), sink);
}

// ---- report --------------------------------------------------------------------------------

void print_header() {
  std::printf("%-34s %-8s %-10s %5s %8s %8s %8s %7s\n", "model", "protocol", "fold", "n", "acc",
              "ham FPR", "recall", "AUC");
}

void print_row(const std::string& model, const char* protocol, const std::string& fold,
               const Metrics& m) {
  std::printf("%-34s %-8s %-10s %5zu %7.2f%% %7.2f%% %7.2f%% %7.4f\n", model.c_str(), protocol,
              fold.c_str(), m.n, 100 * m.accuracy, 100 * m.fpr, 100 * m.recall, m.auc);
}

// Adds `s` and the same model inside the production decision, named `verdict_name`.
void push_with_verdict(std::vector<Spec>& specs, const Spec& s, const std::string& verdict_name) {
  specs.push_back(s);
  Spec verdict = s;
  verdict.name = verdict_name;
  verdict.decision = true;
  specs.push_back(verdict);
}

std::vector<Spec> report_specs() {
  std::vector<Spec> specs;
  Spec nb;
  nb.name = "plain word NB (anchor)";
  nb.plain_nb = true;
  specs.push_back(nb);

  Spec fisher;
  fisher.name = "Fisher (Robinson chi2)";
  fisher.options.engine = cl::Engine::Fisher;
  specs.push_back(fisher);

  Spec lr;
  lr.name = "logistic (1 pass)";
  lr.options.engine = cl::Engine::Logistic;
  specs.push_back(lr);

  Spec blend;
  blend.name = "blend LR+Fisher (5 passes)";
  blend.options.engine = cl::Engine::Blend;
  blend.epochs = 5;
  specs.push_back(blend);

  Spec old;
  old.name = "previous default (words, content)";
  old.options = previous_default_options();
  old.epochs = 5;
  specs.push_back(old);

  Spec def;
  def.name = "DEFAULT: logistic (5 passes)";
  def.options = cl::default_classifier_options();
  def.author = true;  // production passes comment_author too
  def.epochs = 5;
  push_with_verdict(specs, def, "DEFAULT + decide() (production)");
  // The operator's setting akismet.spam_threshold (default 0): lower flags more.
  for (double t : {-0.5, -1.0}) {
    Spec lower = specs.back();
    lower.threshold = t;
    lower.name = t == -0.5 ? "decide(), spam_threshold -0.5" : "decide(), spam_threshold -1.0";
    specs.push_back(lower);
  }
  return specs;
}

// Protocol (b) only, next to the DEFAULT rows: every video is a site with its own model.
std::vector<Spec> site_specs() {
  std::vector<Spec> specs;
  const std::vector<Spec> report = report_specs();
  Spec def = *std::find_if(report.begin(), report.end(), [](const Spec& r) {
    return r.name == "DEFAULT + decide() (production)";
  });
  def.decision = false;
  def.name = "DEFAULT + site models";
  def.site.on = true;
  push_with_verdict(specs, def, "DEFAULT + decide() + site models");
  return specs;
}

// The candidates behind the site-model rule and table size (docs/akismet.md): online rows.
std::vector<Spec> site_sweep_specs() {
  std::vector<Spec> specs;
  auto add = [&](const std::string& name, double dw, double sw, int bits, bool decision) {
    Spec l;
    l.name = name;
    l.options = cl::default_classifier_options();
    l.author = true;
    l.decision = decision;
    l.site.on = sw != 0.0 || dw != 1.0;
    l.site.combine = {dw, sw};
    l.site.hash_bits = bits;
    specs.push_back(l);
  };
  for (bool decision : {false, true}) {
    const std::string d = decision ? " +decide" : "";
    add("deployment only" + d, 1.0, 0.0, 16, decision);
    add("mean of log-odds" + d, 0.5, 0.5, 16, decision);
    add("site only" + d, 0.0, 1.0, 16, decision);
    for (double w : {0.25, 0.5, 0.75, 1.0}) {
      char name[64];
      std::snprintf(name, sizeof name, "deployment + %.2f site%s", w, d.c_str());
      add(name, 1.0, w, 16, decision);
    }
    for (int bits : {14, 18, 20}) {
      add("deployment + 0.50 site, " + std::to_string(bits) + " bits" + d, 1.0, 0.5, bits,
          decision);
    }
  }
  return specs;
}

// The grid behind the default (docs/classifier.md); one pooled LOVO line (and with --seeds N
// the mean over N shuffle seeds) plus the online line per configuration. Every configuration
// passes comment_author, as production does, unless its name says "content".
std::vector<Spec> sweep_specs() {
  std::vector<Spec> specs;
  auto add = [&](const std::string& name, auto&& tweak) {
    Spec l;
    l.name = name;
    l.options = cl::default_classifier_options();
    l.author = true;
    l.epochs = 5;
    tweak(l);
    specs.push_back(l);
  };
  add("DEFAULT", [](Spec&) {});
  add("DEFAULT, content only", [](Spec& l) { l.author = false; });
  add("previous default, content only", [](Spec& l) {
    l.options = previous_default_options();
    l.author = false;
  });
  add("previous default", [](Spec& l) { l.options = previous_default_options(); });
  add("previous default, l2 1e-4", [](Spec& l) {
    l.options = previous_default_options();
    l.options.logistic.l2 = 1e-4;
  });
  add("chr3-5 one norm (weight 0)", [](Spec& l) { l.options.logistic.ngram_weight = 0.0; });
  for (double w : {0.5, 0.7, 1.0}) {
    for (double l2 : {1e-3, 1e-4, 1e-5}) {
      for (double rate : {0.2, 0.4}) {
        char name[96];
        std::snprintf(name, sizeof name, "chr3-5 w%.1f l2 %.0e rate %.1f", w, l2, rate);
        add(name, [&](Spec& l) {
          l.options.logistic.ngram_weight = w;
          l.options.logistic.l2 = l2;
          l.options.logistic.learning_rate = rate;
        });
      }
    }
  }
  for (int range : {25, 34, 45}) {
    char name[96];
    std::snprintf(name, sizeof name, "chr%d-%d w0.7 l2 1e-4", range / 10, range % 10);
    add(name, [&](Spec& l) {
      l.options.tokenizer.text_ngram_min = range / 10;
      l.options.tokenizer.text_ngram_max = range % 10;
    });
  }
  for (int epochs : {3, 10}) {
    add("DEFAULT, " + std::to_string(epochs) + " passes", [&](Spec& l) { l.epochs = epochs; });
  }
  add("DEFAULT, word-internal chr3-5 too", [](Spec& l) { l.options.tokenizer.char_ngrams = true; });
  // 2026-11-25: settings not in the grid above.
  for (double c : {0.02, 0.05, 0.1}) {
    char name[96];
    std::snprintf(name, sizeof name, "DEFAULT, train only within %.2f of the label", c);
    add(name, [&](Spec& l) { l.options.logistic.confident = c; });
  }
  add("DEFAULT, log counts (not binary)", [](Spec& l) { l.options.logistic.binary = false; });
  add("DEFAULT, no stems", [](Spec& l) { l.options.tokenizer.stems = false; });
  add("DEFAULT, OSB window 3", [](Spec& l) { l.options.tokenizer.osb_window = 3; });
  add("DEFAULT, no OSB", [](Spec& l) { l.options.tokenizer.osb = false; });
  add("DEFAULT, n-gram weight 1.4", [](Spec& l) { l.options.logistic.ngram_weight = 1.4; });
  add("DEFAULT, OSB window 3, log counts", [](Spec& l) {
    l.options.tokenizer.osb_window = 3;
    l.options.logistic.binary = false;
  });
  add("DEFAULT, bag of 5 (5x the scoring)", [](Spec& l) { l.bag = 5; });
  add("DEFAULT + a words-only model, mean log-odds",
      [](Spec& l) { l.partner = previous_default_options(); });
  for (double a : {0.5, 1.0}) {
    for (bool absolute : {false, true}) {
      char name[96];
      std::snprintf(name, sizeof name, "NB-weighted LR, alpha %.1f%s", a,
                    absolute ? ", 1+|r|" : ", r");
      add(name, [&](Spec& l) {
        l.nb_alpha = a;
        l.nb_absolute = absolute;
      });
    }
  }
  // 2026-11-25: other learners on the same features, and fewer features.
  add("DEFAULT, l2 1e-5", [](Spec& l) { l.options.logistic.l2 = 1e-5; });
  const std::array<std::pair<Loss, const char*>, 3> losses{
      {{Loss::Log, "log loss"}, {Loss::Hinge, "hinge (linear SVM)"},
       {Loss::ModifiedHuber, "modified Huber"}}};
  for (const auto& [loss, what] : losses) {
    for (bool average : {false, true}) {
      for (int epochs : {5, 10}) {
        char name[96];
        std::snprintf(name, sizeof name, "%s%s, %d passes", what, average ? ", averaged" : "",
                      epochs);
        add(name, [&](Spec& l) {
          l.loss = loss;
          l.average = average;
          l.epochs = epochs;
        });
      }
    }
  }
  add("DEFAULT, no author shape/length", [](Spec& l) {
    l.drop_prefixes = {"author/caps", "author/len", "author/words", "author/shape"};
  });
  add("DEFAULT, no shape/length at all", [](Spec& l) {
    l.drop_prefixes = {"author/caps", "author/len", "author/words", "author/shape",
                       "caps",        "len:",       "words:",       "shape:"};
  });
  add("DEFAULT, author words only", [](Spec& l) {
    l.drop_prefixes = {"author/caps", "author/len", "author/words", "author/shape", "author/o",
                       "author/s:",   "author/p:"};
  });
  return specs;
}

std::filesystem::path default_data_dir() {
  // bench/comment_eval.cpp -> repository root -> ../shared/data/...
  std::filesystem::path repo = std::filesystem::path(__FILE__).parent_path().parent_path();
  return repo / ".." / "shared" / "data" / "youtube-spam-collection-v1";
}

}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path dir = default_data_dir();
  bool sweep = false;
  bool site_sweep = false;
  bool timing = false;
  unsigned seeds = 1;  // --sweep: also report the mean over this many shuffle seeds
  int errors = -1;     // index into report_specs()
  for (int a = 1; a < argc; ++a) {
    std::string arg = argv[a];
    if (arg == "--sweep") {
      sweep = true;
    } else if (arg == "--seeds" && a + 1 < argc) {
      seeds = static_cast<unsigned>(std::max(1, std::atoi(argv[++a])));
    } else if (arg == "--site-sweep") {
      site_sweep = true;
    } else if (arg == "--time") {
      timing = true;
    } else if (arg == "--errors" && a + 1 < argc) {
      errors = std::atoi(argv[++a]);
    } else if (arg == "-h" || arg == "--help") {
      std::printf("usage: %s [DATA_DIR] [--sweep | --site-sweep | --time | --errors MODEL_INDEX]\n",
                  argv[0]);
      return 0;
    } else {
      dir = arg;
    }
  }
  std::vector<Comment> all;
  for (std::size_t f = 0; f < kFiles.size(); ++f) {
    auto rows = load_file(dir / kFiles[f], static_cast<int>(f));
    if (!rows) {
      return 1;
    }
    all.insert(all.end(), rows->begin(), rows->end());
  }
  std::size_t spam = static_cast<std::size_t>(
      std::count_if(all.begin(), all.end(), [](const Comment& c) { return c.spam; }));
  std::printf("data: %s\n%zu comments, %zu spam, %zu ham\n", dir.c_str(), all.size(), spam,
              all.size() - spam);
  auto order = chronological_order(all);
  FeatureCache cache;

  if (timing) {
    time_scoring(all, previous_default_options(), "previous default");
    time_scoring(all, cl::default_classifier_options(), "DEFAULT");
    return 0;
  }
  if (errors >= 0) {
    auto specs = report_specs();
    dump_errors(specs.at(std::min(static_cast<std::size_t>(errors), specs.size() - 1)), all);
    return 0;
  }
  if (site_sweep) {
    print_header();
    for (const auto& s : site_sweep_specs()) {
      print_row(s.name, "online", "ALL", online(s, all, order, cache));
    }
    return 0;
  }
  if (sweep) {
    std::printf("%-34s %-8s %-10s %5s %8s %8s %8s %7s\n", "config", "protocol", "", "n", "acc",
                "ham FPR", "recall", "AUC");
    for (const auto& s : sweep_specs()) {
      const Metrics pooled = leave_one_video_out(s, all, cache).pooled;
      print_row(s.name, "lovo", "pooled", pooled);
      std::printf("%-34s %-8s best threshold chosen on the test scores: %.2f%% (FPR <= 3%%)\n",
                  "", "", 100 * pooled.oracle);
      if (seeds > 1) {
        Metrics mean;
        double lo = 1;
        double hi = 0;
        for (unsigned k = 0; k < seeds; ++k) {
          Spec t = s;
          t.seed = k;
          const Metrics m = leave_one_video_out(t, all, cache).pooled;
          mean.n = m.n;
          mean.accuracy += m.accuracy / seeds;
          mean.fpr += m.fpr / seeds;
          mean.recall += m.recall / seeds;
          mean.auc += m.auc / seeds;
          lo = std::min(lo, m.accuracy);
          hi = std::max(hi, m.accuracy);
        }
        print_row(s.name, "lovo", "mean" + std::to_string(seeds), mean);
        std::printf("%-34s %-8s accuracy range over seeds %.2f%% .. %.2f%%\n", "", "", 100 * lo,
                    100 * hi);
      }
      print_row(s.name, "online", "all", online(s, all, order, cache));
      std::fflush(stdout);
    }
    return 0;
  }

  std::printf("(a) leave-one-video-out: train on 4 files, test on the 5th\n");
  std::printf("(b) online: all files merged in DATE order, score then train on each comment\n\n");
  print_header();
  for (const auto& s : report_specs()) {
    auto r = leave_one_video_out(s, all, cache);
    for (std::size_t f = 0; f < 5; ++f) {
      std::string name = kFiles[f];
      print_row(s.name, "lovo", name.substr(10, name.find('.') - 10), r.folds[f]);
    }
    print_row(s.name, "lovo", "POOLED", r.pooled);
    print_row(s.name, "online", "ALL", online(s, all, order, cache));
    std::printf("\n");
    std::fflush(stdout);
  }
  std::printf(
      "per-site models (each video a site; protocol (b) only: in (a) the test video is\n"
      "a site never seen, whose model has no say)\n");
  for (const auto& s : site_specs()) {
    print_row(s.name, "online", "ALL", online(s, all, order, cache));
  }
  return 0;
}
