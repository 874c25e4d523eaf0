#include "core/mime/message.hpp"

#include <gmime/gmime.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <unordered_set>
#include <vector>

#include "core/classify/html.hpp"
#include "core/common/strings.hpp"
#include "core/mime/uri.hpp"

namespace gf::mime {

namespace {

void init_once() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

template <class T>
struct GUnref {
  void operator()(T* p) const {
    if (p != nullptr) {
      g_object_unref(p);
    }
  }
};
template <class T>
using GPtr = std::unique_ptr<T, GUnref<T>>;

struct GFree {
  void operator()(void* p) const { g_free(p); }
};
using GString_ = std::unique_ptr<char, GFree>;

struct OptionsFree {
  void operator()(GMimeParserOptions* p) const { g_mime_parser_options_free(p); }
};

const char* warning_name(GMimeParserWarning w) {
  switch (w) {
    case GMIME_WARN_DUPLICATED_HEADER:
      return "duplicated-header";
    case GMIME_WARN_DUPLICATED_PARAMETER:
      return "duplicated-parameter";
    case GMIME_WARN_UNENCODED_8BIT_HEADER:
      return "8bit-header";
    case GMIME_WARN_INVALID_CONTENT_TYPE:
      return "invalid-content-type";
    case GMIME_WARN_INVALID_RFC2047_HEADER_VALUE:
      return "invalid-rfc2047";
    case GMIME_WARN_MALFORMED_MULTIPART:
      return "malformed-multipart";
    case GMIME_WARN_TRUNCATED_MESSAGE:
      return "truncated";
    case GMIME_WARN_MALFORMED_MESSAGE:
      return "malformed-message";
    case GMIME_CRIT_INVALID_HEADER_NAME:
      return "invalid-header-name";
    case GMIME_CRIT_CONFLICTING_HEADER:
      return "conflicting-header";
    case GMIME_CRIT_CONFLICTING_PARAMETER:
      return "conflicting-parameter";
    case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
      return "multipart-without-boundary";
    case GMIME_WARN_INVALID_PARAMETER:
      return "invalid-parameter";
    case GMIME_WARN_INVALID_ADDRESS_LIST:
      return "invalid-address-list";
    case GMIME_CRIT_NESTING_OVERFLOW:
      return "nesting-overflow";
    case GMIME_WARN_PART_WITHOUT_CONTENT:
      return "part-without-content";
    case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT:
      return "part-without-headers-or-content";
  }
  return "unknown-warning";
}

void add_defect(Message& m, std::string_view name) {
  for (const std::string& d : m.defects) {
    if (d == name) {
      return;
    }
  }
  if (m.defects.size() < 32) {
    m.defects.emplace_back(name);
  }
}

void on_warning(gint64, GMimeParserWarning code, const gchar*, gpointer user) {
  Message* m = static_cast<Message*>(user);
  // Duplicated headers and parameters are too common in legitimate mail to count.
  if (code == GMIME_WARN_DUPLICATED_HEADER || code == GMIME_WARN_DUPLICATED_PARAMETER) {
    return;
  }
  add_defect(*m, warning_name(code));
}

void append_bounded(std::string& dst, std::string_view src, std::size_t limit) {
  if (dst.size() >= limit) {
    return;
  }
  if (!dst.empty()) {
    dst += '\n';
  }
  const std::size_t room = limit - dst.size();
  if (src.size() <= room) {
    dst.append(src);
    return;
  }
  // Cut on a UTF-8 character boundary.
  std::size_t cut = room;
  while (cut > 0 && (static_cast<unsigned char>(src[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  dst.append(src.substr(0, cut));
}

void collect_addresses(InternetAddressList* list, std::vector<Address>& out, int depth = 0) {
  if (list == nullptr || depth > 2) {
    return;
  }
  const int n = std::min(internet_address_list_length(list), 50);
  for (int i = 0; i < n; ++i) {
    InternetAddress* ia = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_GROUP(ia)) {
      collect_addresses(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)), out,
                        depth + 1);
      continue;
    }
    if (!INTERNET_ADDRESS_IS_MAILBOX(ia)) {
      continue;
    }
    Address a;
    if (const char* name = internet_address_get_name(ia); name != nullptr) {
      a.name = name;
    }
    if (const char* addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
        addr != nullptr) {
      a.addr = addr;
    }
    const std::size_t at = a.addr.rfind('@');
    if (at != std::string::npos) {
      a.domain = ascii_lower(a.addr.substr(at + 1));
      while (!a.domain.empty() && (a.domain.back() == '.' || a.domain.back() == '>')) {
        a.domain.pop_back();
      }
    }
    out.push_back(std::move(a));
  }
}

std::string lower_type(GMimeContentType* ct) {
  if (ct == nullptr) {
    return "text/plain";
  }
  const char* type = g_mime_content_type_get_media_type(ct);
  const char* sub = g_mime_content_type_get_media_subtype(ct);
  return ascii_lower(std::string(type ? type : "application") + "/" + (sub ? sub : "octet-stream"));
}

// Converters to UTF-8, kept open per thread by charset name (at most kMaxConverters, the least
// recently used closed first; charsets glibc cannot convert are remembered too). GMime 3 has no
// iconv cache (g_mime_iconv_open is iconv_open with GMime's charset names), and glibc unloads a
// charset's gconv module when its last converter closes: opening one per text part cost a
// dlopen, a dlclose and an munmap with a TLB flush on every 8-bit message.
class Converters {
 public:
  Converters() = default;
  Converters(const Converters&) = delete;
  Converters& operator=(const Converters&) = delete;
  ~Converters() {
    for (const Entry& e : open_) {
      if (e.cd != kNone) {
        g_mime_iconv_close(e.cd);
      }
    }
  }

  // The converter from `charset`, reset to its initial state; nullptr when there is none.
  GIConv get(const char* charset) {
    auto it = std::find_if(open_.begin(), open_.end(),
                           [&](const Entry& e) { return e.charset == charset; });
    if (it == open_.end()) {
      if (open_.size() == kMaxConverters) {
        if (open_.front().cd != kNone) {
          g_mime_iconv_close(open_.front().cd);
        }
        open_.erase(open_.begin());
      }
      open_.push_back({charset, g_mime_iconv_open("UTF-8", charset)});
    } else {
      std::rotate(it, it + 1, open_.end());  // most recently used last
    }
    if (open_.back().cd == kNone) {
      return nullptr;
    }
    auto* cd = reinterpret_cast<GIConv>(open_.back().cd);
    g_iconv(cd, nullptr, nullptr, nullptr, nullptr);  // the initial shift state
    return cd;
  }

 private:
  static constexpr std::size_t kMaxConverters = 8;
  inline static const iconv_t kNone = reinterpret_cast<iconv_t>(-1);
  struct Entry {
    std::string charset;
    iconv_t cd;
  };
  std::vector<Entry> open_;
};

GIConv converter(const char* charset) {
  thread_local Converters converters;
  return converters.get(charset);
}

bool charset_known(const char* charset) { return converter(charset) != nullptr; }

// The transfer-decoded (base64, quoted-printable, uuencode) bytes of a leaf.
std::string decoded_bytes(GMimePart* part) {
  GMimeDataWrapper* dw = g_mime_part_get_content(part);
  if (dw == nullptr) {
    return {};
  }
  GPtr<GMimeStream> mem(g_mime_stream_mem_new());
  g_mime_data_wrapper_write_to_stream(dw, mem.get());
  GByteArray* arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.get()));
  if (arr == nullptr) {
    return {};
  }
  return std::string(reinterpret_cast<const char*>(arr->data), arr->len);
}

// `in` read as charset `from`, in UTF-8; empty when it is not valid in that charset.
std::string convert(std::string_view in, const char* from) {
  GIConv cd = converter(from);
  if (cd == nullptr) {
    return {};
  }
  gsize written = 0;
  GString_ conv(g_convert_with_iconv(in.data(), static_cast<gssize>(in.size()), cd, nullptr,
                                     &written, nullptr));
  if (!conv) {
    return {};
  }
  return std::string(conv.get(), written);
}

bool is_utf8_label(std::string_view cs) {
  return cs == "utf-8" || cs == "utf8" || cs == "us-ascii" || cs == "ascii";
}

// The decoded text of a text/* leaf in UTF-8.
std::string part_text(Message& m, GMimePart* part) {
  std::string charset;
  if (const char* cs = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
      cs != nullptr) {
    charset = ascii_lower(std::string(trim_ws(cs)).substr(0, 40));
    if (m.charsets.size() < 16 &&
        std::find(m.charsets.begin(), m.charsets.end(), charset) == m.charsets.end()) {
      m.charsets.push_back(charset);
    }
  }
  std::string raw = decoded_bytes(part);
  if (!charset.empty() && !is_utf8_label(charset)) {
    if (charset_known(charset.c_str())) {
      std::string out = convert(raw, charset.c_str());
      if (!out.empty() || raw.empty()) {
        return out;
      }
      add_defect(m, "wrong-charset");
    } else {
      add_defect(m, "unknown-charset");
    }
  }
  if (g_utf8_validate(raw.data(), static_cast<gssize>(raw.size()), nullptr)) {
    return raw;
  }
  // Undeclared 8-bit text or a wrong label: read it as windows-1252, the usual truth.
  if (!charset.empty()) {
    add_defect(m, "wrong-charset");
  }
  std::string out = convert(raw, "WINDOWS-1252");
  if (out.empty()) {
    out = convert(raw, "ISO-8859-1");  // maps every byte
  }
  return out;
}

struct Walker {
  Message& m;
  const Limits& limits;
  std::unordered_set<std::string> seen_uris;

