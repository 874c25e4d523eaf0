#include "core/classify/tokenizer.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <string>
#include <utility>

#include "core/classify/html.hpp"
#include "core/classify/normalize.hpp"
#include "core/classify/url_tokens.hpp"

namespace gf::classify {

namespace {

constexpr std::size_t kMaxWordCodePoints = 30;
constexpr std::size_t kMaxPunctRun = 4;
constexpr std::size_t kMaxShapeBytes = 16;
constexpr std::size_t kMaxTags = 16;
constexpr std::size_t kMaxLinks = 16;
constexpr std::string_view kTrimChars = ".,!?;:'\"()[]{}<>*";

bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ascii_alpha(char c) { return c >= 'a' && c <= 'z'; }

std::string_view trim_punct(std::string_view s) {
  while (!s.empty() && kTrimChars.find(s.front()) != std::string_view::npos) {
    s.remove_prefix(1);
  }
  while (!s.empty() && kTrimChars.find(s.back()) != std::string_view::npos) {
    s.remove_suffix(1);
  }
  return s;
}

std::string_view trim_url_tail(std::string_view s) {
  while (!s.empty() &&
         std::string_view(".,!?;:'\")]}>*").find(s.back()) != std::string_view::npos) {
    s.remove_suffix(1);
  }
  return s;
}

std::vector<std::string_view> split_whitespace(std::string_view text) {
  std::vector<std::string_view> chunks;
  std::size_t start = std::string_view::npos;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t at = i;
    auto cp = next_code_point(text, i);
    bool space = classify_code_point(cp) == CharClass::Space;
    if (space && start != std::string_view::npos) {
      chunks.push_back(text.substr(start, at - start));
      start = std::string_view::npos;
    } else if (!space && start == std::string_view::npos) {
      start = at;
    }
  }
  if (start != std::string_view::npos) {
    chunks.push_back(text.substr(start));
  }
  return chunks;
}

std::size_t count_digits(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), is_ascii_digit));
}

bool is_phone_chunk(std::string_view c) {
  return !c.empty() && std::all_of(c.begin(), c.end(), [](char ch) {
    return is_ascii_digit(ch) || ch == '+' || ch == '(' || ch == ')' || ch == '-' || ch == '.';
  });
}

// "1.000.000", "3.14159265" and "2013-11-07" are numbers or dates, not phone numbers.
bool is_grouped_number_or_date(std::string_view c) {
  std::vector<std::size_t> groups;
  std::size_t run = 0;
  char sep = 0;
  for (char ch : c) {
    if (is_ascii_digit(ch)) {
      ++run;
      continue;
    }
    if (sep != 0 && ch != sep) {
      return false;
    }
    sep = ch;
    groups.push_back(run);
    run = 0;
  }
  groups.push_back(run);
  if (sep == '.' && groups.size() == 2) {
    return true;
  }
  if (sep == '.' && std::all_of(groups.begin() + 1, groups.end(), [](auto g) { return g == 3; })) {
    return true;
  }
  return sep == '-' && groups.size() == 3 && groups[0] == 4 && groups[1] <= 2 && groups[2] <= 2;
}

std::string bucket_name(std::string_view name, std::size_t value) {
  std::string out(name);
  out.append(std::to_string(value));
  return out;
}

// "pleasssssse" -> "please", "subscribeeee" -> "subscribe": runs of three or more of the same
// letter collapse to one (runs of two are normal spelling: "cool", "channel"; digits stay).
std::string squeeze_runs(std::string_view word) {
  std::string out;
  std::size_t i = 0;
  while (i < word.size()) {
    std::size_t start = i;
    auto cp = next_code_point(word, i);
    std::string_view one = word.substr(start, i - start);
    std::size_t run = 1;
    std::size_t j = i;
    while (j < word.size()) {
      std::size_t k = j;
      if (next_code_point(word, k) != cp) {
        break;
      }
      j = k;
      ++run;
    }
    bool letter = classify_code_point(cp) == CharClass::Letter;
    out.append(one);
    if (run == 2 || (!letter && run > 2)) {  // numbers keep their digits: 1000000
      for (std::size_t r = 1; r < run; ++r) {
        out.append(one);
      }
    }
    i = j;
  }
  return out;
}

