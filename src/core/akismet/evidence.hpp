#pragma once
// Evidence beyond the text classifier: what a comment's fields say on their own, and the
// bounded in-memory flood tracker ("the same text from several sites").
//
// analyze() is a pure function of the request: links in the body (HTML href/src, bare
// http(s):// and www. URLs, BBCode [url]), links to the blog's or the page's own host not
// counted as outside links; a link or e-mail address in the author name; the dominant script
// of the text against the scripts of blog_lang; the normalised-text hash and the keys under
// which submit-spam reputation is kept (IP, e-mail, URL hosts, text).
//
// Threading: analyze() is pure; a FloodTracker is a value the caller guards. Errors: none.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/akismet/request.hpp"

namespace gf::akismet {

enum class Script : std::uint8_t {
  Unknown,
  Latin,
  Cyrillic,
  Greek,
  Arabic,
  Hebrew,
  Cjk,
  Hangul,
  Thai,
  Devanagari,
  Other
};
[[nodiscard]] std::string_view to_string(Script s);

struct Analysis {
  std::size_t links = 0;                // outside links in the body
  std::vector<std::string> link_hosts;  // distinct lower-case hosts of those links (at most 16)
  bool author_has_link = false;
  bool author_has_email = false;
  bool bbcode_url = false;
  Script script = Script::Unknown;   // dominant script of the body when clear, else Unknown
  std::vector<Script> blog_scripts;  // scripts blog_lang is written in (empty: unknown)
  std::string author_url_host;       // lower case, "www." dropped
  std::string email;                 // lower case
  std::uint64_t text_hash = 0;       // normalised body; 0 when too short to be telling
  std::size_t text_chars = 0;        // code points of the normalised body
};

[[nodiscard]] Analysis analyze(const CommentRequest& r);

// The host of a URL ("https://User@Example.COM:8080/x" -> "example.com"), "www." dropped;
// "" if none.
[[nodiscard]] std::string url_host(std::string_view url);

// Counts how many distinct blogs sent the same text within `window_s`. Memory is bounded: at
// most `capacity` texts, in two generations that rotate when the newer one is full.
class FloodTracker {
 public:
  explicit FloodTracker(std::size_t capacity = 200000, std::int64_t window_s = 86400);
  // Records (text, blog) at `now_s` and returns the number of distinct blogs (this one
  // included) that sent the text within the window.
  std::uint32_t observe(std::uint64_t text_hash, std::uint64_t blog_hash, std::int64_t now_s);
  // The same count without recording.
  [[nodiscard]] std::uint32_t count(std::uint64_t text_hash, std::uint64_t blog_hash,
                                    std::int64_t now_s) const;

 private:
  struct Seen {
    std::uint64_t blog;
    std::int64_t last_s;
  };
  using Map = std::unordered_map<std::uint64_t, std::vector<Seen>>;
  static constexpr std::size_t kMaxBlogsPerText = 8;
  std::size_t capacity_;
  std::int64_t window_s_;
  Map current_;
  Map previous_;
};

}  // namespace gf::akismet