  void add_uri(std::string uri) {
    if (uri.empty() || m.uris.size() >= limits.max_uris) {
      return;
    }
    if (seen_uris.insert(uri).second) {
      m.uris.push_back(std::move(uri));
    }
  }

  void leaf(GMimeObject* obj) {
    GMimeContentType* ct = g_mime_object_get_content_type(obj);
    const std::string type = lower_type(ct);
    GMimePart* part = GMIME_PART(obj);
    const bool attachment = g_mime_part_is_attachment(part);
    const bool text =
        !attachment && (type == "text/plain" || type == "text/html" || type == "text/enriched");
    if (!text) {
      Attachment a;
      a.content_type = type;
      if (const char* fn = g_mime_part_get_filename(part); fn != nullptr) {
        a.filename = std::string(fn).substr(0, 255);
      }
      if (m.attachments.size() < 64) {
        m.attachments.push_back(std::move(a));
      }
      return;
    }
    if (m.text.size() >= limits.max_text_bytes) {
      return;
    }
    std::string body = part_text(m, part);
    if (type == "text/html") {
      m.has_text_html = true;
      classify::HtmlText h = classify::html_to_text(body);
      for (const std::string& link : h.links) {
        add_uri(normalize_href(link));
      }
      append_bounded(m.html_text, h.text, limits.max_text_bytes);
      std::vector<std::string> found;
      extract_uris(h.text, found, limits.max_uris);
      for (auto& u : found) {
        add_uri(std::move(u));
      }
      append_bounded(m.text, h.text, limits.max_text_bytes);
    } else {
      m.has_text_plain = true;
      std::vector<std::string> found;
      extract_uris(body, found, limits.max_uris);
      for (auto& u : found) {
        add_uri(std::move(u));
      }
      append_bounded(m.text, body, limits.max_text_bytes);
    }
  }

