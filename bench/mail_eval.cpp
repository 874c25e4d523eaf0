// gf_mail_eval: the mail scanner on a labelled corpus (the SpamAssassin public corpus, prepared
// by bench/spamd_eval.sh), with the split protocols of the issue and in-process throughput.
//
// usage: gf_mail_eval MANIFEST [--configs all|default] [--threads N] [--speed-only 1] [--cv 1]
// MANIFEST lines: PATH \t spam|ham \t half(train|test) \t fold(0-4) \t chrono(train|test)
//                 [\t minor|-  [\t arrival time, epoch s]]   (bench/sa_corpus.py)
//
// Protocols: half, 5-fold, chrono, and the lopsided splits of the half split: lop-spam trains on
// all its training spam and the 2% "minor" sample of its training ham, lop-ham the reverse.
// --cv 1 instead runs 5-fold cross-validation inside the half split's TRAINING half only (the
// fold column; balanced, lop-spam and lop-ham training regimes), which is where the class-ratio
// handling and the decision rule are chosen; the test half is not looked at. It also runs
// cv-chrono: the chrono split's training half cut at its median arrival time, the older part
// training and the newer testing (drift, without looking at the chrono test half).
//
// For each model configuration and protocol it trains a fresh Scanner on the training messages
// and scores the test messages through the production functions (spamd::learn_messages over
// spamd::interleave, as `greyflux learn`; spamd::classify_messages, as `greyflux classify`):
// FP and FN at the default threshold (the full symbol score >= required_score, what spamc -c
// would report), and 1-AUC of the model probability. With GF_EVAL_CUTS (and --cv 1) it also
// prints a ranking diagnostic, not a rule: the missed spam at the lowest model-only cut that keeps
// FP at or under 0.25% / 0.5% / 1%. Throughput figures: parsing +
// training (one thread, as the daemon's TELL path), parsing + scanning (1 and N threads).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/mime/mbox.hpp"
#include "core/mime/message.hpp"
#include "core/spamd/bulk.hpp"
#include "core/spamd/scanner.hpp"
#include "mail_eval_configs.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using gf::bench::Config;
using gf::bench::configs;
using gf::spamd::Scanner;

struct Item {
  std::string path;
  std::string raw;
  bool spam = false;
  bool half_train = false;
  int fold = 0;
  bool chrono_train = false;
  bool minor = false;
  double time = 0.0;  // arrival (Date header), the manifest's 7th column; 0 when absent
};

double auc(std::vector<std::pair<double, bool>> v) {
  std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.first < b.first; });
  double rank_sum = 0;
  std::size_t pos = 0;
  std::size_t npos = 0;
  std::size_t i = 0;
  while (i < v.size()) {
    std::size_t j = i;
    while (j < v.size() && v[j].first == v[i].first) {
      ++j;
    }
    const double avg_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (std::size_t k = i; k < j; ++k) {
      if (v[k].second) {
        rank_sum += avg_rank;
        ++pos;
      } else {
        ++npos;
      }
    }
    i = j;
  }
  if (pos == 0 || npos == 0) {
    return 0.5;
  }
  return (rank_sum - static_cast<double>(pos) * (pos + 1) / 2.0) /
         (static_cast<double>(pos) * static_cast<double>(npos));
}

// A decision rule: the weights of the three BAYES bands around the cut (the others keep their
// default weights); spam when the symbol score reaches required_score 5.0.
struct Rule {
  const char* name;
  double bayes_40;  // P in [0.2, 0.4)
  double bayes_50;  // [0.4, 0.6)
  double bayes_60;  // [0.6, 0.8)
};
constexpr Rule kRules[] = {
    {"P>=0.40 (B50 5.0)", 1.0, 5.0, 5.5},         {"P>=0.60 (B50 2.5 B60 5.0)", 1.0, 2.5, 5.0},
    {"P>=0.60 (B50 1.0 B60 5.0)", 0.5, 1.0, 5.0}, {"P>=0.80 (B60 3.0)", 0.5, 1.0, 3.0},
    {"P>=0.80 (B50 2.0 B60 4.0)", 0.5, 2.0, 4.0}, {"P>=0.80 (B50 2.5 B60 4.5)", 0.5, 2.5, 4.5},
};

