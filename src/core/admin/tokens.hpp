#pragma once
// Admin tokens: the credential of the admin REST API (/api/v1) and of the dashboard's login.
//
// A token is "gfa_" followed by 43 base64url characters: 256 bits from the injected
// RandomSource (io::SecureRandom in production). `greyflux admin-token create` prints it once;
// the store keeps only its SHA-256, under the key "a:t:<64 hex digits>" of the comment API's
// KvStore (LMDB or Redis), with its name and creation time. A token is checked by hashing what
// the client sent and reading that one key, so no stored secret is ever compared and the hash
// lookup leaks nothing useful through timing. A plain (unkeyed, unsalted) SHA-256 is enough:
// a 256-bit random token cannot be guessed or brute-forced from its hash, so the salt and slow
// KDF that passwords need buy nothing, and a server-side key would live in the same store.
// A token's id is the first 12 hex digits of its hash: shown by `list`, accepted by `revoke`,
// safe to log (the token itself never is).
//
// Threading: the TokenStore is as thread-safe as its KvStore (every one is). Errors: store
// failures come back as Results; a stored record that does not decode is skipped by list() and
// is not a valid token for verify().
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/kv_store.hpp"
#include "core/common/random.hpp"
#include "core/common/result.hpp"

namespace gf::admin {

inline constexpr std::string_view kTokenPrefix = "gfa_";
inline constexpr std::string_view kTokenKeyPrefix = "a:t:";
inline constexpr std::size_t kTokenIdChars = 12;
inline constexpr std::size_t kMaxTokenNameBytes = 64;

// Lower-case hex SHA-256 of `data` (OpenSSL's implementation).
[[nodiscard]] std::string sha256_hex(std::string_view data);
// Equal contents, in time that depends only on the lengths (OpenSSL's CRYPTO_memcmp).
[[nodiscard]] bool constant_time_equal(std::string_view a, std::string_view b);
// `prefix` + 43 base64url characters carrying 256 bits of `rng` (tokens, session ids, CSRF).
[[nodiscard]] std::string random_secret(RandomSource& rng, std::string_view prefix);

struct TokenInfo {
  std::string hash;  // 64 hex digits: the SHA-256 of the token (the store key's tail)
  std::string id;    // its first kTokenIdChars digits
  std::string name;  // may be empty
  std::int64_t created_s = 0;

  bool operator==(const TokenInfo&) const = default;
};

struct NewToken {
  std::string token;  // shown once, never stored
  TokenInfo info;
};

// The stored value: "1\t<created_s>\t<name>".
[[nodiscard]] std::string encode_token_record(const TokenInfo& info);
// Decodes a stored value; `hash_hex` (the key's tail) gives the id.
[[nodiscard]] Result<TokenInfo> decode_token_record(std::string_view hash_hex,
                                                    std::string_view value);
// A name is at most kMaxTokenNameBytes of letters, digits and "-_.@:".
[[nodiscard]] Result<void> check_token_name(std::string_view name);

class TokenStore {
 public:
  explicit TokenStore(KvStore& kv) : kv_(kv) {}

  [[nodiscard]] Result<NewToken> create(RandomSource& rng, std::string_view name,
                                        std::int64_t now_s);
  // Every token, oldest first.
  [[nodiscard]] Result<std::vector<TokenInfo>> list();
  // Revokes the token whose id or name is `which`; NotFound when none is, InvalidInput when
  // a name is shared by several (revoke those by id). Answers the revoked token.
  [[nodiscard]] Result<TokenInfo> revoke(std::string_view which);
  // The token's record, nullopt for an unknown (or malformed) token.
  [[nodiscard]] Result<std::optional<TokenInfo>> verify(std::string_view token);
  // Whether the token with this hash still exists (a session checks it on every request, so a
  // revoked token's sessions end at once): one get().
  [[nodiscard]] Result<bool> exists(std::string_view hash_hex);

 private:
  KvStore& kv_;
};

}  // namespace gf::admin
