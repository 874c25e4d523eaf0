#pragma once
// Scanner: the mail content analysis behind the spamd protocol and `greyflux learn/classify`.
//
// Flow for scan(message): mime::parse_message (GMime)  ->  mail_features() (header tokens:
// Subject, From/Reply-To domains, Received hops, Message-ID shape, X-Mailer; body words and OSB
// with the comment tokenizer's normalisation; URIs; attachment types and names; MIME defects)
//  ->  the mail model's P(spam) (its own model, separate from the comment model)  ->  named
// symbols, each with a weight and a one-line explanation: BAYES_xx probability bands, GTUBE,
// URI_LOCAL_SPAM (a URI's registrable domain is in the spam-URI list learned from spam
// feedback), URI_FLUX (a URI host is a name the fast-flux detector flagged), MIME_HTML_ONLY,
// MIME_MALFORMED, MIME_BOMB, HEADER_8BIT  ->  score = sum of the weights; spam when score >=
// required_score (5.0 by default). learn(message, spam) is TELL / `greyflux learn`: it trains the
// model and the spam-URI list; forget() undoes a learn (Remove: local): exactly for the Fisher
// counts, as an opposite-label step for logistic regression. A record of learned-message
// fingerprints (as SpamAssassin's bayes_seen) makes learning idempotent and lets forget() know the
// class learned. Auto-learning (AutoLearnOptions): auto_learn_class() says whether a scanned
// message is sure enough to learn without a label; learn_auto() adds it to the Fisher counts.
//
// Threading: a value. scan() is const and may run on many threads at once; learn()/forget()
// need exclusive access (the daemon keeps the scanner in a reader/writer lock). Errors:
// deserialize() returns a Result; nothing else fails.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/classify/classifier.hpp"
#include "core/classify/logistic_fit.hpp"
#include "core/common/result.hpp"
#include "core/flux/lookup.hpp"
#include "core/mime/message.hpp"

