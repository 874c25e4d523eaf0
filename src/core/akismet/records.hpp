#pragma once
// Stored records of the comment API (keys, usage, reputation, checks, training log) and their
// byte encodings. The io layer keeps them in LMDB under one-letter key prefixes
// (docs/architecture.md, "Akismet store keys"); this module only encodes and validates.
//
// Every decode_* treats its input as untrusted: a short, long or otherwise malformed record is
// an Error, never a crash. Each encoding starts with a version byte.
//
// Threading: pure functions and values. Errors: Result from every decoder.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/akismet/decision.hpp"
#include "core/akismet/protocol.hpp"
#include "core/common/result.hpp"

namespace gf::akismet {

struct KeyRecord {
  std::string blog;  // the URL it was issued for
  std::int64_t created_s = 0;
  bool revoked = false;
};
[[nodiscard]] std::string encode_key(const KeyRecord& k);
[[nodiscard]] Result<KeyRecord> decode_key(std::string_view bytes);

struct ReputationRecord {
  std::uint32_t spam = 0;
  std::uint32_t ham = 0;
  std::int64_t last_s = 0;
};
[[nodiscard]] std::string encode_reputation(const ReputationRecord& r);
[[nodiscard]] Result<ReputationRecord> decode_reputation(std::string_view bytes);

// Counters of one (key, month, site); the site name is part of the store key.
[[nodiscard]] std::string encode_usage(const SiteUsage& u);
[[nodiscard]] Result<SiteUsage> decode_usage(std::string_view bytes);

// One comment-check (or a submit-spam/submit-ham, kind 's'/'h'), kept for review, recheck and
// training.
struct CheckRecord {
  char kind = 'c';  // 'c' check, 's' submit-spam, 'h' submit-ham
  std::int64_t time_s = 0;
  bool spam = false;
  bool discard = false;
  bool is_test = false;
  double score = 0.0;
  std::string key;
  std::string reasons;                                      // format_symbols()
  std::vector<std::pair<std::string, std::string>> fields;  // the form as received
};
[[nodiscard]] std::string encode_check(const CheckRecord& c);
[[nodiscard]] Result<CheckRecord> decode_check(std::string_view bytes);
// One JSON object for `greyflux akismet show`.
[[nodiscard]] std::string check_to_json(std::string_view guid, const CheckRecord& c);

// Big-endian fixed-width hex of a sequence number, so store keys sort numerically.
[[nodiscard]] std::string seq_key(std::uint64_t seq);

}  // namespace gf::akismet
