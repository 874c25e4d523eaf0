// Fuzzes the admin API gate's parsers on untrusted header bytes: the Cookie header
// (find_cookie), the Authorization header (bearer_token), the peer address, and a stored token
// record (decode_token_record). Invariants: an answer is a view into the input, a found cookie
// or bearer token holds no ';' (cookie) or surrounding blanks, and a decoded record re-encodes
// to the same bytes.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/admin/auth.hpp"
#include "core/admin/tokens.hpp"

namespace {

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace gf::admin;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  if (const auto c = find_cookie(in, kSessionCookie)) {
    if (!inside(*c, in) || c->find(';') != std::string_view::npos) {
      std::abort();
    }
  }
  if (const auto t = bearer_token(in)) {
    if (!inside(*t, in) || t->empty() || t->front() == ' ' || t->back() == ' ') {
      std::abort();
    }
  }
  if (!inside(peer_address(in), in)) {
    std::abort();
  }
  // A record: the first 64 bytes stand for the key's hash, the rest for the value.
  const std::string_view hash = in.substr(0, 64);
  const std::string_view value = in.size() > 64 ? in.substr(64) : std::string_view();
  if (const auto r = decode_token_record(hash, value)) {
    if (encode_token_record(*r) != value || r->hash != hash || !r->hash.starts_with(r->id)) {
      std::abort();
    }
  }
  return 0;
}
