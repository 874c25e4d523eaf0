// gf_mail_eval's model configurations and sweeps (mail_eval_configs.hpp).
#include "mail_eval_configs.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>

namespace gf::bench {

using gf::spamd::ScannerOptions;

std::vector<Config> configs(bool all) {
  std::vector<Config> out;
  ScannerOptions base = gf::spamd::default_scanner_options();
  // GF_EVAL_AUTOLEARN=0|1 turns auto-learning off or on in every configuration.
  if (const char* al = std::getenv("GF_EVAL_AUTOLEARN")) {
    base.auto_learn.enabled = std::strcmp(al, "1") == 0;
  }
  // GF_EVAL_FIT=EPOCHS:none|weight|oversample:all|fisher:L2 trains the logistic half to
  // convergence (ScannerOptions::logistic_fit) in every configuration, "all" or "fisher" being
  // what the ratio correction applies to; for the scripts that run --configs default.
  if (const char* fit = std::getenv("GF_EVAL_FIT")) {
    char balance[16] = {};
    char shift[16] = {};
    int epochs = 0;
    double l2 = base.logistic.l2;
    if (std::sscanf(fit, "%d:%15[a-z]:%15[a-z]:%lf", &epochs, balance, shift, &l2) != 4) {
      std::fprintf(stderr, "GF_EVAL_FIT: EPOCHS:none|weight|oversample:all|fisher:L2\n");
      std::exit(2);
    }
    using gf::classify::FitBalance;
    base.logistic_fit.epochs = epochs;
    base.logistic_fit.balance = std::strcmp(balance, "weight") == 0       ? FitBalance::Weight
                                : std::strcmp(balance, "oversample") == 0 ? FitBalance::Oversample
                                                                          : FitBalance::None;
    base.shift_fisher_only = std::strcmp(shift, "fisher") == 0;
    base.logistic.l2 = l2;
  }
  out.push_back({"default", base});
  if (!all) {
    return out;
  }
  // Before 2026-12-06: no class-ratio correction, spam from P = 0.40.
  ScannerOptions previous = base;
  previous.ratio_shift = 0.0;
  previous.weights["BAYES_60"] = 5.5;
  previous.weights["BAYES_50"] = 5.0;
  previous.weights["BAYES_40"] = 1.0;
  const char* spec = std::getenv("GF_EVAL_SWEEP");
  if (spec == nullptr) {
    out.push_back({"previous default (P>=0.40)", previous});
  }
  auto add = [&](const std::string& name, auto mutate) {
    ScannerOptions o = base;
    mutate(o);
    out.push_back({name, o});
  };
  if (spec == nullptr) {
    add("logistic words (1 pass)", [](ScannerOptions& o) {
      o.engine = gf::classify::Engine::Logistic;
      o.words = true;
      o.ngram_bytes = 0;
      o.logistic.confident = 0;
    });
    add("fisher words", [](ScannerOptions& o) { o.engine = gf::classify::Engine::Fisher; });
    add("blend words", [](ScannerOptions& o) { o.engine = gf::classify::Engine::Blend; });
    return out;
  }
  const std::string sweep = spec;
  if (sweep == "autolearn") {
    // Auto-learning thresholds and guards (docs/mail-scanner.md "Auto-learning"), with --cv 1.
    for (double t : {0.001, 0.01, 0.05, 0.1}) {
      add("al both engines <= " + std::to_string(t).substr(0, 5), [t](ScannerOptions& o) {
        o.auto_learn.enabled = true;
        o.auto_learn.ham_below = t;
        o.auto_learn.spam_above = 1.0 - t;
      });
    }
    for (double t : {0.01, 0.05, 0.1}) {
      add("al counts only <= " + std::to_string(t).substr(0, 4), [t](ScannerOptions& o) {
        o.auto_learn.enabled = true;
        o.auto_learn.counts_only = true;
        o.auto_learn.ham_below = t;
        o.auto_learn.spam_above = 1.0 - t;
      });
    }
    add("al 0.01, both classes", [](ScannerOptions& o) {
      o.auto_learn.enabled = true;
      o.auto_learn.rarer_only = false;
    });
  }
  if (sweep == "engines") {
    // Each engine alone and the per-engine ratio correction (issue 12, second round), --cv 1.
    using gf::spamd::ClassBalance;
    add("fisher only, no shift", [](ScannerOptions& o) {
      o.engine = gf::classify::Engine::Fisher;
      o.ratio_shift = 0.0;
    });
    add("fisher only, shift 1", [](ScannerOptions& o) { o.engine = gf::classify::Engine::Fisher; });
    add("logistic only, shift 1",
        [](ScannerOptions& o) { o.engine = gf::classify::Engine::Logistic; });
    add("blend, lr prior, fisher raw", [](ScannerOptions& o) {
      o.ratio_shift = 0.0;
      o.balance = ClassBalance::Prior;
    });
  }
  if (sweep == "fisher2") {
    // Naive Bayes on the Fisher counts without a class prior (two-class Complement NB).
    for (double a : {0.1, 1.0}) {
      add("nb only, alpha " + std::to_string(a).substr(0, 3), [a](ScannerOptions& o) {
        o.engine = gf::classify::Engine::Fisher;
        o.ratio_shift = 0.0;
        o.fisher.nb_alpha = a;
      });
    }
  }
  if (sweep == "expected") {
    // Spam evidence needs Nh * s / Ns >= k expected hams (FisherOptions::min_expected_ham).
    for (double k : {1.0, 2.0, 3.0}) {
      add("min_expected_ham " + std::to_string(k).substr(0, 3),
          [k](ScannerOptions& o) { o.fisher.min_expected_ham = k; });
    }
    add("min_expected_ham 2.0, shift 0.75", [](ScannerOptions& o) {
      o.fisher.min_expected_ham = 2.0;
      o.ratio_shift = 0.75;
    });
  }
  if (sweep == "fifth") {
    // Issue 12, fifth round (docs/mail-scanner.md): Fisher scoring settings of the blend, with
    // --cv 1 (cv-chrono included). None was adopted.
    for (std::uint32_t n : {50U, 150U}) {
      add("fisher max_tokens " + std::to_string(n),
          [n](ScannerOptions& o) { o.fisher.max_tokens = n; });
    }
    for (double md : {0.1, 0.3}) {
      add("fisher min_dev " + std::to_string(md).substr(0, 3),
          [md](ScannerOptions& o) { o.fisher.min_dev = md; });
    }
    for (double s : {0.03, 0.3}) {
      add("fisher robs " + std::to_string(s).substr(0, 4),
          [s](ScannerOptions& o) { o.fisher.robs = s; });
    }
  }
  if (sweep == "fbal") {
    add("fisher balanced strength", [](ScannerOptions& o) { o.fisher.balanced_strength = true; });
  }
  if (sweep == "ctoe") {
    // Train-on-error tested on the corrected scale (the default since 2026-12-06) or not.
    add("toe on the uncorrected score",
        [](ScannerOptions& o) { o.corrected_train_on_error = false; });
    add("corrected toe, margin 0.05", [](ScannerOptions& o) { o.logistic.confident = 0.05; });
    add("corrected toe, margin 0.2", [](ScannerOptions& o) { o.logistic.confident = 0.2; });
  }
  if (sweep == "fit") {
    // Issue 12, sixth round: the logistic half trained to convergence on the (balanced) log
    // loss instead of on error (ScannerOptions::logistic_fit), with --cv 1.
    using gf::classify::FitBalance;
    struct Fit {
      const char* name;
      int epochs;
      FitBalance balance;
      bool fisher_only;
      double l2;
    };
    const bool second = std::getenv("GF_EVAL_FIT2") != nullptr;  // the second grid
    const Fit first_grid[] = {
        {"fit e1 plain, shift all", 1, FitBalance::None, false, 1e-3},
        {"fit e5 plain, shift all", 5, FitBalance::None, false, 1e-3},
        {"fit e1 oversample, shift fisher", 1, FitBalance::Oversample, true, 1e-3},
        {"fit e5 oversample, shift fisher", 5, FitBalance::Oversample, true, 1e-3},
        {"fit e10 oversample, shift fisher", 10, FitBalance::Oversample, true, 1e-3},
        {"fit e5 oversample, shift all", 5, FitBalance::Oversample, false, 1e-3},
        {"fit e5 weight, shift fisher", 5, FitBalance::Weight, true, 1e-3},
        {"fit e5 oversample, l2 1e-4, fisher", 5, FitBalance::Oversample, true, 1e-4},
        {"fit e5 oversample, l2 1e-2, fisher", 5, FitBalance::Oversample, true, 1e-2},
    };
    const Fit second_grid[] = {
        {"fit e5 plain, l2 1e-4, shift all", 5, FitBalance::None, false, 1e-4},
        {"fit e5 plain, l2 1e-5, shift all", 5, FitBalance::None, false, 1e-5},
        {"fit e20 plain, l2 1e-4, shift all", 20, FitBalance::None, false, 1e-4},
        {"fit e5 oversample, l2 1e-4, all", 5, FitBalance::Oversample, false, 1e-4},
        {"fit e5 oversample, l2 1e-5, fisher", 5, FitBalance::Oversample, true, 1e-5},
        {"fit e3 on error, plain, shift all", -3, FitBalance::None, false, 1e-3},
        {"fit e3 on error, oversample, all", -3, FitBalance::Oversample, false, 1e-3},
    };
    std::vector<Fit> fits;
    if (second) {
      fits.assign(std::begin(second_grid), std::end(second_grid));
    } else {
      fits.assign(std::begin(first_grid), std::end(first_grid));
    }
    for (const Fit& f : fits) {
      add(f.name, [f](ScannerOptions& o) {
        o.logistic_fit.epochs = std::abs(f.epochs);  // negative: the on-error control
        o.logistic_fit.on_error = f.epochs < 0;
        o.logistic_fit.balance = f.balance;
        o.shift_fisher_only = f.fisher_only;
        o.logistic.l2 = f.l2;
      });
    }
  }
  if (sweep == "toe") {
    add("ratio_shift 1, lr train-everything",
        [](ScannerOptions& o) { o.logistic.confident = 0.0; });
    add("ratio_shift 1, lr toe 0.02", [](ScannerOptions& o) { o.logistic.confident = 0.02; });
  }
  if (sweep == "ratio") {
    // The class-ratio handling, measured with --cv 1 (docs/mail-scanner.md).
    using gf::spamd::ClassBalance;
    add("no ratio correction", [](ScannerOptions& o) { o.ratio_shift = 0.0; });
    for (double c : {0.5, 0.75, 1.25, 1.5, 2.0}) {
      add("ratio_shift " + std::to_string(c).substr(0, 4),
          [c](ScannerOptions& o) { o.ratio_shift = c; });
    }
    add("lr prior only", [](ScannerOptions& o) {
      o.ratio_shift = 0.0;
      o.balance = ClassBalance::Prior;
    });
    add("lr class weight only", [](ScannerOptions& o) {
      o.ratio_shift = 0.0;
      o.balance = ClassBalance::Weight;
    });
    add("lr weight + prior", [](ScannerOptions& o) {
      o.ratio_shift = 0.0;
      o.balance = ClassBalance::WeightPrior;
    });
    add("fisher only, ratio_shift 1",
        [](ScannerOptions& o) { o.engine = gf::classify::Engine::Fisher; });
    add("logistic only, ratio_shift 1",
        [](ScannerOptions& o) { o.engine = gf::classify::Engine::Logistic; });
  }
  if (sweep == "noosb") {
    auto fisher_bogo = [](ScannerOptions& o) {
      o.fisher.robs = 0.0178;
      o.fisher.robx = 0.52;
      o.fisher.min_dev = 0.375;
      o.tokenizer.osb = false;
    };
    add("blend no-osb toe", [&](ScannerOptions& o) {
      fisher_bogo(o);
      o.engine = gf::classify::Engine::Blend;
      o.logistic.confident = 0.1;
    });
    add("blend2 no-osb toe", [&](ScannerOptions& o) {
      fisher_bogo(o);
      o.fisher.robs = 0.1;
      o.fisher.min_dev = 0.2;
      o.engine = gf::classify::Engine::Blend;
      o.logistic.confident = 0.1;
    });
    add("blend2 no-osb", [&](ScannerOptions& o) {
      fisher_bogo(o);
      o.fisher.robs = 0.1;
      o.fisher.min_dev = 0.2;
      o.engine = gf::classify::Engine::Blend;
    });
    if (std::getenv("GF_EVAL_SHORT") != nullptr) {
      return out;
    }
    add("lr no-osb", [&](ScannerOptions& o) { o.tokenizer.osb = false; });
    add("lr no-osb toe r1.0", [&](ScannerOptions& o) {
      o.tokenizer.osb = false;
      o.logistic.confident = 0.1;
      o.logistic.learning_rate = 1.0;
    });
    add("lr no-osb toe0.2", [&](ScannerOptions& o) {
      o.tokenizer.osb = false;
      o.logistic.confident = 0.2;
    });
    add("fisher no-osb robs0.1 md0.2", [&](ScannerOptions& o) {
      fisher_bogo(o);
      o.engine = gf::classify::Engine::Fisher;
      o.fisher.robs = 0.1;
      o.fisher.min_dev = 0.2;
    });
    add("lr no-osb toe +4g", [&](ScannerOptions& o) {
      o.tokenizer.osb = false;
      o.logistic.confident = 0.1;
      o.ngram_bytes = 3000;
    });
  }
  if (sweep == "fn") {
    add("blend +4g3000", [](ScannerOptions& o) { o.ngram_bytes = 3000; });
    add("blend lr rate 0.8", [](ScannerOptions& o) { o.logistic.learning_rate = 0.8; });
    add("blend toe 0.2", [](ScannerOptions& o) { o.logistic.confident = 0.2; });
    add("blend fisher md 0.1", [](ScannerOptions& o) { o.fisher.min_dev = 0.1; });
  }
  if (sweep == "size") {
    add("16KiB 1000 words", [](ScannerOptions& o) {
      o.tokenizer.max_input_bytes = 16 * 1024;
      o.tokenizer.max_words = 1000;
    });
    add("8KiB 600 words", [](ScannerOptions& o) {
      o.tokenizer.max_input_bytes = 8 * 1024;
      o.tokenizer.max_words = 600;
    });
  }
  if (sweep == "fisher") {
    add("fisher bogo params", [](ScannerOptions& o) {
      o.engine = gf::classify::Engine::Fisher;
      o.fisher.robs = 0.0178;
      o.fisher.robx = 0.52;
      o.fisher.min_dev = 0.375;
    });
    add("fisher bogo params +4g", [](ScannerOptions& o) {
      o.engine = gf::classify::Engine::Fisher;
      o.fisher.robs = 0.0178;
      o.fisher.robx = 0.52;
      o.fisher.min_dev = 0.375;
      o.ngram_bytes = 3000;
    });
    add("fisher bogo no-osb", [](ScannerOptions& o) {
      o.engine = gf::classify::Engine::Fisher;
      o.fisher.robs = 0.0178;
      o.fisher.robx = 0.52;
      o.fisher.min_dev = 0.375;
      o.tokenizer.osb = false;
    });
    add("fisher 4g only", [](ScannerOptions& o) {
      o.engine = gf::classify::Engine::Fisher;
      o.words = false;
      o.ngram_bytes = 3000;
      o.fisher.robs = 0.0178;
      o.fisher.robx = 0.52;
      o.fisher.min_dev = 0.375;
    });
    add("lr 4g only toe", [](ScannerOptions& o) {
      o.words = false;
      o.ngram_bytes = 3000;
      o.logistic.confident = 0.1;
    });
    add("lr words no-osb toe", [](ScannerOptions& o) {
      o.tokenizer.osb = false;
      o.logistic.confident = 0.1;
    });
  }
  return out;
}

}  // namespace gf::bench
