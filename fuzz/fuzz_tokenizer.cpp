// Fuzzes the comment tokenizer (HTML strip, NFKC + case fold, URL/e-mail/phone/shape tokens,
// OSB) and the classifier on top of it: it must terminate, emit a canonical feature vector (each
// id once, the same vector again for the same input), and score it to a probability in [0, 1].
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "core/classify/classifier.hpp"
#include "core/classify/tokenizer.hpp"

namespace cl = gf::classify;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  static const cl::Classifier classifier = [] {
    cl::ClassifierOptions o = cl::default_classifier_options();  // with the character n-grams
    o.logistic.hash_bits = 16;
    return cl::Classifier(o);
  }();
  cl::CommentFields f;
  f.content = text;
  f.author = text.substr(0, std::min<std::size_t>(text.size(), 64));
  f.author_email = text.substr(0, std::min<std::size_t>(text.size(), 32));
  f.author_url = text.substr(text.size() / 2);
  const cl::FeatureVector v = classifier.features(f);
  std::vector<cl::FeatureId> ids;
  ids.reserve(v.size());
  for (const cl::Feature& x : v) {
    ids.push_back(x.id);
  }
  std::sort(ids.begin(), ids.end());
  if (std::adjacent_find(ids.begin(), ids.end()) != ids.end() || classifier.features(f) != v) {
    std::abort();
  }
  const double p = classifier.score(v);
  if (!(p >= 0.0 && p <= 1.0)) {
    std::abort();
  }
  (void)cl::token_strings(text);
  return 0;
}