// A deliberately crude English suffix stripper, so that subscribe / subscribed / subscriber /
// subscribers / subscribing share one "s:subscrib" feature. Only ASCII words of 5+ letters.
std::string light_stem(std::string_view word) {
  constexpr std::size_t kMinStem = 4;
  if (word.size() < kMinStem + 1 ||
      !std::all_of(word.begin(), word.end(), [](char c) { return is_ascii_alpha(c); })) {
    return std::string(word);
  }
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 10> kSuffixes{{
      {"ings", ""},
      {"ing", ""},
      {"ers", ""},
      {"ies", "y"},
      {"ied", "y"},
      {"ed", ""},
      {"er", ""},
      {"es", ""},
      {"s", ""},
      {"e", ""},
  }};
  for (const auto& [suffix, replacement] : kSuffixes) {
    if (word.ends_with(suffix) && word.size() - suffix.size() >= kMinStem) {
      std::string stem(word.substr(0, word.size() - suffix.size()));
      return stem.append(replacement);
    }
  }
  return std::string(word);
}

}  // namespace

FeatureBuilder::FeatureBuilder(TokenizerOptions options) : options_(options) {
  features_.reserve(512);  // a comment's features, without regrowing
}

void FeatureBuilder::emit(std::string_view name) {
  std::string_view full = name;
  if (!prefix_.empty()) {
    name_buf_.assign(prefix_).append(name);  // reused: no allocation per feature
    full = name_buf_;
  }
  FeatureId id = hash_feature(full);
  features_.push_back(Feature{id, 1.0F});
  if (names_ != nullptr) {
    names_->remember(id, full);
  }
  if (keep_strings_) {
    strings_.emplace_back(full);
  }
}

void FeatureBuilder::add_raw(std::string_view name, float value) {
  FeatureId id = hash_feature(name);
  features_.push_back(Feature{id, value});
  if (names_ != nullptr) {
    names_->remember(id, name);
  }
  if (keep_strings_) {
    strings_.emplace_back(name);
  }
}

void FeatureBuilder::add_token(std::string_view field, std::string_view value) {
  prefix_.clear();
  std::string name(field);
  name.append("/t:");
  name.append(normalize(value.substr(0, std::min(value.size(), options_.max_input_bytes))));
  emit(name);
}

void FeatureBuilder::add_text(std::string_view text, std::string_view field) {
  prefix_ = field.empty() ? std::string() : std::string(field) + "/";
  words_.clear();
  urls_ = 0;
  text = text.substr(0, std::min(text.size(), options_.max_input_bytes));
  HtmlText html = html_to_text(text);
  for (std::size_t t = 0; t < html.tags.size() && t < kMaxTags; ++t) {
    emit("html:" + html.tags[t]);
  }
  std::string clean = sanitize_utf8(html.text);
  if (options_.shape) {
    emit_text_shape(clean);
  }
  std::string norm = normalize(clean);
  if (options_.text_ngrams) {
    emit_text_ngrams(norm);
  }
  process_chunks(split_whitespace(norm));
  for (std::size_t l = 0; l < html.links.size() && l < kMaxLinks; ++l) {
    emit("html:link");
    emit_url(normalize(html.links[l]));
  }
  emit_word_features();
}

void FeatureBuilder::process_chunks(const std::vector<std::string_view>& chunks) {
  std::size_t i = 0;
  while (i < chunks.size()) {
    if (std::size_t used = try_phone(chunks, i); used > 0) {
      i += used;
      continue;
    }
    process_chunk(chunks[i]);
    i += 1 + try_obfuscated_host(chunks, i);
  }
}