  void walk(GMimeObject* obj, std::size_t depth) {
    if (obj == nullptr) {
      return;
    }
    if (++m.parts > limits.max_parts) {
      add_defect(m, "too-many-parts");
      return;
    }
    if (depth > limits.max_depth) {
      add_defect(m, "too-deep");
      return;
    }
    m.max_depth = std::max(m.max_depth, depth);
    if (GMIME_IS_MESSAGE_PART(obj)) {
      GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
      if (inner != nullptr) {
        walk(g_mime_message_get_mime_part(inner), depth + 1);
      }
      return;
    }
    if (GMIME_IS_MULTIPART(obj)) {
      GMimeMultipart* mp = GMIME_MULTIPART(obj);
      const int n = g_mime_multipart_get_count(mp);
      if (n == 0) {
        add_defect(m, "empty-multipart");
      }
      for (int i = 0; i < n && m.parts <= limits.max_parts; ++i) {
        walk(g_mime_multipart_get_part(mp, i), depth + 1);
      }
      return;
    }
    if (GMIME_IS_PART(obj)) {
      leaf(obj);
    }
  }
};

void read_headers(Message& m, GMimeMessage* msg, const Limits& limits) {
  if (const char* s = g_mime_message_get_subject(msg); s != nullptr) {
    m.subject = std::string(s).substr(0, 2048);
  }
  collect_addresses(g_mime_message_get_from(msg), m.from);
  collect_addresses(g_mime_message_get_reply_to(msg), m.reply_to);
  if (const char* id = g_mime_message_get_message_id(msg); id != nullptr) {
    m.message_id = std::string(id).substr(0, 512);
  }
  GMimeHeaderList* hl = g_mime_object_get_header_list(GMIME_OBJECT(msg));
  const int n = std::min(g_mime_header_list_get_count(hl), 1000);
  for (int i = 0; i < n; ++i) {
    GMimeHeader* h = g_mime_header_list_get_header_at(hl, i);
    const char* name = g_mime_header_get_name(h);
    if (name == nullptr) {
      continue;
    }
    const char* value = g_mime_header_get_value(h);
    std::string_view v = value ? value : "";
    if (m.header_names.size() < 200) {
      m.header_names.emplace_back(std::string(name).substr(0, 64));
    }
    if (iequals(name, "Received")) {
      if (m.received.size() < limits.max_received) {
        m.received.emplace_back(v.substr(0, 1024));
      }
    } else if (iequals(name, "X-Mailer") || (iequals(name, "User-Agent") && m.mailer.empty())) {
      m.mailer = std::string(trim_ws(v.substr(0, 256)));
    } else if (iequals(name, "To") && m.to.empty()) {
      m.to = std::string(v.substr(0, 1024));
    }
  }
}

// A message GMime could not parse at all: keep the raw body as text so analysis still works.
void fallback_text(Message& m, std::string_view raw, const Limits& limits) {
  std::size_t body = raw.find("\n\n");
  if (body == std::string_view::npos) {
    body = raw.find("\r\n\r\n");
  }
  std::string_view text = body == std::string_view::npos ? raw : raw.substr(body);
  std::string t(text.substr(0, limits.max_text_bytes));
  extract_uris(t, m.uris, limits.max_uris);
  append_bounded(m.text, t, limits.max_text_bytes);
}

}  // namespace