namespace gf::spamd {

struct Symbol {
  std::string name;
  double score = 0.0;
  std::string description;
};

struct Analysis {
  std::vector<Symbol> symbols;  // in report order
  double score = 0.0;
  double required = 5.0;
  bool is_spam = false;
  double p_spam = -1.0;               // model probability, -1 when the model did not take part
  std::vector<std::string> evidence;  // strongest model features, "+w:viagra", "-h:from:..."
  std::string action;  // set by spamd::evaluate(): "no action", "add header", "reject", ...
};

// Alternatives to ratio_shift measured for a lopsided training ratio and not the default
// (docs/mail-scanner.md "Lopsided training"). Bits, combinable:
//   Weight: logistic regression weights each example's gradient by n / (2 n_class) from the
//           counts learned so far, so the rare class moves the weights as much as the common one;
//   Prior:  the logistic margin is scored minus ln(n_spam / n_ham), the prior correction of
//           King and Zeng (2001) for a sample drawn at another class ratio.
enum class ClassBalance : std::uint8_t { None = 0, Weight = 1, Prior = 2, WeightPrior = 3 };

// Auto-learning while scanning (SpamAssassin's bayes_auto_learn): a message the model is sure
// about is learned with the model's own verdict, no label involved, so a model taught 42 hams and
// 900 spams learns the site's ham from its own traffic. Guards against learning its own mistakes
// (self-reinforcement): both engines of the blend must agree, each past its threshold after the
// training-ratio correction; a spam-side symbol outside the model (URI_LOCAL_SPAM, MIME_*, ...)
// vetoes ham, a message without a model verdict is never learned; with rarer_only only the class
// learned less so far is auto-learned (the class the model is short of). A TELL of the other class
// later moves the message as for any learned message (the learned-message record).
struct AutoLearnOptions {
  bool enabled = false;
  double ham_below = 0.01;   // both engines' corrected P at or below: learn as ham
  double spam_above = 0.99;  // both at or above: learn as spam
  bool rarer_only = true;
  // Auto-learned messages only add to the Fisher counts: not to logistic regression, nor to the
  // learned counts the ratio correction uses (ratio_shift is for the labelled training ratio).
  bool counts_only = false;
};

struct ScannerOptions {
  double required_score = 5.0;
  classify::Engine engine = classify::Engine::Logistic;
  classify::TokenizerOptions tokenizer;
  bool words = true;              // header and body tokens through the tokenizer
  std::uint32_t ngram_bytes = 0;  // byte n-grams of the first N bytes of the raw message; 0 = off
  std::uint32_t ngram_n = 4;
  classify::LogisticOptions logistic;
  classify::FisherOptions fisher;
  ClassBalance balance = ClassBalance::None;
  // The model probability's log-odds minus ratio_shift * ln(n_spam / n_ham) learned: 1 moves
  // it to equal class priors whatever the training ratio; 0 = off (the model's own prior).
  // A scoring setting, not stored with the model: a loaded model takes the caller's.
  double ratio_shift = 0.0;
  // With ratio_shift and the logistic model's train-on-error margin: the margin test is made on
  // the corrected scale (the logistic log-odds minus ratio_shift * ln(n_spam / n_ham)), so a
  // model taught 50 spams to a ham keeps learning a spam until it scores as spam after the
  // correction, not merely at the training ratio's prior. Measured and off by default: the
  // extra steps all push the intercept towards the common class, and the lopsided ranking got
  // worse (docs/mail-scanner.md); kept for `GF_EVAL_SWEEP=ctoe`.
  bool corrected_train_on_error = false;
  // The logistic half trained to convergence on the log loss instead of on error
  // (classify/logistic_fit.hpp; docs/mail-scanner.md "Sixth round"). With epochs > 0 every
  // learned message is a plain log-loss step balanced by the learned class counts (a TELL is
  // one such step), and a bulk learn (learn_messages) makes epochs - 1 more seeded passes over
  // the messages it learned. 0 = off: one train-on-error step (LogisticOptions::confident).
  // A training setting, not stored with the model.
  classify::LogisticFitOptions logistic_fit;
  // The ratio correction (ratio_shift) applied to the Fisher half only, before the blend: for a
  // logistic half trained class-balanced (logistic_fit), which has no training prior to remove.
  bool shift_fisher_only = false;
  AutoLearnOptions auto_learn;
  std::uint64_t min_learned = 10;  // BAYES symbols need this many spam and ham learned
  std::uint32_t spam_uri_min = 2;  // spam messages that must carry a domain to list it
  std::size_t max_spam_uris = 200000;
  std::size_t max_seen = 1000000;  // learned-message fingerprints kept (TELL Remove needs them)
  mime::Limits mime;
  // Symbol weights; a name missing here scores 0.
  std::map<std::string, double, std::less<>> weights;
};

[[nodiscard]] ScannerOptions default_scanner_options();

// The model's probability bands, highest first (SpamAssassin's 23_bayes.cf names); their weights
// are the settings spamd.bayes_00 .. spamd.bayes_999.
inline constexpr std::string_view kBayesSymbols[] = {
    "BAYES_999", "BAYES_99", "BAYES_95", "BAYES_80", "BAYES_60",
    "BAYES_50",  "BAYES_40", "BAYES_20", "BAYES_05", "BAYES_00"};

// Readable feature names of a message (tests, explanations); features() hashes them.
[[nodiscard]] classify::FeatureVector mail_features(const mime::Message& m,
                                                    const ScannerOptions& options,
                                                    classify::TokenNames* names = nullptr,
                                                    std::vector<std::string>* strings = nullptr);

// GTUBE: the test string that must make any spam filter say spam.
inline constexpr std::string_view kGtube =
    "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

class Scanner {
 public:
  explicit Scanner(ScannerOptions options = default_scanner_options());

  struct Prepared;
  // `flux` (optional, not owned): names the fast-flux detector flagged; a URI host under one
  // of them fires URI_FLUX. `keep` (optional): also what learn() would need of this message
  // (prepare()), sharing the scan's feature extraction (the decision history keeps it).
  [[nodiscard]] Analysis scan(const mime::Message& m, bool explain = false,
                              const flux::FluxIndex* flux = nullptr,
                              Prepared* keep = nullptr) const;
  // Model probability only (bulk classification, evaluation): no symbols.
  [[nodiscard]] double probability(const mime::Message& m) const;
  // What learning needs from a message, computed without touching the model (so bulk learning
  // can prepare messages on several threads and train on one).
  struct Prepared {
    std::uint64_t fingerprint = 0;
    classify::FeatureVector features;
    std::vector<std::string> uri_domains;
  };
  [[nodiscard]] Prepared prepare(const mime::Message& m) const;
  bool learn(const Prepared& p, bool is_spam);
  // The class auto-learning would learn `p` (scanned as `a`, with `keep` = &p) as, or nothing:
  // AutoLearnOptions. Pure; the caller learns it (with exclusive access).
  [[nodiscard]] std::optional<bool> auto_learn_class(const Analysis& a, const Prepared& p) const;
  // Learns an auto-learned message (AutoLearnOptions::counts_only decides what it trains).
  bool learn_auto(const Prepared& p, bool is_spam);
  // With ScannerOptions::logistic_fit: the extra passes (epochs - 1) of the logistic half over
  // `examples` (messages learned just before), balanced by the learned class counts.
  void refit_logistic(const std::vector<classify::FitExample>& examples);

