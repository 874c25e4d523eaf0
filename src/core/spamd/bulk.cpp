#include "core/spamd/bulk.hpp"

#include <algorithm>

namespace gf::spamd {

void serial_for_each(std::size_t n, const std::function<void(std::size_t)>& body) {
  for (std::size_t i = 0; i < n; ++i) {
    body(i);
  }
}

std::vector<Labelled> interleave(const std::vector<std::string_view>& spam,
                                 const std::vector<std::string_view>& ham) {
  std::vector<Labelled> order;
  order.reserve(spam.size() + ham.size());
  std::size_t si = 0;
  std::size_t hi = 0;
  while (si < spam.size() || hi < ham.size()) {
    const bool take_spam =
        hi >= ham.size() || (si < spam.size() && si * ham.size() <= hi * spam.size());
    if (take_spam) {
      order.push_back({spam[si++], true});
    } else {
      order.push_back({ham[hi++], false});
    }
  }
  return order;
}

std::size_t learn_messages(Scanner& scanner, const std::vector<Labelled>& ordered,
                           const ForEach& for_each) {
  std::size_t learned = 0;
  std::vector<Scanner::Prepared> prepared(kLearnBatch);
  // ScannerOptions::logistic_fit: the messages learned here are kept (bounded) for the logistic
  // half's extra passes once all are learned.
  const classify::LogisticFitOptions& fit = scanner.options().logistic_fit;
  std::optional<classify::FitReplay> replay;
  if (fit.epochs > 1) {
    replay.emplace(fit);
  }
  for (std::size_t base = 0; base < ordered.size(); base += kLearnBatch) {
    const std::size_t n = std::min(kLearnBatch, ordered.size() - base);
    const Scanner& reader = scanner;
    for_each(n, [&](std::size_t i) {
      prepared[i] = reader.prepare(mime::parse_message(ordered[base + i].raw));
    });
    for (std::size_t i = 0; i < n; ++i) {
      const bool is_spam = ordered[base + i].is_spam;
      if (scanner.learn(prepared[i], is_spam)) {
        ++learned;
        if (replay) {
          replay->add(std::move(prepared[i].features), is_spam);
        }
      }
    }
  }
  if (replay) {
    scanner.refit_logistic(replay->examples());
  }
  return learned;
}

std::vector<Evaluation> classify_stream(Scanner& scanner, const std::vector<std::string_view>& raws,
                                        const ActionPolicy& policy,
                                        std::vector<std::optional<bool>>* learned) {
  std::vector<Evaluation> out(raws.size());
  if (learned != nullptr) {
    learned->assign(raws.size(), std::nullopt);
  }
  for (std::size_t i = 0; i < raws.size(); ++i) {
    Scanner::Prepared keep;
    out[i] = evaluate(scanner, mime::parse_message(raws[i]), policy, false, nullptr, &keep);
    const std::optional<bool> label = scanner.auto_learn_class(out[i].analysis, keep);
    if (label && scanner.learn_auto(keep, *label) && learned != nullptr) {
      (*learned)[i] = label;
    }
  }
  return out;
}

Evaluation classify_message(const Scanner& scanner, std::string_view raw,
                            const ActionPolicy& policy, bool explain, const flux::FluxIndex* flux) {
  return evaluate(scanner, mime::parse_message(raw), policy, explain, flux);
}

std::vector<Evaluation> classify_messages(const Scanner& scanner,
                                          const std::vector<std::string_view>& raws,
                                          const ActionPolicy& policy, bool explain,
                                          const flux::FluxIndex* flux, const ForEach& for_each) {
  std::vector<Evaluation> out(raws.size());
  for_each(raws.size(), [&](std::size_t i) {
    out[i] = classify_message(scanner, raws[i], policy, explain, flux);
  });
  return out;
}

}  // namespace gf::spamd
