#include "core/classify/tokenizer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/classify/normalize.hpp"
#include "core/classify/url_tokens.hpp"

namespace gf::classify {
namespace {

bool has(const std::vector<std::string>& tokens, std::string_view t) {
  return std::find(tokens.begin(), tokens.end(), t) != tokens.end();
}

std::string dump(const std::vector<std::string>& tokens) {
  std::string out;
  for (const auto& t : tokens) {
    out += t + " | ";
  }
  return out;
}

TEST(Normalize, AsciiFastPathEqualsUtf8proc) {
  std::string all;
  for (int c = 0; c < 128; ++c) {
    const std::string one(1, static_cast<char>(c));
    EXPECT_EQ(normalize(one), normalize_full(one)) << c;
    all += one;
  }
  EXPECT_EQ(normalize(all), normalize_full(all));
  EXPECT_EQ(normalize("Check OUT my Channel!!! http://Bit.LY/x"),
            normalize_full("Check OUT my Channel!!! http://Bit.LY/x"));
}

TEST(Normalize, FullwidthBecomesAscii) {
  // "ＦＲＥＥ" in fullwidth Latin letters.
  EXPECT_EQ(normalize("\xEF\xBC\xA6\xEF\xBC\xB2\xEF\xBC\xA5\xEF\xBC\xA5"), "free");
}

TEST(Normalize, CaseFoldsIncludingNonAscii) {
  EXPECT_EQ(normalize("CHECK My ChAnNeL"), "check my channel");
  EXPECT_EQ(normalize("STRASSE Stra\xC3\x9F"
                      "e"),
            "strasse strasse");                                    // ß folds to ss
  EXPECT_EQ(normalize("\xC3\x89T\xC3\x89"), "\xC3\xA9t\xC3\xA9");  // ÉTÉ -> été
}

TEST(Normalize, ComposesAndStripsIgnorables) {
  // e + combining acute -> é (NFC), BOM and zero-width space removed.
  EXPECT_EQ(normalize("e\xCC\x81"
                      "a\xEF\xBB\xBF"
                      "b\xE2\x80\x8B"
                      "c"),
            "\xC3\xA9"
            "abc");
  // The ligature "ﬁ" decomposes under NFKC.
  EXPECT_EQ(normalize("\xEF\xAC\x81ne"), "fine");
}

TEST(Normalize, InvalidUtf8IsReplacedNotFatal) {
  std::string bad = "ok\xC3(\xFF\xFE\xED\xA0\x80 end";  // truncated, invalid, surrogate
  std::string out = normalize(bad);
  EXPECT_TRUE(out.starts_with("ok"));
  EXPECT_TRUE(out.ends_with(" end"));
  EXPECT_NE(out.find("\xEF\xBF\xBD"), std::string::npos);
  EXPECT_EQ(sanitize_utf8(out), out);  // the result is valid UTF-8
  std::string with_nul("a\0b", 3);
  EXPECT_EQ(sanitize_utf8(with_nul), "ab");
}

TEST(Tokenizer, InvalidUtf8AndBinaryGarbageDoNotCrash) {
  std::string garbage;
  for (int i = 0; i < 4096; ++i) {
    garbage.push_back(static_cast<char>((i * 131 + 7) & 0xFF));
  }
  auto features = tokenize(garbage);
  EXPECT_FALSE(features.empty());
  auto truncated = tokenize("abc \xF0\x9F\x98");  // cut in the middle of an emoji
  EXPECT_FALSE(truncated.empty());
}

TEST(Tokenizer, WordsAreNormalised) {
  auto t = token_strings("Check out MY ＣＨＡＮＮＥＬ!!!");
  EXPECT_TRUE(has(t, "w:check")) << dump(t);
  EXPECT_TRUE(has(t, "w:my")) << dump(t);
  EXPECT_TRUE(has(t, "w:channel")) << dump(t);
  EXPECT_TRUE(has(t, "p:!!!")) << dump(t);
  TokenizerOptions no_shape;  // the capitals-ratio shape feature differs, nothing else
  no_shape.shape = false;
  EXPECT_EQ(tokenize("FREE money", no_shape), tokenize("free MONEY", no_shape));
}

TEST(Tokenizer, ApostrophesStayInsideWords) {
  auto t = token_strings("Don\xE2\x80\x99t stop, it's 'great'");
  EXPECT_TRUE(has(t, "w:don't")) << dump(t);
  EXPECT_TRUE(has(t, "w:it's")) << dump(t);
  EXPECT_TRUE(has(t, "w:great")) << dump(t);
}

TEST(Tokenizer, HtmlEntitiesAndTags) {
  auto t = token_strings("I&#39;m <b>here</b> &amp; there<br />");
  EXPECT_TRUE(has(t, "w:i'm")) << dump(t);
  EXPECT_TRUE(has(t, "w:here")) << dump(t);
  EXPECT_TRUE(has(t, "html:b")) << dump(t);
  EXPECT_TRUE(has(t, "html:br")) << dump(t);
  EXPECT_FALSE(has(t, "w:amp")) << dump(t);
  EXPECT_FALSE(has(t, "w:39")) << dump(t);
}

TEST(Tokenizer, UrlTokens) {
  auto t = token_strings("visit https://WWW.Example.co.uk/Free/Stuff?id=7, thanks");
  EXPECT_TRUE(has(t, "url")) << dump(t);
  EXPECT_TRUE(has(t, "url:scheme:https")) << dump(t);
  EXPECT_TRUE(has(t, "url:host:www.example.co.uk")) << dump(t);
  EXPECT_TRUE(has(t, "url:dom:example.co.uk")) << dump(t);
  EXPECT_TRUE(has(t, "url:tld:uk")) << dump(t);
  EXPECT_TRUE(has(t, "url:p:free")) << dump(t);
  EXPECT_TRUE(has(t, "url:p:stuff")) << dump(t);
  EXPECT_TRUE(has(t, "w:thanks")) << dump(t);
  EXPECT_TRUE(has(t, "o1:visit <url>")) << dump(t);
}

TEST(Tokenizer, BareAndObfuscatedHosts) {
  auto t = token_strings("go to murdev.com now");
  EXPECT_TRUE(has(t, "url:dom:murdev.com")) << dump(t);
  auto o = token_strings("my site kidsmediausa . com");
  EXPECT_TRUE(has(o, "url:obfuscated")) << dump(o);
  EXPECT_TRUE(has(o, "url:dom:kidsmediausa.com")) << dump(o);
  auto not_host = token_strings("e.g. this, 3.5 stars");
  EXPECT_FALSE(has(not_host, "url")) << dump(not_host);
}

TEST(Tokenizer, HrefBecomesUrlTokens) {
  auto t = token_strings("<a href=\"http://bit.ly/abc\">click</a>");
  EXPECT_TRUE(has(t, "html:link")) << dump(t);
  EXPECT_TRUE(has(t, "url:dom:bit.ly")) << dump(t);
  EXPECT_TRUE(has(t, "w:click")) << dump(t);
}

TEST(Tokenizer, EmailTokens) {
  auto t = token_strings("mail me: John.Doe+x@Mail.Example.com!");
  EXPECT_TRUE(has(t, "email")) << dump(t);
  EXPECT_TRUE(has(t, "email:dom:example.com")) << dump(t);
  EXPECT_FALSE(has(t, "w:john")) << dump(t);
  EXPECT_TRUE(is_email("a@b.co"));
  EXPECT_FALSE(is_email("@b.co"));
  EXPECT_FALSE(is_email("a@b"));
}

TEST(Tokenizer, PhoneTokens) {
  auto t = token_strings("call +1 (555) 123-4567 today");
  EXPECT_TRUE(has(t, "phone")) << dump(t);
  EXPECT_TRUE(has(t, "phone:d11")) << dump(t);
  EXPECT_TRUE(has(t, "phone:intl")) << dump(t);
  EXPECT_TRUE(has(t, "o1:call <phone>")) << dump(t);
  auto n = token_strings("1.000.000.000 views on 2014-11-07");
  EXPECT_FALSE(has(n, "phone")) << dump(n);
}

TEST(Tokenizer, NumberShapes) {
  auto t = token_strings("best part 3:40 and 1000000 views");
  EXPECT_TRUE(has(t, "shape:9:99")) << dump(t);
  EXPECT_TRUE(has(t, "w:<num7>")) << dump(t);
  EXPECT_TRUE(has(t, "num:d7")) << dump(t);
  EXPECT_TRUE(has(t, "w:40")) << dump(t);
}

TEST(Tokenizer, OrthogonalSparseBigramsWindowFive) {
  auto t = token_strings("a b c d e f");
  EXPECT_TRUE(has(t, "o1:a b")) << dump(t);
  EXPECT_TRUE(has(t, "o4:a e")) << dump(t);
  EXPECT_FALSE(has(t, "o5:a f")) << dump(t);
  EXPECT_TRUE(has(t, "o1:e f")) << dump(t);
  TokenizerOptions no_osb;
  no_osb.osb = false;
  EXPECT_FALSE(has(token_strings("a b", no_osb), "o1:a b"));
}

TEST(Tokenizer, ElongationAndStems) {
  auto t = token_strings("PLEASSSSE SUBSCRIBEEEEE to my channnnnnel, subscribers welcome");
  EXPECT_TRUE(has(t, "w:please")) << dump(t);
  EXPECT_TRUE(has(t, "w:subscribe")) << dump(t);
  EXPECT_TRUE(has(t, "elongated")) << dump(t);
  EXPECT_TRUE(has(t, "s:subscrib")) << dump(t);
  EXPECT_TRUE(has(t, "w:subscribers")) << dump(t);
  EXPECT_TRUE(has(t, "w:chanel")) << dump(t);
  EXPECT_FALSE(has(token_strings("cool channel"), "elongated"));
  EXPECT_TRUE(has(token_strings("1000000"), "w:<num7>"));
  TokenizerOptions no_stems;
  no_stems.stems = false;
  EXPECT_FALSE(has(token_strings("subscribers", no_stems), "s:subscrib"));
}

TEST(Tokenizer, CharNgramsWhenEnabled) {
  TokenizerOptions opts;
  opts.char_ngrams = true;
  auto t = token_strings("Spam", opts);
  EXPECT_TRUE(has(t, "c:^sp")) << dump(t);
  EXPECT_TRUE(has(t, "c:pam$")) << dump(t);
  EXPECT_TRUE(has(t, "c:^spam")) << dump(t);
  EXPECT_FALSE(has(token_strings("Spam"), "c:^sp"));
}

TEST(Tokenizer, FieldPrefixesSeparateFeatureSpaces) {
  FeatureBuilder b;
  b.keep_token_strings(true);
  TokenNames names;
  b.set_names(&names);
  b.add_text("free money");
  b.add_text("Money Maker", "author");
  b.add_token("email", "Foo@Example.com");
  const auto strings = b.token_strings();
  EXPECT_TRUE(has(strings, "w:money")) << dump(strings);
  EXPECT_TRUE(has(strings, "author/w:money")) << dump(strings);
  EXPECT_TRUE(has(strings, "email/t:foo@example.com")) << dump(strings);
  auto features = b.finish();
  std::vector<FeatureId> ids;
  for (const Feature& f : features) {
    ids.push_back(f.id);
  }
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end()) << "one entry per id";
  auto id = hash_feature("author/w:money");
  EXPECT_TRUE(
      std::any_of(features.begin(), features.end(), [id](const Feature& f) { return f.id == id; }));
  EXPECT_NE(id, hash_feature("w:money"));
  ASSERT_TRUE(names.find(id).has_value());
  EXPECT_EQ(*names.find(id), "author/w:money");
}

TEST(Tokenizer, RepeatedTokensAreMergedWithCounts) {
  auto f = tokenize("spam spam spam");
  auto id = hash_feature("w:spam");
  auto it = std::find_if(f.begin(), f.end(), [id](const Feature& x) { return x.id == id; });
  ASSERT_NE(it, f.end());
  EXPECT_FLOAT_EQ(it->value, 3.0F);
}

TEST(TokenNames, IsBoundedAndForgetsOldest) {
  TokenNames names(2);
  names.remember(1, "one");
  names.remember(2, "two");
  names.remember(3, "three");
  EXPECT_EQ(names.size(), 2U);
  EXPECT_FALSE(names.find(1).has_value());
  EXPECT_EQ(*names.find(3), "three");
}

TokenizerOptions with_text_ngrams() {
  TokenizerOptions o;
  o.text_ngrams = true;
  o.text_ngram_min = 3;
  o.text_ngram_max = 5;
  return o;
}

// The character n-gram features of a text, as a sorted id list.
std::vector<FeatureId> ngram_ids(std::string_view text, const TokenizerOptions& o) {
  std::vector<FeatureId> out;
  for (const auto& f : tokenize(text, o)) {
    if (f.group == FeatureGroup::CharNgram) {
      out.push_back(f.id);
    }
  }
  return out;
}

TEST(TextNgrams, OffByDefaultSoTheMailModelIsUnchanged) {
  const auto tokens = token_strings("Check out my channel!!! http://bit.ly/x", TokenizerOptions{});
  EXPECT_FALSE(std::any_of(tokens.begin(), tokens.end(), [](const std::string& t) {
    return t.starts_with("c:");
  })) << dump(tokens);
  for (const auto& f : tokenize("Check out my channel", TokenizerOptions{})) {
    EXPECT_EQ(f.group, FeatureGroup::Token);
  }
}

TEST(TextNgrams, SpanWordBoundariesWithOneSpace) {
  const auto tokens = token_strings("Check my  channel", with_text_ngrams());
  EXPECT_TRUE(has(tokens, "c: ch")) << dump(tokens);      // start of the first word
  EXPECT_TRUE(has(tokens, "c:eck")) << dump(tokens);      // inside a word
  EXPECT_TRUE(has(tokens, "c:k my")) << dump(tokens);     // across a boundary
  EXPECT_TRUE(has(tokens, "c:my ch")) << dump(tokens);    // two spaces became one
  EXPECT_TRUE(has(tokens, "c:nel ")) << dump(tokens);     // end of the last word
  EXPECT_FALSE(has(tokens, "c:ch")) << dump(tokens);      // shorter than text_ngram_min
  EXPECT_FALSE(has(tokens, "c:check ")) << dump(tokens);  // longer than text_ngram_max
  EXPECT_TRUE(has(tokens, "w:check")) << dump(tokens);    // the word features are still there
}

TEST(TextNgrams, StableAcrossUnicodeNormalisationAndPunctuation) {
  const auto o = with_text_ngrams();
  const auto plain = ngram_ids("free money", o);
  ASSERT_FALSE(plain.empty());
  // Fullwidth "ＦＲＥＥ", capitals, a zero-width space and a run of punctuation.
  EXPECT_EQ(ngram_ids("\xEF\xBC\xA6\xEF\xBC\xB2\xEF\xBC\xA5\xEF\xBC\xA5 MONEY", o), plain);
  EXPECT_EQ(ngram_ids("Free!!! \xE2\x80\x8B  ...money", o), plain);
  EXPECT_NE(ngram_ids("free honey", o), plain);
}

TEST(TextNgrams, NonAsciiGramsCountCodePoints) {
  const auto tokens = token_strings("\xC3\xA9t\xC3\xA9", with_text_ngrams());  // "été"
  EXPECT_TRUE(has(tokens, "c:\xC3\xA9t\xC3\xA9")) << dump(tokens);             // 3 code points
  EXPECT_TRUE(has(tokens, "c: \xC3\xA9t\xC3\xA9 ")) << dump(tokens);           // 5 with the frame
}

TEST(TextNgrams, HashedNamesMatchTheirIdsAndFieldsAreSeparate) {
  FeatureBuilder b(with_text_ngrams());
  TokenNames names;
  b.set_names(&names);
  b.add_text("cheap followers");
  const auto body = b.finish();
  const auto gram = std::find_if(body.begin(), body.end(), [&](const Feature& f) {
    return f.group == FeatureGroup::CharNgram && names.find(f.id) == std::string_view("c:eap");
  });
  ASSERT_NE(gram, body.end());
  EXPECT_EQ(gram->id, hash_ngram("eap", hash_feature("c:")));
  b.add_text("cheap followers", "author");
  const auto author = b.finish();
  EXPECT_EQ(std::count(author.begin(), author.end(), *gram), 0)
      << "author n-grams must not share ids with body n-grams";
  EXPECT_TRUE(std::any_of(author.begin(), author.end(), [](const Feature& f) {
    return f.id == hash_ngram("eap", hash_feature("author/c:"));
  }));
}

}  // namespace
// canonicalize() against a plain sort-and-merge: the same entries and values, in the order of
// first occurrence; sizes around the table's growth steps, duplicates, a huge vector.
FeatureVector sort_and_merge_reference(FeatureVector in) {
  std::stable_sort(in.begin(), in.end(),
                   [](const Feature& a, const Feature& b) { return a.id < b.id; });
  FeatureVector merged;
  for (const Feature& f : in) {
    if (!merged.empty() && merged.back().id == f.id) {
      merged.back().value += f.value;
    } else {
      merged.push_back(f);
    }
  }
  return merged;
}