  // Returns false when the message was already learned as this class (nothing to do). A
  // message learned before as the other class is forgotten first, as sa-learn does.
  bool learn(const mime::Message& m, bool is_spam);
  // Returns false when the message was never learned.
  bool forget(const mime::Message& m);
  bool forget(const Prepared& p);
  // Identity of a message for the learned-message record: Message-ID, Subject, From and the
  // start of the text.
  [[nodiscard]] static std::uint64_t fingerprint(const mime::Message& m);

  [[nodiscard]] std::uint64_t spam_learned() const { return spam_learned_; }
  [[nodiscard]] std::uint64_t ham_learned() const { return ham_learned_; }
  [[nodiscard]] std::size_t spam_uri_count() const { return uris_.size(); }
  // Features (hashed tokens) with a non-zero weight: the model's size. O(weights).
  [[nodiscard]] std::size_t model_features() const { return logistic_.nonzero_weights(); }
  [[nodiscard]] bool uri_listed(std::string_view registrable_domain) const;

  [[nodiscard]] const ScannerOptions& options() const { return options_; }
  // Runtime settings (threshold, weights) may change on reload without retraining.
  void set_required_score(double r) { options_.required_score = r; }
  void set_auto_learn(bool on) { options_.auto_learn.enabled = on; }
  void set_weight(std::string_view symbol, double w) { options_.weights[std::string(symbol)] = w; }

  // Model, counts and spam-URI list in one versioned, checksummed blob. deserialize() takes the
  // caller's options for everything that is not learned (threshold, weights, limits).
  [[nodiscard]] std::string serialize() const;
  [[nodiscard]] static Result<Scanner> deserialize(std::string_view bytes, ScannerOptions options);

 private:
  struct UriCounts {
    std::uint32_t spam = 0;
    std::uint32_t ham = 0;
  };
  [[nodiscard]] double model_score(const classify::FeatureVector& f) const;
  [[nodiscard]] double logistic_score(const classify::FeatureVector& f) const;
  [[nodiscard]] double class_weight(bool is_spam) const;
  // ln(n_spam / n_ham) learned so far times ratio_shift; 0 until both classes are learned.
  [[nodiscard]] double ratio_log_odds() const;
  // p moved by the ratio correction (ratio_log_odds()); p itself when there is none.
  [[nodiscard]] double corrected(double p) const;
  // The Fisher probability as it enters the blend (shift_fisher_only corrects it on its own).
  [[nodiscard]] double fisher_part(const classify::FeatureVector& f) const;
  [[nodiscard]] double weight(std::string_view name) const;
  void add_symbol(Analysis& a, std::string name, std::string description) const;
  void count_uris(const std::vector<std::string>& domains, bool is_spam, int delta);

  ScannerOptions options_;
  classify::LogisticModel logistic_;
  classify::FisherModel fisher_;
  std::uint64_t spam_learned_ = 0;
  std::uint64_t ham_learned_ = 0;
  std::unordered_map<std::string, UriCounts> uris_;
  // fingerprint -> kSeenSpam (learned as spam) | kSeenAuto (auto-learned, counts_only)
  static constexpr std::uint8_t kSeenSpam = 1;
  static constexpr std::uint8_t kSeenAuto = 2;
  static constexpr std::uint8_t seen_flags(bool spam, bool automatic) {
    return static_cast<std::uint8_t>((spam ? kSeenSpam : 0) | (automatic ? kSeenAuto : 0));
  }
  std::unordered_map<std::uint64_t, std::uint8_t> seen_;
};

// The registrable domains of a message's URIs (deduplicated).
[[nodiscard]] std::vector<std::string> uri_domains(const mime::Message& m);

// REPORT body: one line per symbol with its points and explanation.
[[nodiscard]] std::string format_report(const Analysis& a, std::string_view preview);

// One header field a front door adds; `value` may hold folded lines (eol + TAB).
struct Header {
  std::string name;
  std::string value;
};

// The X-Spam-* markup for an analysis, in spamd's order: Checker-Version, Flag (spam only),
// Level (one '*' per point, at most 50), Status ("Yes, score=7.3 required=5.0 tests=..." folded
// with `eol`), then with `score_and_symbols` X-Spam-Score and X-Spam-Symbols (what a milter
// adds), and X-Spam-Action when a.action is set.
[[nodiscard]] std::vector<Header> markup_headers(const Analysis& a,
                                                 std::string_view checker_version,
                                                 std::string_view version, std::string_view eol,
                                                 bool score_and_symbols = false);

// PROCESS: the message with X-Spam-Flag/-Level/-Status/-Checker-Version headers set (earlier
// X-Spam-* markup removed), line endings as the message uses them.
// Like spamd, the markup goes at the top of the header.
[[nodiscard]] std::string rewrite_message(std::string_view raw, const Analysis& a,
                                          std::string_view checker_version,
                                          std::string_view version);

}  // namespace gf::spamd