double band_weight(double p, const Rule& r) {
  if (p >= 0.999) {
    return 8.0;
  }
  if (p >= 0.99) {
    return 7.0;
  }
  if (p >= 0.95) {
    return 6.5;
  }
  if (p >= 0.80) {
    return 6.0;
  }
  if (p >= 0.60) {
    return r.bayes_60;
  }
  if (p >= 0.40) {
    return r.bayes_50;
  }
  if (p >= 0.20) {
    return r.bayes_40;
  }
  if (p >= 0.05) {
    return 0.0;
  }
  return p >= 0.01 ? -1.0 : -2.0;
}

struct Scored {
  double p;      // model probability
  double other;  // the symbol score without the BAYES symbol
  bool spam;
};

struct Tally {
  std::size_t spam = 0, ham = 0, fp = 0, fn = 0;
  std::vector<std::pair<double, bool>> p;
  std::vector<Scored> scored;
  std::size_t auto_spam[2] = {0, 0};  // auto-learned as spam: [right, wrong]
  std::size_t auto_ham[2] = {0, 0};
  void add(const gf::spamd::Analysis& a, bool is_spam) {
    (is_spam ? spam : ham)++;
    if (a.is_spam && !is_spam) {
      ++fp;
    }
    if (!a.is_spam && is_spam) {
      ++fn;
    }
    p.emplace_back(a.p_spam, is_spam);
    double bayes = 0.0;
    for (const auto& s : a.symbols) {
      bayes += s.name.starts_with("BAYES_") ? s.score : 0.0;
    }
    scored.push_back(Scored{a.p_spam, a.score - bayes, is_spam});
  }
  void print(const std::string& config, const std::string& proto) const {
    std::printf("%-30s %-8s %5zu %5zu  FP %5.2f%% (%3zu)  FN %5.2f%% (%3zu)  1-AUC %.3f%%\n",
                config.c_str(), proto.c_str(), ham, spam,
                100.0 * fp / std::max<std::size_t>(ham, 1), fp,
                100.0 * fn / std::max<std::size_t>(spam, 1), fn, 100.0 * (1.0 - auc(p)));
    if (auto_spam[0] + auto_spam[1] + auto_ham[0] + auto_ham[1] > 0) {
      std::printf("    auto-learned: ham %zu (of them spam: %zu), spam %zu (of them ham: %zu)\n",
                  auto_ham[0] + auto_ham[1], auto_ham[1], auto_spam[0] + auto_spam[1],
                  auto_spam[1]);
    }
    if (std::getenv("GF_EVAL_RULES") != nullptr) {
      print_rules();
    }
  }
  // FP/FN of every candidate rule on the same scores (the model is trained once).
  void print_rules() const {
    for (const Rule& r : kRules) {
      std::size_t rfp = 0;
      std::size_t rfn = 0;
      for (const Scored& s : scored) {
        const double bayes = s.p >= 0.0 ? band_weight(s.p, r) : 0.0;
        const bool flagged = s.other + bayes >= 5.0 - 1e-9;
        rfp += flagged && !s.spam ? 1 : 0;
        rfn += !flagged && s.spam ? 1 : 0;
      }
      std::printf("    rule %-28s FP %5.2f%% (%3zu)  FN %5.2f%% (%3zu)\n", r.name,
                  100.0 * rfp / std::max<std::size_t>(ham, 1), rfp,
                  100.0 * rfn / std::max<std::size_t>(spam, 1), rfn);
    }
    if (std::getenv("GF_EVAL_CUTS") == nullptr) {
      return;
    }
    std::printf("    model only, FP/FN at P >=");
    for (double cut : {0.4, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9}) {
      std::size_t cfp = 0;
      std::size_t cfn = 0;
      for (const Scored& x : scored) {
        cfp += (x.p >= cut && !x.spam) ? 1 : 0;
        cfn += (x.p < cut && x.spam) ? 1 : 0;
      }
      std::printf("  %.2f: %.2f/%.2f", cut, 100.0 * cfp / std::max<std::size_t>(ham, 1),
                  100.0 * cfn / std::max<std::size_t>(spam, 1));
    }
    std::printf("\n");
    // Ranking diagnostic (not a rule): the missed spam at the lowest model-only cut that keeps
    // FP at or under 0.25% / 0.5% / 1% of these hams.
    std::vector<double> hams;
    std::vector<double> spams;
    for (const Scored& x : scored) {
      (x.spam ? spams : hams).push_back(x.p);
    }
    std::sort(hams.begin(), hams.end(), std::greater<>());
    const auto saturated = [](const std::vector<double>& v) {
      return std::count_if(v.begin(), v.end(), [](double x) { return x >= 1.0 - 1e-9; });
    };
    std::printf("    P >= 1-1e-9: ham %td, spam %td;", saturated(hams), saturated(spams));
    std::printf("  best FN at FP <=");
    for (double limit : {0.0025, 0.005, 0.01}) {
      const auto allowed = static_cast<std::size_t>(limit * static_cast<double>(hams.size()));
      // Spam must score above the (allowed+1)-th highest ham.
      const double above = allowed < hams.size() ? hams[allowed] : -1.0;
      std::size_t missed = 0;
      for (double x : spams) {
        missed += x > above ? 0 : 1;
      }
      std::printf("  %.2f%%: %.2f%%", 100.0 * limit,
                  100.0 * static_cast<double>(missed) / std::max<std::size_t>(spams.size(), 1));
    }
    std::printf("\n");
  }
};

