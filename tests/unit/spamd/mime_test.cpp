#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/mime/message.hpp"
#include "core/mime/uri.hpp"

namespace gf::mime {
namespace {

bool has(const std::vector<std::string>& v, std::string_view x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

TEST(Mime, PlainMessageHeaders) {
  const std::string raw =
      "Received: from mx.example.org (mx.example.org [192.0.2.1])\r\n"
      "\tby mail.example.com with ESMTP id 123; Tue, 1 Jan 2024 00:00:00 +0000\r\n"
      "From: \"Alice\" <alice@Mail.Example.ORG>\r\n"
      "Reply-To: bob@other.example.net\r\n"
      "Subject: =?UTF-8?B?SGVsbG8gd8O2cmxk?=\r\n"
      "Message-ID: <1234.abc@mail.example.org>\r\n"
      "X-Mailer: Mutt 2.2\r\n"
      "\r\n"
      "Hi, see https://www.example.com/page?x=1.\r\n";
  Message m = parse_message(raw);
  EXPECT_EQ(m.subject, "Hello w\xC3\xB6rld");
  ASSERT_EQ(m.from.size(), 1U);
  EXPECT_EQ(m.from[0].name, "Alice");
  EXPECT_EQ(m.from[0].domain, "mail.example.org");
  ASSERT_EQ(m.reply_to.size(), 1U);
  EXPECT_EQ(m.reply_to[0].domain, "other.example.net");
  EXPECT_EQ(m.message_id, "1234.abc@mail.example.org");
  EXPECT_EQ(m.mailer, "Mutt 2.2");
  ASSERT_EQ(m.received.size(), 1U);
  EXPECT_NE(m.received[0].find("mx.example.org"), std::string::npos);
  EXPECT_TRUE(m.has_text_plain);
  EXPECT_FALSE(m.has_text_html);
  EXPECT_EQ(m.uris, std::vector<std::string>{"https://www.example.com/page?x=1"});
  EXPECT_TRUE(m.defects.empty());
}

TEST(Mime, NestedMultipartBase64QuotedPrintableAndAttachment) {
  const std::string raw =
      "From: a@example.com\n"
      "Subject: nested\n"
      "MIME-Version: 1.0\n"
      "Content-Type: multipart/mixed; boundary=\"outer\"\n"
      "\n"
      "--outer\n"
      "Content-Type: multipart/alternative; boundary=\"inner\"\n"
      "\n"
      "--inner\n"
      "Content-Type: text/plain; charset=iso-8859-1\n"
      "Content-Transfer-Encoding: quoted-printable\n"
      "\n"
      "Gr=FC=DFe aus M=FCnchen\n"
      "--inner\n"
      "Content-Type: text/html; charset=utf-8\n"
      "Content-Transfer-Encoding: base64\n"
      "\n"
      "PHA+Q2xpY2sgPGEgaHJlZj0iaHR0cDovL3NwYW0uZXhhbXBsZS5uZXQveCI+aGVyZTwvYT48L3A+\n"
      "--inner--\n"
      "--outer\n"
      "Content-Type: application/octet-stream; name=\"invoice.exe\"\n"
      "Content-Disposition: attachment; filename=\"invoice.exe\"\n"
      "Content-Transfer-Encoding: base64\n"
      "\n"
      "TVqQAAMAAAAEAAAA\n"
      "--outer--\n";
  Message m = parse_message(raw);
  EXPECT_NE(m.text.find("Gr\xC3\xBC\xC3\x9F"
                        "e aus M\xC3\xBCnchen"),
            std::string::npos)
      << m.text;
  EXPECT_NE(m.text.find("Click here"), std::string::npos) << m.text;
  EXPECT_TRUE(m.has_text_plain);
  EXPECT_TRUE(m.has_text_html);
  EXPECT_TRUE(has(m.uris, "http://spam.example.net/x"));
  ASSERT_EQ(m.attachments.size(), 1U);
  EXPECT_EQ(m.attachments[0].content_type, "application/octet-stream");
  EXPECT_EQ(m.attachments[0].filename, "invoice.exe");
  EXPECT_EQ(m.max_depth, 2U);
  EXPECT_TRUE(has(m.charsets, "iso-8859-1"));
}

TEST(Mime, MissingBoundaryIsADefectNotACrash) {
  const std::string raw =
      "From: a@example.com\nContent-Type: multipart/mixed\n\n--x\nContent-Type: text/plain\n\n"
      "hello there\n--x--\n";
  Message m = parse_message(raw);
  EXPECT_FALSE(m.defects.empty());
  EXPECT_TRUE(has(m.defects, "multipart-without-boundary")) << m.defects.size();
}

TEST(Mime, UnterminatedMultipart) {
  const std::string raw =
      "From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
      "Content-Type: text/plain\n\nstill readable text\n";
  Message m = parse_message(raw);
  EXPECT_NE(m.text.find("still readable text"), std::string::npos);
}

TEST(Mime, WrongAndUnknownCharsets) {
  // Declared UTF-8, actually Latin-1: the text is repaired and the mismatch recorded.
  Message m = parse_message("Content-Type: text/plain; charset=utf-8\n\ncaf\xE9 au lait\n");
  EXPECT_NE(m.text.find("caf\xC3\xA9"), std::string::npos) << m.text;
  EXPECT_TRUE(has(m.defects, "wrong-charset"));
  m = parse_message("Content-Type: text/plain; charset=x-no-such-charset\n\nplain words\n");
  EXPECT_NE(m.text.find("plain words"), std::string::npos);
  EXPECT_TRUE(has(m.defects, "unknown-charset"));
  // KOI8-R is converted.
  m = parse_message("Content-Type: text/plain; charset=koi8-r\n\n\xF0\xD2\xC9\xD7\xC5\xD4\n");
  EXPECT_NE(m.text.find("\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82"), std::string::npos)
      << m.text;
}

TEST(Mime, CachedConvertersStartInTheirInitialState) {
  // Converters are kept open between messages (per thread). ISO-2022-JP is stateful: a
  // part that ends shifted into JIS X 0208 must not leave the next message's ASCII read as JIS.
  const std::string ascii = "Content-Type: text/plain; charset=iso-2022-jp\n\nhello there\n";
  const Message first = parse_message(ascii);
  ASSERT_NE(first.text.find("hello there"), std::string::npos) << first.text;
  for (int i = 0; i < 3; ++i) {
    const Message shifted =
        parse_message("Content-Type: text/plain; charset=iso-2022-jp\n\n\x1b$B$3$s");
    EXPECT_FALSE(has(shifted.defects, "unknown-charset"));
    EXPECT_EQ(parse_message(ascii).text, first.text);
  }
  // The same holds for the windows-1252 reading of undeclared 8-bit text, run many times.
  for (int i = 0; i < 50; ++i) {
    const Message m = parse_message("Content-Type: text/plain\n\ncaf\xE9\n");
    ASSERT_NE(m.text.find("caf\xC3\xA9"), std::string::npos) << m.text;
  }
}

TEST(Mime, MoreCharsetsThanKeptConvertersStillConvert) {
  // More charsets than converters kept open (8), unknown ones among them, twice round: each part
  // is read with its own charset whatever was evicted or remembered as unknown before. In every
  // known one here 0xE9 is U+00E9; an unknown one falls back to the windows-1252 reading.
  const std::vector<std::string> charsets = {
      "iso-8859-1",   "iso-8859-15", "windows-1252", "iso-8859-2",   "x-unknown-1", "iso-8859-9",
      "windows-1250", "x-unknown-2", "iso-8859-3",   "windows-1257", "iso-8859-4",  "x-unknown-3"};
  for (int round = 0; round < 2; ++round) {
    for (const std::string& charset : charsets) {
      const Message m =
          parse_message("Content-Type: text/plain; charset=" + charset + "\n\ncaf\xE9\n");
      EXPECT_EQ(has(m.defects, "unknown-charset"), charset.starts_with("x-unknown")) << charset;
      EXPECT_NE(m.text.find("caf\xC3\xA9"), std::string::npos) << charset << ": " << m.text;
    }
  }
  // KOI8-R after the others were cycled through: still its own converter.
  const Message m =
      parse_message("Content-Type: text/plain; charset=koi8-r\n\n\xF0\xD2\xC9\xD7\xC5\xD4\n");
  EXPECT_NE(m.text.find("\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82"), std::string::npos)
      << m.text;
}

TEST(Mime, EightBitHeaders) {
  Message m = parse_message(
      "Subject: Gr\xFC\xDF"
      "e\nFrom: J\xF6rg <j@example.de>\n\nbody\n");
  EXPECT_TRUE(m.header_8bit);
  EXPECT_FALSE(m.subject.empty());
  EXPECT_TRUE(m.subject.find("Gr") == 0) << m.subject;
}

TEST(Mime, HugeHeaderIsBounded) {
  std::string raw = "Subject: " + std::string(1 << 20, 'a') + "\n";
  for (int i = 0; i < 5000; ++i) {
    raw += "Received: from h" + std::to_string(i) + ".example.com by x\n";
  }
  raw += "\nbody\n";
  Message m = parse_message(raw);
  EXPECT_LE(m.subject.size(), 2048U);
  EXPECT_LE(m.received.size(), 20U);
  EXPECT_LE(m.header_names.size(), 200U);
}

TEST(Mime, NestedBombIsBounded) {
  // 10,000 nested multiparts: GMime's own nesting guard and the walker's depth bound.
  std::string raw = "From: bomb@example.com\nContent-Type: multipart/mixed; boundary=b0\n\n";
  const int depth = 10000;
  for (int i = 1; i <= depth; ++i) {
    raw += "--b" + std::to_string(i - 1) + "\nContent-Type: multipart/mixed; boundary=b" +
           std::to_string(i) + "\n\n";
  }
  raw += "--b10000\nContent-Type: text/plain\n\nbottom\n";
  Message m = parse_message(raw);
  EXPECT_LE(m.max_depth, Limits{}.max_depth);
  EXPECT_FALSE(m.defects.empty());
}

TEST(Mime, ManyPartsAreBounded) {
  std::string raw = "Content-Type: multipart/mixed; boundary=b\n\n";
  for (int i = 0; i < 10000; ++i) {
    raw += "--b\nContent-Type: text/plain\n\npart " + std::to_string(i) + "\n";
  }
  raw += "--b--\n";
  Message m = parse_message(raw);
  EXPECT_TRUE(has(m.defects, "too-many-parts"));
  EXPECT_LE(m.parts, Limits{}.max_parts + 1);
}

TEST(Mime, GarbageAndNul) {
  std::string raw("\0\0\xff\xfe garbage \x01\x02\n\n\0body", 22);
  Message m = parse_message(raw);
  (void)m;
  Message e = parse_message("");
  EXPECT_TRUE(e.text.empty());
}

TEST(Uri, ExtractsSchemesAndWww) {
  auto u = extract_uris(
      "Go to HTTP://Example.com/a, or www.spam.example.net. Mail mailto:x@y.example.org! "
      "(see https://a.b.example/c?d=e) not: notwww.x.com foo.bar http://localhost/");
  EXPECT_EQ(u, (std::vector<std::string>{"HTTP://Example.com/a", "http://www.spam.example.net",
                                         "mailto:x@y.example.org", "https://a.b.example/c?d=e"}));
}

TEST(Uri, HostAndHref) {
  EXPECT_EQ(uri_host("https://user:pw@WWW.Example.COM:8080/x"), "www.example.com");
  EXPECT_EQ(uri_host("http://[2001:db8::1]/x"), "2001:db8::1");
  EXPECT_EQ(uri_host("mailto:a@b.example.org?subject=x"), "b.example.org");
  EXPECT_EQ(uri_host("http://bad host/"), "");
  EXPECT_EQ(uri_host("http://.b/"), "");
  EXPECT_EQ(uri_host("http://a..b/"), "");
  // Found by fuzz_uri: the host must be the one of the reported (scheme-prefixed) URI.
  for (const auto& u : extract_uris(std::string("htt. ai??ht??\0\0\0\0/www.h;://.b/", 31))) {
    EXPECT_FALSE(uri_host(u).empty()) << u;
  }
  EXPECT_EQ(normalize_href(" \"//cdn.example.net/x\" "), "http://cdn.example.net/x");
  EXPECT_EQ(normalize_href("javascript:alert(1)"), "");
  EXPECT_EQ(normalize_href("/relative/path"), "");
}

}  // namespace
}  // namespace gf::mime