Message parse_message(std::string_view raw, const Limits& limits) {
  init_once();
  Message m;
  m.raw_bytes = raw.size();
  // An mbox "From " envelope line (no colon after "From") is not part of the message.
  if (raw.substr(0, 5) == "From ") {
    const std::size_t nl = raw.find('\n');
    raw = nl == std::string_view::npos ? std::string_view() : raw.substr(nl + 1);
  }
  m.head.assign(raw.substr(0, limits.head_bytes));
  // 8-bit bytes in the header block (before the first empty line).
  std::size_t hdr_end = raw.find("\n\n");
  const std::size_t crlf_end = raw.find("\r\n\r\n");
  if (crlf_end != std::string_view::npos &&
      (hdr_end == std::string_view::npos || crlf_end < hdr_end)) {
    hdr_end = crlf_end;
  }
  const std::string_view hdr = raw.substr(0, hdr_end);
  for (unsigned char c : hdr) {
    if (c >= 0x80) {
      m.header_8bit = true;
      break;
    }
  }
  if (hdr.find('\0') != std::string_view::npos) {
    add_defect(m, "nul-in-header");
  }

  GPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(raw.data(), raw.size()));
  GPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  g_mime_parser_set_format(parser.get(), GMIME_FORMAT_MESSAGE);
  std::unique_ptr<GMimeParserOptions, OptionsFree> opts(g_mime_parser_options_new());
  static const char* kFallback[] = {"UTF-8", "windows-1252", nullptr};
  g_mime_parser_options_set_fallback_charsets(opts.get(), kFallback);
  g_mime_parser_options_set_warning_callback(opts.get(), on_warning, &m);
  GPtr<GMimeMessage> msg(g_mime_parser_construct_message(parser.get(), opts.get()));
  if (!msg) {
    add_defect(m, "unparsable");
    fallback_text(m, raw, limits);
    return m;
  }
  read_headers(m, msg.get(), limits);
  Walker w{m, limits, {}};
  for (const std::string& u : m.uris) {
    w.seen_uris.insert(u);
  }
  GMimeObject* root = g_mime_message_get_mime_part(msg.get());
  if (root == nullptr) {
    add_defect(m, "no-body");
  } else {
    w.walk(root, 0);
  }
  return m;
}

}  // namespace gf::mime
