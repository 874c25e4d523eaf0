// Fuzzes the Akismet form decoder and everything a decoded form flows into before the model:
// the request model, evidence analysis and the decision. Invariants: decoding never throws or
// crashes; every decoded name and value is valid UTF-8 (repair or Latin-1); a successful decode
// re-encodes and decodes to the same fields; the decision's score is finite.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/akismet/decision.hpp"
#include "core/akismet/evidence.hpp"
#include "core/akismet/form.hpp"
#include "core/akismet/protocol.hpp"
#include "core/akismet/request.hpp"

namespace ak = gf::akismet;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  for (const bool latin1 : {false, true}) {
    auto form = ak::decode_form(body, {}, latin1);
    if (!form) {
      continue;
    }
    std::string again;
    for (const auto& [k, v] : form->fields) {
      if (!ak::valid_utf8(k) || !ak::valid_utf8(v)) {
        std::abort();
      }
      if (!again.empty()) {
        again.push_back('&');
      }
      again.append(ak::form_encode(k));
      again.push_back('=');
      again.append(ak::form_encode(v));
    }
    auto round = ak::decode_form(again, {}, latin1);
    if (!round || round->fields != form->fields) {
      std::abort();
    }
    const ak::CommentRequest r = ak::comment_from_form(*form);
    const ak::Analysis a = ak::analyze(r);
    ak::Signals s;
    s.now_s = 1795600000;
    s.text_probability = 0.5;
    const ak::Decision d = ak::decide(r, a, s);
    if (!std::isfinite(d.score)) {
      std::abort();
    }
    (void)ak::missing_required(ak::Endpoint::CommentCheck, r);
    (void)ak::key_sites_query(*form, "2026-11");
    (void)ak::key_from_host(body.substr(0, 300));
  }
  return 0;
}
