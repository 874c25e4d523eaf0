#pragma once
// What the decision history keeps of a scanned message so that it can be relearned later
// (POST /api/v1/history/learn): the Scanner::Prepared that TELL would compute from the message,
// that is its fingerprint (the learned-message record's key), its hashed features with their
// counts, and the registrable domains of its URIs. Never the body, the headers or any readable
// token: the features are 64-bit hashes (classify::hash_feature).
//
// Format (little-endian): u8 version | u64 fingerprint | u32 n | n x (u64 id, f32 value, u8
// group) | u16 m | m x (u16 length, bytes) domain. decode_learn_record() takes untrusted bytes
// (a stored history row): it never throws and rejects anything malformed, oversized or with
// trailing bytes.
//
// Threading: pure functions.
#include <string>
#include <string_view>

#include "core/common/result.hpp"
#include "core/spamd/scanner.hpp"

namespace gf::spamd {

inline constexpr std::size_t kMaxLearnFeatures = 1u << 20;
inline constexpr std::size_t kMaxLearnDomains = 4096;

[[nodiscard]] std::string encode_learn_record(const Scanner::Prepared& p);
[[nodiscard]] Result<Scanner::Prepared> decode_learn_record(std::string_view bytes);

// A TELL in the shared mail training log ([store] backend = "redis", core/common/shared_log):
// u8 class ('s' spam, 'h' ham) | encode_learn_record(p). Untrusted (read back from Redis).
struct SharedLearn {
  Scanner::Prepared prepared;
  bool spam = false;
};
[[nodiscard]] std::string encode_shared_learn(const Scanner::Prepared& p, bool spam);
[[nodiscard]] Result<SharedLearn> decode_shared_learn(std::string_view bytes);
// The shared mail log's keys (in the comment API's store): "ml:<16 hex digits>", counter
// "ml:next".
inline constexpr std::string_view kSharedLearnCounter = "ml:next";
[[nodiscard]] std::string shared_learn_key(std::uint64_t seq);

}  // namespace gf::spamd
