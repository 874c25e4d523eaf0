#pragma once
// html_to_text: a forgiving HTML-to-text stripper for user-submitted comment bodies.
//
// Flow: one left-to-right pass. Tags are removed (block-level tags become a space), the
// contents of <script>, <style> and comments are dropped, character references (&amp;, &#39;,
// &#x1F600;) are decoded to UTF-8, and the URL of every href= (and src=) attribute is kept in
// `links` so the tokenizer can turn it into URL features. A '<' that does not start a tag
// ("I <3 this", "a < b") is kept as text. Unknown or malformed entities are kept verbatim.
//
// It is not an HTML5 parser and does not need to be: its output feeds a classifier, not a
// browser. Threading: pure function. Errors: none; any byte string is accepted (invalid UTF-8
// is passed through for the normaliser to repair).
#include <string>
#include <string_view>
#include <vector>

namespace gf::classify {

struct HtmlText {
  std::string text;
  std::vector<std::string> links;  // href/src attribute values, entity-decoded, trimmed
  std::vector<std::string> tags;   // distinct lower-case tag names seen, in first-seen order
};

[[nodiscard]] HtmlText html_to_text(std::string_view html);

// Decodes character references in `text` (used for text and attribute values).
[[nodiscard]] std::string decode_entities(std::string_view text);

}  // namespace gf::classify
