#pragma once
// Redis Cluster hash tags for the greylist's keys: the form in which a shared store (Redis)
// holds a key, so that the keys of one decision land in one cluster slot.
//
// The kinds keyed by the client's network (t: triplet, c: client, d: domain, s: sender; see
// greylist.hpp key::) carry the network as a hash tag right after the kind, and the other
// fields after it; Redis hashes only the bytes between the first '{' and '}', so the network
// decides the slot and a sender address with braces in it cannot move the key elsewhere:
//   t:NET␟sender␟rcpt   ->  t:{NET}␟sender␟rcpt
//   c:NET               ->  c:{NET}
//   d:domain␟NET        ->  d:{NET}domain
//   s:sender␟NET        ->  s:{NET}sender
// A network field that is empty or holds a brace gets the empty tag "{}" (Redis then hashes the
// whole key) and the original rest verbatim: k:{}rest. Other kinds (p: pooled sender, w: admin
// whitelist, anything else) are stored as they are: a pooled-sender key is shared by every
// network of a sender domain, so a decision that pools touches a second slot.
// Both functions are total and exact inverses on what with_slot_tag() makes.
#include <optional>
#include <string>
#include <string_view>

namespace gf::greylist::key {

std::string with_slot_tag(std::string_view key);
// The original key of a stored one; nullopt when `stored` is a tagged kind without the
// "k:{...}" form (a key written by something else).
std::optional<std::string> without_slot_tag(std::string_view stored);
// The stored-form prefix under which every key that starts with `prefix` is found (the kind
// alone for a longer prefix of a tagged kind; callers filter what they scan).
std::string stored_scan_prefix(std::string_view prefix);

}  // namespace gf::greylist::key