// Trains and tests through the production code: spamd::interleave + spamd::learn_messages is
// what `greyflux learn` runs (the classes interleaved, each message learned once, a message
// already learned skipped), spamd::classify_messages what `greyflux classify` and the spamd
// front door run (parse + spamd::evaluate). One thread: the result does not depend on it.
void train(Scanner& s, const std::vector<const Item*>& items) {
  std::vector<std::string_view> sp;
  std::vector<std::string_view> hm;
  for (const Item* it : items) {
    (it->spam ? sp : hm).push_back(it->raw);
  }
  gf::spamd::learn_messages(s, gf::spamd::interleave(sp, hm));
}

std::vector<std::string_view> raws_of(const std::vector<const Item*>& items) {
  std::vector<std::string_view> raws;
  raws.reserve(items.size());
  for (const Item* it : items) {
    raws.push_back(it->raw);
  }
  return raws;
}

// GF_EVAL_DUMP=FILE appends one line per test message, for studies of the decision rule
// without retraining (bench/mail_shift_study.py): configuration, protocol, run, label (1 =
// spam), spam and ham learned, the symbol score without BAYES_*, the model P, the verdict
// (1 = spam), the file. One stream for every instantiation of run().
FILE* dump_file() {
  static FILE* dump = [] {
    const char* path = std::getenv("GF_EVAL_DUMP");
    return path != nullptr ? std::fopen(path, "a") : nullptr;
  }();
  return dump;
}
int dump_runs = 0;

template <class TrainPred, class TestPred>
void run(const Config& c, const std::string& proto, const std::vector<Item>& items, Tally& t,
         TrainPred is_train, TestPred is_test) {
  Scanner s(c.options);
  std::vector<const Item*> tr;
  std::vector<const Item*> te;
  for (const Item& it : items) {
    if (is_train(it)) {
      tr.push_back(&it);
    }
    if (is_test(it)) {
      te.push_back(&it);
    }
  }
  train(s, tr);
  std::vector<gf::spamd::Evaluation> results;
  if (c.options.auto_learn.enabled) {
    // As a deployment meets it: the test messages in arrival order, each scanned with the model
    // as it stands and auto-learned (no label) when the model is sure, before the next.
    std::stable_sort(te.begin(), te.end(),
                     [](const Item* a, const Item* b) { return a->time < b->time; });
    std::vector<std::optional<bool>> learned;
    results = gf::spamd::classify_stream(s, raws_of(te), gf::spamd::ActionPolicy{}, &learned);
    for (std::size_t i = 0; i < te.size(); ++i) {
      if (learned[i]) {
        auto& n = *learned[i] ? t.auto_spam : t.auto_ham;
        n[*learned[i] != te[i]->spam ? 1 : 0] += 1;
      }
    }
  } else {
    results = gf::spamd::classify_messages(s, raws_of(te), gf::spamd::ActionPolicy{}, false);
  }
  FILE* dump = dump_file();
  const int run_id = ++dump_runs;
  for (std::size_t i = 0; i < te.size(); ++i) {
    const gf::spamd::Analysis& a = results[i].analysis;
    if (dump != nullptr) {
      double bayes = 0.0;
      for (const auto& sym : a.symbols) {
        bayes += sym.name.starts_with("BAYES_") ? sym.score : 0.0;
      }
      std::fprintf(dump, "%s\t%s\t%d\t%d\t%llu\t%llu\t%.3f\t%.9g\t%d\t%s\n", c.name.c_str(),
                   proto.c_str(), run_id, te[i]->spam ? 1 : 0,
                   static_cast<unsigned long long>(s.spam_learned()),
                   static_cast<unsigned long long>(s.ham_learned()), a.score - bayes, a.p_spam,
                   a.is_spam ? 1 : 0, te[i]->path.c_str());
    }
    if (std::getenv("GF_EVAL_MISSES") != nullptr && a.is_spam != te[i]->spam) {
      std::printf("MISS %s %s %s p=%.3f score=%.1f %s\n", proto.c_str(),
                  te[i]->spam ? "spam" : "ham", te[i]->path.c_str(), a.p_spam, a.score,
                  gf::spamd::symbol_list(a).c_str());
    }
    t.add(a, te[i]->spam);
  }
}

