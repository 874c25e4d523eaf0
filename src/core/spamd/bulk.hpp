#pragma once
// Bulk learning and classification with the mail scanner: what `greyflux learn` and
// `greyflux classify` do, as library functions the evaluation (bench/gf_mail_eval) can call too.
//
// Flow of learn_messages(scanner, ordered, for_each): batches of kLearnBatch messages; in each,
// for_each runs parse_message + Scanner::prepare on every message (independent, read-only),
// then the batch is learned in the given order on the calling thread (training is sequential
// and order matters for the online models). interleave() builds that order from two classes.
// With ScannerOptions::logistic_fit the learned messages' features are kept (bounded) and the
// logistic half makes its extra passes over them at the end. classify_stream() scans in order
// and auto-learns as it goes (one thread). classify_messages()
// evaluates every message through spamd::evaluate (the path spamd uses), results by input index.
//
// Threading: core does not start threads. The caller passes for_each: io::parallel_for_each
// for all cores, serial_for_each for one. The scanner must not change while these run.
// Errors: none; every message gets a result.
#include <cstddef>
#include <functional>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "core/spamd/evaluate.hpp"

namespace gf::spamd {

// Runs body(i) for every i in [0, n), in any order and possibly at once; returns when all did.
using ForEach = std::function<void(std::size_t n, const std::function<void(std::size_t)>& body)>;

void serial_for_each(std::size_t n, const std::function<void(std::size_t)>& body);

inline constexpr std::size_t kLearnBatch = 512;

struct Labelled {
  std::string_view raw;
  bool is_spam = false;
};

// Spam and ham in one order that keeps the running proportions of the two classes equal, so an
// online model does not drift towards the class read last.
[[nodiscard]] std::vector<Labelled> interleave(const std::vector<std::string_view>& spam,
                                               const std::vector<std::string_view>& ham);

// Learns `ordered` in order; returns how many were learned (not already known as that class).
// With ScannerOptions::logistic_fit.epochs > 1 the logistic half then makes its extra passes
// over the messages learned (at most logistic_fit.max_examples of them, a seeded sample).
std::size_t learn_messages(Scanner& scanner, const std::vector<Labelled>& ordered,
                           const ForEach& for_each = serial_for_each);

// Scans `raws` in order on the calling thread as a daemon meets its traffic, auto-learning each
// message the model is sure about (ScannerOptions::auto_learn, Scanner::auto_learn_class) before
// the next is scanned; no label is used. result i is message i; learned (optional) gets, per
// message, the class it was auto-learned as, or nothing.
[[nodiscard]] std::vector<Evaluation> classify_stream(
    Scanner& scanner, const std::vector<std::string_view>& raws, const ActionPolicy& policy,
    std::vector<std::optional<bool>>* learned = nullptr);

// Evaluates one raw message (parse + evaluate).
[[nodiscard]] Evaluation classify_message(const Scanner& scanner, std::string_view raw,
                                          const ActionPolicy& policy, bool explain,
                                          const flux::FluxIndex* flux = nullptr);

// classify_message for every message; result i is message i.
[[nodiscard]] std::vector<Evaluation> classify_messages(const Scanner& scanner,
                                                        const std::vector<std::string_view>& raws,
                                                        const ActionPolicy& policy, bool explain,
                                                        const flux::FluxIndex* flux = nullptr,
                                                        const ForEach& for_each = serial_for_each);

}  // namespace gf::spamd
