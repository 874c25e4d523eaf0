#include "core/akismet/keys.hpp"

#include <fmt/format.h>

#include <charconv>

#include "core/akismet/records.hpp"

namespace gf::akismet::key {
namespace {

std::string join(std::string_view prefix, std::string_view rest) {
  std::string k;
  k.reserve(prefix.size() + rest.size());
  k += prefix;
  k += rest;
  return k;
}

}  // namespace

std::string api_key(std::string_view key) { return join(kApiKeyPrefix, key); }
std::string ip(std::string_view user_ip) { return join("r:i:", user_ip); }
std::string email(std::string_view address) { return join("r:e:", address); }
std::string url_host(std::string_view host) { return join("r:u:", host); }
std::string text(std::uint64_t text_hash) { return fmt::format("r:t:{:016x}", text_hash); }
std::string check(std::string_view guid) { return join(kCheckPrefix, guid); }
std::string training(std::uint64_t seq) { return join(kTrainingPrefix, seq_key(seq)); }
std::string site_model(std::string_view site) { return join(kSiteModelPrefix, site); }

std::optional<std::uint64_t> parse_training_seq(std::string_view store_key) {
  if (!store_key.starts_with(kTrainingPrefix)) {
    return std::nullopt;
  }
  const std::string_view hex = store_key.substr(kTrainingPrefix.size());
  std::uint64_t seq = 0;
  const auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), seq, 16);
  if (ec != std::errc() || end != hex.data() + hex.size() || hex.empty()) {
    return std::nullopt;
  }
  return seq;
}

std::string usage_prefix(std::string_view api_key, std::string_view month) {
  std::string k = "u:";
  k += api_key;
  k += kUsageSeparator;
  k += month;
  k += kUsageSeparator;
  return k;
}

std::string usage_key_prefix(std::string_view api_key) {
  std::string k = "u:";
  k += api_key;
  k += kUsageSeparator;
  return k;
}

std::string usage(std::string_view api_key, std::string_view month, std::string_view site) {
  std::string k = usage_prefix(api_key, month);
  k += site;
  return k;
}

}  // namespace gf::akismet::key