std::size_t FeatureBuilder::try_phone(const std::vector<std::string_view>& chunks, std::size_t i) {
  constexpr std::size_t kMinDigits = 7;
  constexpr std::size_t kMaxDigits = 15;
  if (!is_phone_chunk(chunks[i]) || count_digits(chunks[i]) == 0) {
    return 0;
  }
  std::size_t j = i;
  std::size_t digits = 0;
  while (j < chunks.size() && is_phone_chunk(chunks[j]) &&
         digits + count_digits(chunks[j]) <= kMaxDigits) {
    digits += count_digits(chunks[j]);
    ++j;
  }
  if (digits < kMinDigits || (j == i + 1 && is_grouped_number_or_date(chunks[i]))) {
    return 0;
  }
  // A bare digit run ("1000000 views") is a count, unless it looks dialled: +44..., 0771...
  bool bare = j == i + 1 && count_digits(chunks[i]) == chunks[i].size();
  if (bare && chunks[i].front() != '0') {
    return 0;
  }
  emit("phone");
  emit(bucket_name("phone:d", digits));
  if (chunks[i].front() == '+') {
    emit("phone:intl");
  }
  words_.emplace_back("<phone>");
  return j - i;
}

// "kidsmediausa . com" and "site dot com": a host name split up to dodge link filters.
std::size_t FeatureBuilder::try_obfuscated_host(const std::vector<std::string_view>& chunks,
                                                std::size_t i) {
  std::string_view word = chunks[i];
  if (word.empty() || !std::all_of(word.begin(), word.end(), [](char c) {
        return is_ascii_alpha(c) || is_ascii_digit(c) || c == '-';
      })) {
    return 0;
  }
  std::string_view tld;
  std::size_t used = 0;
  if (i + 2 < chunks.size() && (chunks[i + 1] == "." || chunks[i + 1] == "dot" ||
                                chunks[i + 1] == "(dot)" || chunks[i + 1] == "[dot]")) {
    tld = trim_punct(chunks[i + 2]);
    used = 2;
  } else if (i + 1 < chunks.size() && chunks[i + 1].size() > 1 && chunks[i + 1][0] == '.') {
    tld = trim_punct(chunks[i + 1].substr(1));
    used = 1;
  }
  if (used == 0 || !is_known_tld(tld)) {
    return 0;
  }
  emit("url:obfuscated");
  std::string host(word);
  host.push_back('.');
  host.append(tld);
  emit_url(host);
  return used;
}

void FeatureBuilder::process_chunk(std::string_view chunk) {
  if (auto scheme = chunk.find("://"); scheme != std::string_view::npos) {
    std::size_t start = scheme;
    while (start > 0 && is_ascii_alpha(chunk[start - 1])) {
      --start;
    }
    if (start < scheme) {
      if (start > 0) {
        process_plain(chunk.substr(0, start));
      }
      emit_url(chunk.substr(start));
      return;
    }
  }
  std::string_view core = trim_punct(chunk);
  if (core.starts_with("www.") && core.size() > 4) {
    emit_url(core);
    return;
  }
  if (core.find('@') != std::string_view::npos && is_email(core)) {
    for (const auto& t : email_tokens(core)) {
      emit(t);
    }
    words_.emplace_back("<email>");
    return;
  }
  if (looks_like_host(core.substr(0, core.find('/')))) {
    emit_url(core);
    return;
  }
  if (options_.shape && count_digits(chunk) > 0) {
    emit_shape(core);
  }
  process_plain(chunk);
}

void FeatureBuilder::process_plain(std::string_view text) {
  std::string word;
  std::string punct;
  std::size_t punct_len = 0;
  auto flush_punct = [&]() {
    if (!punct.empty()) {
      emit("p:" + punct);
      punct.clear();
      punct_len = 0;
    }
  };
  auto flush_word = [&]() {
    if (!word.empty()) {
      push_word(word);
      word.clear();
    }
  };
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t at = i;
    auto cp = next_code_point(text, i);
    std::string_view bytes = text.substr(at, i - at);
    CharClass cls = classify_code_point(cp);
    if (cls == CharClass::Letter || cls == CharClass::Mark || cls == CharClass::Digit) {
      flush_punct();
      word.append(bytes);
      continue;
    }
    if (cp == '\'' && !word.empty() && i < text.size()) {
      std::size_t peek = i;
      if (classify_code_point(next_code_point(text, peek)) == CharClass::Letter) {
        word.append(bytes);  // don't, it's
        continue;
      }
    }
    flush_word();
    if (cls == CharClass::Punct) {
      if (punct_len < kMaxPunctRun) {
        punct.append(bytes);
        ++punct_len;
      }
    } else {
      flush_punct();
      if (cls == CharClass::Symbol) {
        emit("sym:" + std::string(bytes));
      }
    }
  }
  flush_word();
  flush_punct();
}

