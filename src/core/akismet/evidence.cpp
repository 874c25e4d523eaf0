#include "core/akismet/evidence.hpp"

#include <algorithm>
#include <array>

#include "core/classify/features.hpp"
#include "core/classify/html.hpp"
#include "core/classify/normalize.hpp"
#include "core/classify/url_tokens.hpp"
#include "core/common/strings.hpp"

namespace gf::akismet {

namespace {

Script script_of(std::int32_t cp) {
  if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
      (cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7) || (cp >= 0x1E00 && cp <= 0x1EFF)) {
    return Script::Latin;
  }
  if (cp >= 0x400 && cp <= 0x52F) {
    return Script::Cyrillic;
  }
  if (cp >= 0x370 && cp <= 0x3FF) {
    return Script::Greek;
  }
  if ((cp >= 0x600 && cp <= 0x6FF) || (cp >= 0x750 && cp <= 0x77F)) {
    return Script::Arabic;
  }
  if (cp >= 0x590 && cp <= 0x5FF) {
    return Script::Hebrew;
  }
  if ((cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3040 && cp <= 0x30FF) ||
      (cp >= 0x3400 && cp <= 0x4DBF)) {
    return Script::Cjk;
  }
  if ((cp >= 0xAC00 && cp <= 0xD7AF) || (cp >= 0x1100 && cp <= 0x11FF)) {
    return Script::Hangul;
  }
  if (cp >= 0xE00 && cp <= 0xE7F) {
    return Script::Thai;
  }
  if (cp >= 0x900 && cp <= 0x97F) {
    return Script::Devanagari;
  }
  return Script::Unknown;
}

struct LangScript {
  std::string_view lang;
  Script script;
};

// ISO 639-1 codes of common blog languages and the script each is written in (a language
// written in two scripts is listed twice).
constexpr std::array<LangScript, 52> kLangScripts{{
    {"en", Script::Latin},    {"fr", Script::Latin},    {"de", Script::Latin},
    {"es", Script::Latin},    {"it", Script::Latin},    {"pt", Script::Latin},
    {"nl", Script::Latin},    {"sv", Script::Latin},    {"da", Script::Latin},
    {"no", Script::Latin},    {"nb", Script::Latin},    {"nn", Script::Latin},
    {"fi", Script::Latin},    {"pl", Script::Latin},    {"cs", Script::Latin},
    {"sk", Script::Latin},    {"hu", Script::Latin},    {"ro", Script::Latin},
    {"tr", Script::Latin},    {"id", Script::Latin},    {"ms", Script::Latin},
    {"vi", Script::Latin},    {"ca", Script::Latin},    {"hr", Script::Latin},
    {"sl", Script::Latin},    {"et", Script::Latin},    {"lv", Script::Latin},
    {"lt", Script::Latin},    {"ga", Script::Latin},    {"eu", Script::Latin},
    {"gl", Script::Latin},    {"is", Script::Latin},    {"sq", Script::Latin},
    {"af", Script::Latin},    {"sw", Script::Latin},    {"tl", Script::Latin},
    {"ru", Script::Cyrillic}, {"uk", Script::Cyrillic}, {"bg", Script::Cyrillic},
    {"sr", Script::Cyrillic}, {"sr", Script::Latin},    {"be", Script::Cyrillic},
    {"mk", Script::Cyrillic}, {"kk", Script::Cyrillic}, {"el", Script::Greek},
    {"ar", Script::Arabic},   {"fa", Script::Arabic},   {"ur", Script::Arabic},
    {"he", Script::Hebrew},   {"zh", Script::Cjk},      {"ja", Script::Cjk},
    {"ko", Script::Hangul},
}};

std::vector<Script> scripts_of_langs(std::string_view blog_lang) {
  std::vector<Script> out;
  bool unknown = false;
  for (std::string_view item : split(blog_lang, ',')) {
    item = trim_ws(item);
    if (item.empty()) {
      continue;
    }
    const std::string code =
        ascii_lower(item.substr(0, std::min(item.find_first_of("_-"), item.size())));
    bool found = false;
    for (const LangScript& ls : kLangScripts) {
      if (ls.lang == code) {
        found = true;
        if (std::find(out.begin(), out.end(), ls.script) == out.end()) {
          out.push_back(ls.script);
        }
      }
    }
    if (code == "th") {
      found = true;
      out.push_back(Script::Thai);
    } else if (code == "hi" || code == "mr" || code == "ne") {
      found = true;
      out.push_back(Script::Devanagari);
    }
    unknown = unknown || !found;
  }
  if (unknown) {
    out.clear();  // one language we cannot place: make no claim at all
  }
  return out;
}

Script dominant_script(std::string_view text) {
  std::array<std::size_t, 11> counts{};
  std::size_t letters = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::int32_t cp = classify::next_code_point(text, i);
    const Script s = script_of(cp);
    if (s != Script::Unknown) {
      ++counts[static_cast<std::size_t>(s)];
      ++letters;
    }
  }
  if (letters < 20) {
    return Script::Unknown;
  }
  const auto best = std::max_element(counts.begin(), counts.end());
  if (*best * 10 < letters * 6) {
    return Script::Unknown;  // mixed: no dominant script
  }
  return static_cast<Script>(best - counts.begin());
}

