#pragma once
// FisherModel: Robinson's token probabilities combined with Fisher's chi-square method, the
// scheme bogofilter and SpamBayes use.
//
// Training counts, per feature id, the number of spam and ham messages it occurred in (once per
// message whatever its count). Scoring computes for each feature
//   p(w) = (s/Ns) / (s/Ns + h/Nh),   f(w) = (robs * robx + n * p(w)) / (robs + n),  n = s + h
// keeps the features whose |f(w) - 0.5| >= min_dev (at most max_tokens of them, the most
// extreme first), and combines them:
//   S = 1 - chi2Q(-2 sum ln(1 - f), 2k),  H = 1 - chi2Q(-2 sum ln f, 2k),  score = (1 + S - H)/2
// so a message with no strong evidence either way scores 0.5 ("unsure").
//
// Memory grows with the number of distinct features trained (16 bytes each in the serialised
// form); prune() drops rare ones. Threading: a value; callers serialise access. Errors:
// deserialize() validates and returns a Result; nothing else fails.
#include <boost/unordered/unordered_flat_map.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/classify/features.hpp"
#include "core/common/result.hpp"

namespace gf::classify {

struct FisherOptions {
  double robs = 1.0;             // strength of the prior for rare tokens (Robinson's s)
  double robx = 0.5;             // prior probability of an unseen token (Robinson's x)
  double min_dev = 0.1;          // ignore tokens whose f(w) is closer than this to 0.5
  std::uint32_t max_tokens = 0;  // use only the most extreme N tokens (SpamBayes); 0 = all
  // Robinson's n in units of the rarer class: n = s * m / Ns + h * m / Nh, m = min(Ns, Nh), the
  // evidence a token would carry had both classes been learned as often as the rarer one. A
  // scoring setting, not stored with the model (deserialize() leaves it false).
  bool balanced_strength = false;
  // A token that points to spam (f(w) > 0.5) is evidence only if the hams learned were enough to
  // expect it in at least this many of them had it been as frequent in ham as in spam:
  // Nh * s / Ns >= min_expected_ham. "Never seen in the 42 hams" says nothing about a token in
  // 3 of 914 spams (0.14 expected), so such tokens alone must not flag a ham; with Nh >= Ns (a
  // balanced or ham-heavy model) a token in one spam already has Nh / Ns >= 1 expected. Only
  // the spam side is tested: a false positive costs more than a miss. It ranks a spam-heavy
  // model's messages better but is off: at the default decision rule it trades missed spam for
  // false positives the targets did not need (docs/mail-scanner.md, "Third round"). Scoring
  // setting, not stored; 0 = off.
  double min_expected_ham = 0.0;
  // > 0: score with naive Bayes instead of Fisher's chi-square: the sum over the message's known
  // tokens of ln((s + a) / (Ns + 2a)) - ln((h + a) / (Nh + 2a)), divided by sqrt(tokens), without
  // a class prior (two-class Complement NB, Rennie et al. 2003, is this). Measured for lopsided
  // mail training and not used (docs/mail-scanner.md). Scoring setting, not stored; 0 = off.
  double nb_alpha = 0.0;
};

class FisherModel {
 public:
  explicit FisherModel(FisherOptions options = {});

  void train(const FeatureVector& features, bool is_spam);
  // Undoes a previous train() with the same arguments (a reclassified message).
  void forget(const FeatureVector& features, bool is_spam);
  // Probability-like spam score in [0, 1]; 0.5 when nothing is known.
  [[nodiscard]] double score(const FeatureVector& features) const;
  // The n features with the largest |log(f / (1 - f))|, largest first; positive means spam.
  [[nodiscard]] std::vector<Contribution> top_contributions(const FeatureVector& features,
                                                            std::size_t n) const;
  // Drops features seen in fewer than min_messages messages in total.
  void prune(std::uint32_t min_messages);

  [[nodiscard]] std::string serialize() const;
  [[nodiscard]] static Result<FisherModel> deserialize(std::string_view bytes);

  [[nodiscard]] const FisherOptions& options() const { return options_; }
  void set_balanced_strength(bool on) { options_.balanced_strength = on; }
  void set_min_expected_ham(double n) { options_.min_expected_ham = n; }
  void set_nb_alpha(double a) { options_.nb_alpha = a; }
  [[nodiscard]] std::uint64_t spam_messages() const { return spam_messages_; }
  [[nodiscard]] std::uint64_t ham_messages() const { return ham_messages_; }
  [[nodiscard]] std::size_t features() const { return counts_.size(); }

 private:
  struct Counts {
    std::uint32_t spam = 0;
    std::uint32_t ham = 0;
  };
  // Robinson's f(w) for one feature, or a negative value if it is unknown.
  [[nodiscard]] double token_probability(FeatureId id) const;
  // The f(w) values that take part in a score, after min_dev and max_tokens.
  [[nodiscard]] std::vector<double> evidence(const FeatureVector& features) const;
  [[nodiscard]] double naive_bayes(const FeatureVector& features) const;

  // Feature ids are already hashes (xxHash): used as they are, without Boost's extra mixing.
  struct IdHash {
    using is_avalanching = void;
    std::size_t operator()(FeatureId id) const noexcept { return static_cast<std::size_t>(id); }
  };

  FisherOptions options_;
  // Open addressing: a score looks up every feature of a message in this, the model's largest
  // table. Against std::unordered_map's node chains, whole-message bulk classification of the
  // mail corpus went from 4,945-5,080 to 6,020-6,143 msg/s (2 threads, bench/mail_eval.cpp).
  boost::unordered_flat_map<FeatureId, Counts, IdHash> counts_;
  std::uint64_t spam_messages_ = 0;
  std::uint64_t ham_messages_ = 0;
};

}  // namespace gf::classify
