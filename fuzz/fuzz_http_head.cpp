// Fuzzes the HTTP request-head framing check (network bytes). Asserted: it terminates without
// throwing; the verdict is the same whether the bytes come in one call or split at a point the
// input chooses; a Complete head ends with its CRLF CRLF and holds no bare LF; every refusal says
// why.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/common/http_head.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::size_t cut = data[0] % size;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  gf::http::RequestHeadScanner whole;
  const auto verdict = whole.scan(bytes);
  gf::http::RequestHeadScanner split;
  auto split_verdict = split.scan(bytes.substr(0, cut < bytes.size() ? cut : bytes.size()));
  if (split_verdict == gf::http::HeadStatus::NeedMore) {
    split_verdict = split.scan(bytes);
  }
  if (split_verdict != verdict || split.length() != whole.length()) {
    std::abort();
  }
  if (verdict == gf::http::HeadStatus::Error && whole.error().empty()) {
    std::abort();
  }
  if (verdict == gf::http::HeadStatus::Complete) {
    const std::string_view head = bytes.substr(0, whole.length());
    if (head.size() < 4 || !head.ends_with("\r\n\r\n")) {
      std::abort();
    }
    for (std::size_t i = 0; i < head.size(); ++i) {
      if (head[i] == '\n' && (i == 0 || head[i - 1] != '\r')) {
        std::abort();
      }
    }
  }
  return 0;
}