// The training messages of a lopsided split: all of one class, the minor sample of the other.
bool lop_spam(const Item& i) { return i.spam || i.minor; }
bool lop_ham(const Item& i) { return !i.spam || i.minor; }

// GF_EVAL_PROTOCOLS=half,chrono,... runs only those protocols (GF_EVAL_HALF_ONLY: half only).
bool wanted(std::string_view proto) {
  if (std::getenv("GF_EVAL_HALF_ONLY") != nullptr) {
    return proto == "half";
  }
  const char* list = std::getenv("GF_EVAL_PROTOCOLS");
  if (list == nullptr) {
    return true;
  }
  std::string padded(1, ',');
  padded.append(list).push_back(',');
  std::string needle(1, ',');
  needle.append(proto).push_back(',');
  return padded.find(needle) != std::string::npos;
}

void evaluate(const Config& c, const std::vector<Item>& items) {
  auto half_test = [](const Item& i) { return !i.half_train; };
  if (wanted("half")) {
    Tally half;
    run(
        c, "half", items, half, [](const Item& i) { return i.half_train; }, half_test);
    half.print(c.name, "half");
  }
  if (wanted("5-fold")) {
    Tally folds;
    for (int f = 0; f < 5; ++f) {
      run(
          c, "5-fold", items, folds, [f](const Item& i) { return i.fold != f; },
          [f](const Item& i) { return i.fold == f; });
    }
    folds.print(c.name, "5-fold");
  }
  if (wanted("chrono")) {
    Tally chrono;
    run(
        c, "chrono", items, chrono, [](const Item& i) { return i.chrono_train; },
        [](const Item& i) { return !i.chrono_train; });
    chrono.print(c.name, "chrono");
  }
  if (wanted("lop-spam")) {
    Tally ls;
    run(
        c, "lop-spam", items, ls, [](const Item& i) { return i.half_train && lop_spam(i); },
        half_test);
    ls.print(c.name, "lop-spam");
  }
  if (wanted("lop-ham")) {
    Tally lh;
    run(
        c, "lop-ham", items, lh, [](const Item& i) { return i.half_train && lop_ham(i); },
        half_test);
    lh.print(c.name, "lop-ham");
  }
  std::fflush(stdout);
}