FeatureVector sorted_by_id(FeatureVector v) {
  std::sort(v.begin(), v.end(), [](const Feature& a, const Feature& b) { return a.id < b.id; });
  return v;
}

TEST(Canonicalize, MatchesSortAndMergeInFirstOccurrenceOrder) {
  std::mt19937_64 rng(7);
  for (std::size_t n : {0u, 1u, 2u, 5u, 31u, 32u, 33u, 300u, 1000u, 40000u}) {
    FeatureVector in;
    for (std::size_t i = 0; i < n; ++i) {
      std::uint64_t id = rng();
      if (i % 7 == 3 && !in.empty()) {
        id = in[rng() % in.size()].id;  // a duplicate
      }
      in.push_back(Feature{id, static_cast<float>(1 + i % 3),
                           i % 2 ? FeatureGroup::CharNgram : FeatureGroup::Token});
    }
    FeatureVector got = in;
    canonicalize(got);
    EXPECT_EQ(sorted_by_id(got), sort_and_merge_reference(in)) << n;
    // First occurrences, in input order.
    std::vector<FeatureId> firsts;
    std::set<FeatureId> seen;
    for (const Feature& f : in) {
      if (seen.insert(f.id).second) {
        firsts.push_back(f.id);
      }
    }
    ASSERT_EQ(got.size(), firsts.size()) << n;
    for (std::size_t k = 0; k < got.size(); ++k) {
      ASSERT_EQ(got[k].id, firsts[k]) << n << " at " << k;
    }
  }
}

// Ids that share their top bits all land in one run of the table; past the probe limit the
// rest is merged by sorting. The result is still every id once with its values added.
// With duplicates before the limit (the merged head is shorter than the input read so far) and
// without (it is the same length).
TEST(Canonicalize, CollidingIdsFallBackToSorting) {
  for (const bool duplicates : {true, false}) {
    std::mt19937_64 rng(11);
    FeatureVector in;
    for (std::size_t i = 0; i < 3000; ++i) {
      const std::uint64_t id = duplicates && i % 5 == 4 ? in[rng() % in.size()].id
                                                        : (0xabcdeULL << 44) | (rng() >> 20);
      in.push_back(Feature{id, 1.0F});
    }
    FeatureVector got = in;
    canonicalize(got);
    EXPECT_EQ(sorted_by_id(got), sort_and_merge_reference(in)) << duplicates;
  }
}

}  // namespace gf::classify