bool is_url_char(char c) {
  return c > ' ' && c != '"' && c != '<' && c != '>' && c != '\'' && c != '[' && c != ']' &&
         c != ')' && c != '(' && static_cast<unsigned char>(c) < 0x80;
}

// Bare URLs in plain text: http://, https://, and www. at a word start.
void find_bare_urls(std::string_view text, std::vector<std::string>& out) {
  const std::string lower = ascii_lower(text);
  std::size_t i = 0;
  while (i < lower.size() && out.size() < 256) {
    std::size_t start = std::string::npos;
    const std::size_t h = lower.find("http", i);
    const std::size_t w = lower.find("www.", i);
    std::size_t cand = std::min(h, w);
    if (cand == std::string::npos) {
      break;
    }
    if (cand == h &&
        (lower.compare(h, 7, "http://") == 0 || lower.compare(h, 8, "https://") == 0)) {
      start = h;
    } else if (cand == w && (w == 0 || !is_url_char(lower[w - 1]) || lower[w - 1] == '/')) {
      start = w;
    }
    if (start == std::string::npos) {
      i = cand + 1;
      continue;
    }
    std::size_t end = start;
    while (end < text.size() && is_url_char(text[end])) {
      ++end;
    }
    std::string url(text.substr(start, end - start));
    while (!url.empty() && (url.back() == '.' || url.back() == ',' || url.back() == '!')) {
      url.pop_back();
    }
    if (url.size() > 4) {
      out.push_back(std::move(url));
    }
    i = end;
  }
}

}  // namespace

std::string_view to_string(Script s) {
  switch (s) {
    case Script::Latin:
      return "latin";
    case Script::Cyrillic:
      return "cyrillic";
    case Script::Greek:
      return "greek";
    case Script::Arabic:
      return "arabic";
    case Script::Hebrew:
      return "hebrew";
    case Script::Cjk:
      return "cjk";
    case Script::Hangul:
      return "hangul";
    case Script::Thai:
      return "thai";
    case Script::Devanagari:
      return "devanagari";
    case Script::Other:
      return "other";
    case Script::Unknown:
      break;
  }
  return "unknown";
}

std::string url_host(std::string_view url) {
  std::string_view s = trim_ws(url);
  if (const std::size_t scheme = s.find("://"); scheme != std::string_view::npos && scheme < 12) {
    s.remove_prefix(scheme + 3);
  } else if (s.starts_with("//")) {
    s.remove_prefix(2);
  }
  s = s.substr(0, s.find_first_of("/?#"));
  if (const std::size_t at = s.rfind('@'); at != std::string_view::npos) {
    s.remove_prefix(at + 1);
  }
  if (!s.empty() && s.front() == '[') {
    s = s.substr(0, s.find(']') + 1);
  } else {
    s = s.substr(0, s.find(':'));
  }
  std::string host = ascii_lower(s);
  while (!host.empty() && host.back() == '.') {
    host.pop_back();
  }
  if (host.starts_with("www.")) {
    host.erase(0, 4);
  }
  if (host.size() > 253) {
    host.resize(253);
  }
  return host;
}

