// Fuzzes the comment tokenizer (HTML strip, NFKC + case fold, URL/e-mail/phone/shape tokens,
// OSB) and the classifier on top of it: it must terminate, emit a canonical (sorted, unique)
// feature vector, and score it to a probability in [0, 1].
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string_view>

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
  for (std::size_t i = 1; i < v.size(); ++i) {
    if (v[i - 1].id >= v[i].id) {
      std::abort();
    }
  }
  const double p = classifier.score(v);
  if (!(p >= 0.0 && p <= 1.0)) {
    std::abort();
  }
  (void)cl::token_strings(text);
  return 0;
}