// 5-fold cross-validation inside the half split's training half, and a chronological split of
// the chrono split's training half (cv-chrono): the choices are made here.
void cross_validate(const Config& c, const std::vector<Item>& items) {
  struct Regime {
    const char* name;
    bool (*keep)(const Item&);
  };
  const Regime regimes[] = {
      {"cv-bal", [](const Item&) { return true; }}, {"cv-lops", lop_spam}, {"cv-loph", lop_ham}};
  for (const Regime& r : regimes) {
    if (!wanted(r.name)) {
      continue;
    }
    Tally t;
    for (int f = 0; f < 5; ++f) {
      run(
          c, r.name, items, t,
          [f, &r](const Item& i) { return i.half_train && i.fold != f && r.keep(i); },
          [f](const Item& i) { return i.half_train && i.fold == f; });
    }
    t.print(c.name, r.name);
    t.print_rules();
    std::fflush(stdout);
  }
  // Drift inside the chronological split's TRAINING half: its older half trains, its newer half
  // tests (the chrono test half is not looked at).
  if (!wanted("cv-chrono")) {
    return;
  }
  std::vector<double> times;
  for (const Item& i : items) {
    if (i.chrono_train) {
      times.push_back(i.time);
    }
  }
  if (times.empty()) {
    return;
  }
  std::nth_element(times.begin(), times.begin() + static_cast<std::ptrdiff_t>(times.size() / 2),
                   times.end());
  const double middle = times[times.size() / 2];
  Tally t;
  run(
      c, "cv-chrono", items, t,
      [middle](const Item& i) { return i.chrono_train && i.time < middle; },
      [middle](const Item& i) { return i.chrono_train && i.time >= middle; });
  t.print(c.name, "cv-chrono");
  t.print_rules();
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: gf_mail_eval MANIFEST [--configs all|default] [--threads N]\n");
    return 2;
  }
  bool all = true;
  bool speed_only = false;
  bool cv = false;
  unsigned threads = std::max(1U, std::thread::hardware_concurrency());
  for (int i = 2; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--configs") == 0) {
      all = std::strcmp(argv[i + 1], "all") == 0;
    } else if (std::strcmp(argv[i], "--speed-only") == 0) {
      speed_only = std::strcmp(argv[i + 1], "1") == 0;
    } else if (std::strcmp(argv[i], "--cv") == 0) {
      cv = std::strcmp(argv[i + 1], "1") == 0;
    } else if (std::strcmp(argv[i], "--threads") == 0) {
      threads = static_cast<unsigned>(std::atoi(argv[i + 1]));
    }
  }
  std::vector<Item> items;
  {
    std::ifstream man(argv[1]);
    std::string line;
    while (std::getline(man, line)) {
      std::istringstream ls(line);
      Item it;
      std::string label, half, fold, chrono, minor;
      if (!std::getline(ls, it.path, '\t') || !std::getline(ls, label, '\t') ||
          !std::getline(ls, half, '\t') || !std::getline(ls, fold, '\t') ||
          !std::getline(ls, chrono, '\t')) {
        continue;
      }
      if (std::getline(ls, minor, '\t')) {
        it.minor = minor == "minor";
      }
      if (std::string when; std::getline(ls, when, '\t')) {
        it.time = std::atof(when.c_str());
      }
      it.spam = label == "spam";
      it.half_train = half == "train";
      it.fold = std::atoi(fold.c_str());
      it.chrono_train = chrono == "train";
      std::ifstream f(it.path, std::ios::binary);
      std::ostringstream ss;
      ss << f.rdbuf();
      // As `greyflux learn` and `classify` read a file (app/mail_cli.cpp): an mbox is its
      // messages, each with the file's label and splits.
      const std::string data = ss.str();
      auto box = gf::mime::split_mbox(data);
      if (box && box->is_mbox) {
        for (const auto& part : box->parts) {
          Item one = it;
          one.raw = gf::mime::unescape_mboxrd(part.raw);
          items.push_back(std::move(one));
        }
        continue;
      }
      it.raw = data;
      items.push_back(std::move(it));
    }
  }
  std::size_t bytes = 0;
  for (const Item& it : items) {
    bytes += it.raw.size();
  }
  std::printf("corpus: %zu messages, %.1f MB\n", items.size(), bytes / 1e6);

  // Throughput: parse + learn, one thread (the model is one writer). Not with --cv.
  if (!cv && std::getenv("GF_EVAL_NO_SPEED") == nullptr) {
    Scanner s;
    const auto t0 = Clock::now();
    for (const Item& it : items) {
      s.learn(gf::mime::parse_message(it.raw), it.spam);
    }
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("training (parse + learn, 1 thread): %zu msg in %.2f s = %.0f msg/s\n",
                items.size(), secs, items.size() / secs);
    // Bulk classification: parse + scan with the trained model, 1 and N threads.
    for (unsigned n : {1U, threads}) {
      std::atomic<std::size_t> next{0};
      std::atomic<std::size_t> spam{0};
      const int rounds = 2;
      const auto c0 = Clock::now();
      std::vector<std::thread> pool;
      for (unsigned k = 0; k < n; ++k) {
        pool.emplace_back([&] {
          std::size_t i;
          while ((i = next++) < items.size() * rounds) {
            const auto a = s.scan(gf::mime::parse_message(items[i % items.size()].raw));
            if (a.is_spam) {
              ++spam;
            }
          }
        });
      }
      for (auto& t : pool) {
        t.join();
      }
      const double cs = std::chrono::duration<double>(Clock::now() - c0).count();
      std::printf(
          "bulk classification (parse + scan, %u thread%s): %zu msg in %.2f s = %.0f msg/s\n", n,
          n == 1 ? "" : "s", items.size() * rounds, cs, items.size() * rounds / cs);
      if (n == threads) {
        break;
      }
    }
  }

  if (speed_only) {
    return 0;
  }
  std::printf("\n%-30s %-8s %5s %5s  %s\n", "model", "protocol", "ham", "spam",
              "at required_score 5.0; 1-AUC of the model probability");
  const char* only = std::getenv("GF_EVAL_ONLY");  // configurations whose name has this in it
  for (const Config& c : configs(all)) {
    if (only != nullptr && c.name.find(only) == std::string::npos) {
      continue;
    }
    if (cv) {
      cross_validate(c, items);
    } else {
      evaluate(c, items);
    }
  }
  return 0;
}