Analysis analyze(const CommentRequest& r) {
  Analysis a;
  const std::string own_blog = url_host(r.blog);
  const std::string own_page = url_host(r.permalink);

  // Links: HTML attributes, bare URLs in the de-HTML'd text, and BBCode.
  const classify::HtmlText html = classify::html_to_text(r.comment_content);
  std::vector<std::string> urls = html.links;
  find_bare_urls(html.text, urls);
  const std::string lower = ascii_lower(r.comment_content);
  for (std::size_t p = lower.find("[url"); p != std::string::npos; p = lower.find("[url", p + 4)) {
    if (p + 4 < lower.size() && (lower[p + 4] == ']' || lower[p + 4] == '=')) {
      a.bbcode_url = true;
      break;
    }
  }
  if (lower.find("[link=") != std::string::npos) {
    a.bbcode_url = true;
  }
  for (const std::string& u : urls) {
    std::string host = url_host(u);
    if (host.empty() || host == own_blog || host == own_page) {
      continue;
    }
    ++a.links;
    if (a.link_hosts.size() < 16 &&
        std::find(a.link_hosts.begin(), a.link_hosts.end(), host) == a.link_hosts.end()) {
      a.link_hosts.push_back(std::move(host));
    }
  }

  // Author name: a URL, a domain-looking word or an e-mail address.
  const std::string author = ascii_lower(r.comment_author);
  if (author.find("http://") != std::string::npos || author.find("https://") != std::string::npos ||
      author.find("www.") != std::string::npos) {
    a.author_has_link = true;
  } else {
    for (std::string_view word : split(author, ' ')) {
      word = trim_ws(word);
      if (classify::is_email(word)) {
        a.author_has_email = true;
      } else if (word.find('.') != std::string_view::npos && classify::looks_like_host(word)) {
        a.author_has_link = true;
      }
    }
  }

  a.script = dominant_script(html.text);
  a.blog_scripts = scripts_of_langs(r.blog_lang);
  a.author_url_host = url_host(r.comment_author_url);
  a.email = ascii_lower(trim_ws(r.comment_author_email));

  // The text's identity for reputation and flooding: normalised, white space collapsed.
  const std::string norm = classify::normalize(html.text);
  std::string collapsed;
  collapsed.reserve(norm.size());
  for (char c : norm) {
    const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
    if (space) {
      if (!collapsed.empty() && collapsed.back() != ' ') {
        collapsed.push_back(' ');
      }
    } else {
      collapsed.push_back(c);
    }
  }
  while (!collapsed.empty() && collapsed.back() == ' ') {
    collapsed.pop_back();
  }
  std::size_t i = 0;
  while (i < collapsed.size()) {
    (void)classify::next_code_point(collapsed, i);
    ++a.text_chars;
  }
  if (a.text_chars >= 12) {
    a.text_hash = classify::hash_feature("akismet-text:" + collapsed);
  }
  return a;
}

FloodTracker::FloodTracker(std::size_t capacity, std::int64_t window_s)
    : capacity_(std::max<std::size_t>(capacity, 2)), window_s_(window_s) {}

std::uint32_t FloodTracker::count(std::uint64_t text_hash, std::uint64_t blog_hash,
                                  std::int64_t now_s) const {
  std::vector<std::uint64_t> blogs{blog_hash};
  for (const Map* m : {&current_, &previous_}) {
    auto it = m->find(text_hash);
    if (it == m->end()) {
      continue;
    }
    for (const Seen& s : it->second) {
      if (now_s - s.last_s <= window_s_ &&
          std::find(blogs.begin(), blogs.end(), s.blog) == blogs.end()) {
        blogs.push_back(s.blog);
      }
    }
  }
  return static_cast<std::uint32_t>(blogs.size());
}

std::uint32_t FloodTracker::observe(std::uint64_t text_hash, std::uint64_t blog_hash,
                                    std::int64_t now_s) {
  const std::uint32_t n = count(text_hash, blog_hash, now_s);
  auto it = current_.find(text_hash);
  if (it == current_.end()) {
    if (current_.size() >= capacity_ / 2) {
      previous_ = std::move(current_);
      current_ = Map();
    }
    it = current_.emplace(text_hash, std::vector<Seen>()).first;
    if (auto old = previous_.find(text_hash); old != previous_.end()) {
      it->second = old->second;
    }
  }
  std::vector<Seen>& seen = it->second;
  std::erase_if(seen, [&](const Seen& s) { return now_s - s.last_s > window_s_; });
  auto same =
      std::find_if(seen.begin(), seen.end(), [&](const Seen& s) { return s.blog == blog_hash; });
  if (same != seen.end()) {
    same->last_s = now_s;
  } else if (seen.size() < kMaxBlogsPerText) {
    seen.push_back(Seen{blog_hash, now_s});
  }
  return n;
}

}  // namespace gf::akismet
