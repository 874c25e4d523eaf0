// Fuzzes the decision history's stored-row decoder and the mail learn record inside it, the
// shared mail training log's record around one, and the TELL journal's entry and base records
// (core/spamd/tell_journal.hpp), which wrap the same learn record: stored records are untrusted
// input.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/history/row.hpp"
#include "core/spamd/learn_record.hpp"
#include "core/spamd/tell_journal.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto r = gf::history::decode_row(in)) {
    auto again = gf::history::decode_row(gf::history::encode_row(*r));
    if (!again || gf::history::encode_row(*again) != gf::history::encode_row(*r)) {
      std::abort();  // a decoded row must encode to bytes that decode to the same row
    }
    (void)gf::history::row_to_json(*r);
  }
  if (auto p = gf::spamd::decode_learn_record(in)) {
    if (gf::spamd::encode_learn_record(*p) != in) {
      std::abort();  // decode then encode gives the same bytes back
    }
  }
  if (auto s = gf::spamd::decode_shared_learn(in)) {
    if (gf::spamd::encode_shared_learn(s->prepared, s->spam) != in) {
      std::abort();
    }
  }
  if (auto e = gf::spamd::decode_tell(in)) {
    if (gf::spamd::encode_tell(*e) != in) {
      std::abort();
    }
  }
  if (auto b = gf::spamd::decode_base(in)) {
    if (gf::spamd::encode_base(*b) != in) {
      std::abort();
    }
  }
  return 0;
}