void FeatureBuilder::push_word(std::string_view raw_word) {
  if (words_.size() >= options_.max_words) {
    return;
  }
  std::string squeezed = squeeze_runs(raw_word);
  if (squeezed.size() != raw_word.size()) {
    emit("elongated");
  }
  std::string_view word = squeezed;
  std::size_t cps = 0;
  bool all_digits = true;
  bool has_letter = false;
  for (std::size_t i = 0; i < word.size();) {
    auto cls = classify_code_point(next_code_point(word, i));
    all_digits = all_digits && cls == CharClass::Digit;
    has_letter = has_letter || cls == CharClass::Letter;
    ++cps;
  }
  std::string token;
  if (all_digits && cps > 4) {
    // Built with append(): GCC 12 warns falsely (-Wrestrict) on "lit" + std::string chains.
    token = "<num";
    token.append(std::to_string(std::min<std::size_t>(cps, 12))).append(">");
  } else if (cps > kMaxWordCodePoints) {
    token = "<long>";
  } else {
    token = std::string(word);
  }
  std::string name = "w:";
  emit(name.append(token));
  if (all_digits) {
    emit(bucket_name("num:d", std::min<std::size_t>(cps, 12)));
  }
  if (options_.stems && has_letter && cps <= kMaxWordCodePoints) {
    if (std::string stem = light_stem(word); stem != word) {
      std::string stem_name = "s:";
      emit(stem_name.append(stem));
    }
  }
  if (options_.char_ngrams && has_letter && cps <= kMaxWordCodePoints) {
    std::vector<std::string_view> points;
    std::string framed = "^";
    framed.append(word).append("$");
    for (std::size_t i = 0; i < framed.size();) {
      std::size_t at = i;
      (void)next_code_point(framed, i);
      points.push_back(std::string_view(framed).substr(at, i - at));
    }
    for (int n = options_.char_ngram_min; n <= options_.char_ngram_max; ++n) {
      auto len = static_cast<std::size_t>(n);
      for (std::size_t s = 0; s + len <= points.size() && len < points.size(); ++s) {
        std::string gram = "c:";
        for (std::size_t k = s; k < s + len; ++k) {
          gram.append(points[k]);
        }
        emit(gram);
      }
    }
  }
  words_.push_back(std::move(token));
}

void FeatureBuilder::emit_url(std::string_view url) {
  url = trim_url_tail(url);
  for (const auto& t : url_tokens(url)) {
    emit(t);
  }
  ++urls_;
  if (words_.size() < options_.max_words) {
    words_.emplace_back("<url>");
  }
}

void FeatureBuilder::emit_shape(std::string_view chunk) {
  std::string shape;
  for (char c : chunk) {
    if (shape.size() >= kMaxShapeBytes) {
      break;
    }
    if (is_ascii_digit(c)) {
      shape.push_back('9');
    } else if (is_ascii_alpha(c)) {
      shape.push_back('a');
    } else if (static_cast<unsigned char>(c) >= 0x80) {
      if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
        shape.push_back('u');  // one per non-ASCII code point
      }
    } else {
      shape.push_back(c);
    }
  }
  emit("shape:" + shape);
}

void FeatureBuilder::emit_text_shape(std::string_view text) {
  std::size_t cps = 0;
  std::size_t letters = 0;
  std::size_t upper = 0;
  for (std::size_t i = 0; i < text.size();) {
    auto cp = next_code_point(text, i);
    ++cps;
    if (classify_code_point(cp) == CharClass::Letter) {
      ++letters;
      upper += is_upper(cp) ? 1 : 0;
    }
  }
  if (options_.length) {
    emit(bucket_name("len:", static_cast<std::size_t>(std::bit_width(cps))));
  }
  constexpr std::size_t kMinLettersForCaps = 4;
  if (letters >= kMinLettersForCaps) {
    emit(upper == letters ? std::string("caps:all") : bucket_name("caps:", upper * 4 / letters));
  }
}

