#pragma once
// The greylist store as the admin API shows it: each stored record (a triplet, an
// auto-whitelisted client network or sender domain, a sender seen, a pooled-sender triplet)
// described by its kind and fields, and a search by client, sender and recipient that the
// REST route GET /api/v1/greylist and the admin socket's text listing share.
//
// Filters (all given ones must match; an entry without the field a filter names does not):
// `client` is an IP address (matches the entries whose client network contains it) or else a
// case-insensitive substring of the network; `sender` and `recipient` are case-insensitive
// substrings (a domain auto-whitelist entry matches a sender filter by its domain). Admin
// whitelist entries ('w' keys) are not greylist entries: they have their own route.
//
// Threading: pure functions over a greylist::Store (thread-safe). Errors: the store's.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/greylist/store.hpp"

namespace gf::admin {

struct GreylistFilter {
  std::string client;
  std::string sender;
  std::string recipient;
  std::size_t limit = 100;
};

struct GreylistEntry {
  std::string key;        // the store key: names the entry for a delete
  std::string_view kind;  // "triplet", "client-awl", "domain-awl", "sender-seen", "pooled"
  std::string network;    // empty when the kind has none (pooled)
  std::string sender;
  std::string recipient;
  std::string domain;  // domain-awl: the sender domain; pooled: the client's registrable domain
  greylist::Record record;
};

struct GreylistPage {
  std::vector<GreylistEntry> entries;  // in key order
  bool truncated = false;              // more matched than `limit`
};

// "triplet", "client-awl", ... for a key's first letter; "other" for an unknown one.
[[nodiscard]] std::string_view kind_name(char kind);
// The entry a stored record stands for; nullopt for admin whitelist entries and unknown keys.
[[nodiscard]] std::optional<GreylistEntry> describe_entry(std::string_view key,
                                                          const greylist::Record& rec);
[[nodiscard]] bool matches(const GreylistEntry& e, const GreylistFilter& f);
[[nodiscard]] Result<GreylistPage> search_greylist(greylist::Store& store, const GreylistFilter& f);
// Whether `key` names a greylist entry (not a whitelist entry): what a delete may remove.
[[nodiscard]] bool is_greylist_key(std::string_view key);

}  // namespace gf::admin
