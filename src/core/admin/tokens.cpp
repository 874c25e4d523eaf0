#include "core/admin/tokens.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <charconv>

namespace gf::admin {
namespace {

constexpr std::string_view kBase64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::size_t kHashHexChars = 64;

std::string store_key(std::string_view hash_hex) {
  return std::string(kTokenKeyPrefix) + std::string(hash_hex);
}

bool is_hex_lower(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("-_.@:").find(c) != std::string_view::npos;
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data());
  std::string out;
  out.reserve(2 * digest.size());
  for (unsigned char b : digest) {
    out += fmt::format("{:02x}", b);
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string random_secret(RandomSource& rng, std::string_view prefix) {
  // 4 x 64 bits = 256 bits, as 43 base64url characters (6 bits each; the last carries 4).
  std::array<std::uint64_t, 4> words{};
  for (auto& w : words) {
    w = rng.next_u64();
  }
  std::string out(prefix);
  for (std::size_t bit = 0; bit < 256; bit += 6) {
    unsigned v = 0;
    for (std::size_t i = 0; i < 6; ++i) {
      const std::size_t at = bit + i;
      v <<= 1;
      if (at < 256) {
        v |= static_cast<unsigned>((words[at / 64] >> (63 - at % 64)) & 1U);
      }
    }
    out += kBase64Url[v];
  }
  return out;
}

std::string encode_token_record(const TokenInfo& info) {
  return fmt::format("1\t{}\t{}", info.created_s, info.name);
}

Result<TokenInfo> decode_token_record(std::string_view hash_hex, std::string_view value) {
  if (hash_hex.size() != kHashHexChars || !is_hex_lower(hash_hex)) {
    return fail(Errc::InvalidInput, "admin token key is not a SHA-256 in hex");
  }
  if (!value.starts_with("1\t")) {
    return fail(Errc::InvalidInput, "admin token record has an unknown version");
  }
  value.remove_prefix(2);
  const std::size_t tab = value.find('\t');
  if (tab == std::string_view::npos) {
    return fail(Errc::InvalidInput, "admin token record has no name field");
  }
  TokenInfo info;
  const std::string_view created = value.substr(0, tab);
  const auto [end, ec] =
      std::from_chars(created.data(), created.data() + created.size(), info.created_s);
  if (ec != std::errc() || end != created.data() + created.size() ||
      fmt::format("{}", info.created_s) != created) {  // canonical: no "007", no "-0"
    return fail(Errc::InvalidInput, "admin token record has a bad creation time");
  }
  const std::string_view name = value.substr(tab + 1);
  if (!check_token_name(name)) {
    return fail(Errc::InvalidInput, "admin token record has a bad name");
  }
  info.name = std::string(name);
  info.hash = std::string(hash_hex);
  info.id = info.hash.substr(0, kTokenIdChars);
  return info;
}

Result<void> check_token_name(std::string_view name) {
  if (name.size() > kMaxTokenNameBytes) {
    return fail(Errc::InvalidInput,
                fmt::format("token name longer than {} characters", kMaxTokenNameBytes));
  }
  if (!std::all_of(name.begin(), name.end(), name_char)) {
    return fail(Errc::InvalidInput, "token name may hold only letters, digits and -_.@:");
  }
  return {};
}

Result<NewToken> TokenStore::create(RandomSource& rng, std::string_view name, std::int64_t now_s) {
  if (auto ok = check_token_name(name); !ok) {
    return tl::unexpected(ok.error());
  }
  NewToken t;
  t.token = random_secret(rng, kTokenPrefix);
  t.info.hash = sha256_hex(t.token);
  t.info.id = t.info.hash.substr(0, kTokenIdChars);
  t.info.name = std::string(name);
  t.info.created_s = now_s;
  if (auto ok = kv_.put(store_key(t.info.hash), encode_token_record(t.info)); !ok) {
    return tl::unexpected(ok.error());
  }
  if (auto ok = kv_.flush(); !ok) {
    return tl::unexpected(ok.error());
  }
  return t;
}

Result<std::vector<TokenInfo>> TokenStore::list() {
  std::vector<TokenInfo> out;
  auto ok = kv_.scan(kTokenKeyPrefix, [&](std::string_view key, std::string_view value) {
    if (auto info = decode_token_record(key.substr(kTokenKeyPrefix.size()), value)) {
      out.push_back(std::move(*info));
    }
    return true;
  });
  if (!ok) {
    return tl::unexpected(ok.error());
  }
  std::stable_sort(out.begin(), out.end(), [](const TokenInfo& a, const TokenInfo& b) {
    return a.created_s < b.created_s;
  });
  return out;
}

Result<TokenInfo> TokenStore::revoke(std::string_view which) {
  auto all = list();
  if (!all) {
    return tl::unexpected(all.error());
  }
  std::vector<const TokenInfo*> hits;
  for (const TokenInfo& t : *all) {
    if (t.id == which) {
      hits = {&t};
      break;
    }
    if (!which.empty() && t.name == which) {
      hits.push_back(&t);
    }
  }
  if (hits.empty()) {
    return fail(Errc::NotFound, "no admin token has that id or name");
  }
  if (hits.size() > 1) {
    return fail(Errc::InvalidInput,
                fmt::format("{} tokens are named so; revoke one by its id", hits.size()));
  }
  if (auto ok = kv_.erase(store_key(hits[0]->hash)); !ok) {
    return tl::unexpected(ok.error());
  }
  if (auto ok = kv_.flush(); !ok) {
    return tl::unexpected(ok.error());
  }
  return *hits[0];
}

Result<std::optional<TokenInfo>> TokenStore::verify(std::string_view token) {
  // Only the shape is checked before hashing; the hash lookup decides.
  if (!token.starts_with(kTokenPrefix) || token.size() > 256) {
    return std::optional<TokenInfo>();
  }
  const std::string hash = sha256_hex(token);
  auto value = kv_.get(store_key(hash));
  if (!value) {
    return tl::unexpected(value.error());
  }
  if (!value->has_value()) {
    return std::optional<TokenInfo>();
  }
  auto info = decode_token_record(hash, **value);
  if (!info) {
    return std::optional<TokenInfo>();
  }
  return std::optional<TokenInfo>(std::move(*info));
}

Result<bool> TokenStore::exists(std::string_view hash_hex) {
  auto value = kv_.get(store_key(hash_hex));
  if (!value) {
    return tl::unexpected(value.error());
  }
  return value->has_value();
}

}  // namespace gf::admin