void FeatureBuilder::emit_text_ngrams(std::string_view norm) {
  // The n-gram text: letters, marks and digits as they are; every run of anything else (space,
  // punctuation, symbols) becomes one space; a space at each end frames the first and last word.
  std::string& text = gram_text_;
  std::vector<std::uint32_t>& starts = gram_starts_;  // byte offset of each code point
  text.assign(1, ' ');
  starts.assign(1, 0);
  for (std::size_t i = 0; i < norm.size();) {
    const std::size_t at = i;
    const CharClass cls = classify_code_point(next_code_point(norm, i));
    if (cls == CharClass::Letter || cls == CharClass::Mark || cls == CharClass::Digit) {
      starts.push_back(static_cast<std::uint32_t>(text.size()));
      text.append(norm.substr(at, i - at));
    } else if (text.back() != ' ') {
      starts.push_back(static_cast<std::uint32_t>(text.size()));
      text.push_back(' ');
    }
  }
  if (text.back() != ' ') {
    starts.push_back(static_cast<std::uint32_t>(text.size()));
    text.push_back(' ');
  }
  starts.push_back(static_cast<std::uint32_t>(text.size()));  // end sentinel
  const std::size_t points = starts.size() - 1;
  // The seed carries the field prefix, so "author" n-grams are their own features.
  const FeatureId seed = hash_feature(prefix_ + "c:");
  const auto lo = static_cast<std::size_t>(std::max(options_.text_ngram_min, 1));
  const auto hi = static_cast<std::size_t>(std::max(options_.text_ngram_max, 1));
  for (std::size_t n = lo; n <= hi && n <= points; ++n) {
    for (std::size_t s = 0; s + n <= points; ++s) {
      const std::string_view gram(text.data() + starts[s], starts[s + n] - starts[s]);
      features_.push_back(Feature{hash_ngram(gram, seed), 1.0F, FeatureGroup::CharNgram});
      if (names_ != nullptr || keep_strings_) {
        std::string name = prefix_ + "c:";
        name.append(gram);
        if (names_ != nullptr) {
          names_->remember(features_.back().id, name);
        }
        if (keep_strings_) {
          strings_.push_back(std::move(name));
        }
      }
    }
  }
}

void FeatureBuilder::emit_word_features() {
  if (options_.shape) {
    if (options_.length) {
      emit(bucket_name("words:", static_cast<std::size_t>(std::bit_width(words_.size()))));
    }
    if (urls_ > 0) {  // absence is no evidence: spam without links is common
      emit(bucket_name("urls:", std::min<std::size_t>(urls_, 3)));
    }
  }
  if (options_.osb) {
    auto window = static_cast<std::size_t>(std::max(options_.osb_window, 2));
    std::string& name = pair_buf_;  // reused: no allocation per pair
    for (std::size_t i = 0; i < words_.size(); ++i) {
      for (std::size_t d = 1; d < window && i + d < words_.size(); ++d) {
        name.clear();  // not assign("o"): GCC 12 warns falsely (-Wrestrict) on that
        name.push_back('o');
        name.append(std::to_string(d)).append(":").append(words_[i]).append(" ");
        emit(name.append(words_[i + d]));
      }
    }
  }
  words_.clear();
  urls_ = 0;
}

FeatureVector FeatureBuilder::finish() {
  FeatureVector out = std::move(features_);
  features_ = FeatureVector();
  strings_.clear();
  canonicalize(out);
  return out;
}

FeatureVector tokenize(std::string_view text, const TokenizerOptions& options) {
  FeatureBuilder builder(options);
  builder.add_text(text);
  return builder.finish();
}

std::vector<std::string> token_strings(std::string_view text, const TokenizerOptions& options) {
  FeatureBuilder builder(options);
  builder.keep_token_strings(true);
  builder.add_text(text);
  return builder.token_strings();
}

}  // namespace gf::classify
