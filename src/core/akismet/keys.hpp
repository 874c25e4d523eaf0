#pragma once
// The comment API's store layout: every key of the KvStore it uses is built here and nowhere
// else (docs/architecture.md, "Akismet store keys"). One-letter prefixes keep the kinds apart
// and let scan() walk one kind:
//   k:<api key>                         KeyRecord
//   r:i:<ip> r:e:<email> r:u:<host>     ReputationRecord of an IP, e-mail, URL host
//   r:t:<16 hex digits of the hash>     ReputationRecord of an exact (normalised) text
//   u:<api key>\x1f<YYYY-MM>\x1f<site>  SiteUsage of a key, month and site
//   c:<guid>                            CheckRecord of a comment-check (guids sort by time)
//   t:<16 hex digits of the sequence>   CheckRecord of a submit (the training log, in order)
//   m:model, m:s:<site>                 model snapshots (deployment, per site)
//   a:t:<64 hex digits>                 an admin API token's SHA-256 (core/admin/tokens.hpp)
//
// Threading: pure functions. Errors: none; parse_training_seq() answers nullopt.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gf::akismet::key {

inline constexpr std::string_view kApiKeyPrefix = "k:";
inline constexpr std::string_view kCheckPrefix = "c:";
inline constexpr std::string_view kTrainingPrefix = "t:";
inline constexpr std::string_view kModel = "m:model";
// Shared store: the last training-log sequence number given out (decimal; core/common/shared_log).
inline constexpr std::string_view kTrainingCounter = "m:next";
inline constexpr std::string_view kSiteModelPrefix = "m:s:";
// The decision history's rows (app/history_service.cpp) share this store.
inline constexpr std::string_view kHistoryPrefix = "h:";
inline constexpr char kUsageSeparator = '\x1f';

[[nodiscard]] std::string api_key(std::string_view key);
[[nodiscard]] std::string ip(std::string_view user_ip);
[[nodiscard]] std::string email(std::string_view address);
[[nodiscard]] std::string url_host(std::string_view host);
[[nodiscard]] std::string text(std::uint64_t text_hash);
[[nodiscard]] std::string check(std::string_view guid);
[[nodiscard]] std::string training(std::uint64_t seq);
// The sequence number of a training-log key ("t:000000000000002a" -> 42).
[[nodiscard]] std::optional<std::uint64_t> parse_training_seq(std::string_view store_key);
[[nodiscard]] std::string site_model(std::string_view site);
// The usage record of (key, month, site); usage_prefix() is every site's of (key, month).
[[nodiscard]] std::string usage(std::string_view api_key, std::string_view month,
                                std::string_view site);
[[nodiscard]] std::string usage_prefix(std::string_view api_key, std::string_view month);
// Every usage record of a key, all months and sites.
[[nodiscard]] std::string usage_key_prefix(std::string_view api_key);

}  // namespace gf::akismet::key
