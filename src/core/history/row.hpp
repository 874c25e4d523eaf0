#pragma once
// One row of the decision history (core/history/log.hpp): what a front door decided, about
// whom, why, and (for the doors that learn) what relearning that decision needs.
//
// A row is a value. Its learn payload (`features`) is opaque here: the door that made the row
// encodes it and the same door decodes it when an administrator relearns the row (comments:
// akismet::encode_check of the check's form fields and key; mail: spamd::encode_learn_record of
// the message's fingerprint, feature hashes and URI domains, never the body). The log drops the
// payload after the relearn retention; the rest of the row stays until the row count bound
// evicts it.
//
// encode_row/decode_row are the store format (a row persists across restarts); a stored row
// is untrusted input: decode_row never throws and rejects anything malformed or oversized.
// row_to_json is the admin API's view (docs/api.md, "History"); it never includes the payload.
//
// Threading: values and pure functions.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/result.hpp"

namespace gf::history {

// The front doors. The names (to_string) are the API's `door` values.
enum class Door : std::uint8_t { Greylist = 0, Comments = 1, Mail = 2, Flux = 3 };
inline constexpr int kDoorCount = 4;
[[nodiscard]] std::string_view to_string(Door d);  // "greylist" "comments" "mail" "flux"
[[nodiscard]] std::optional<Door> parse_door(std::string_view s);

// What a row was relearned as (None: never relearned through the history).
enum class Class : std::uint8_t { None = 0, Spam = 1, Ham = 2 };
[[nodiscard]] std::string_view to_string(Class c);                   // "" "spam" "ham"
[[nodiscard]] std::optional<Class> parse_class(std::string_view s);  // "spam" | "ham"

struct Reason {
  std::string symbol;
  double weight = 0.0;
  bool operator==(const Reason&) const = default;
};

// Bounds a door's row is cut to before it is logged (a row must stay small whatever the
// client sent: the payload is the only large part and has its own byte budget).
inline constexpr std::size_t kMaxText = 320;            // client, sender, recipient, site, via
inline constexpr std::size_t kMaxSummary = 200;         // summary
inline constexpr std::size_t kMaxReasons = 32;          // reasons kept per row
inline constexpr std::size_t kMaxFeatures = 16u << 20;  // one payload

struct Row {
  std::uint64_t id = 0;  // assigned by the log: 1, 2, 3, ... never reused
  std::int64_t t_s = 0;  // wall clock, Unix seconds, as the door read it
  Door door = Door::Greylist;
  std::string via;      // the listener: "policy", "milter", "spamd", "checkv2", "comment-check"
  std::string verdict;  // greylist: defer|pass|whitelisted|flux_agent|...; spam|ham; flagged
  double score = 0.0;
  std::string summary;    // mail: the Subject; comments: the start of the text; flux: the name
  std::string client;     // greylist: "name[address]"; comments: user_ip; mail: first hop
  std::string sender;     // envelope sender / comment author e-mail / From address
  std::string recipient;  // envelope recipient / To
  std::string site;       // comments: the blog's site name
  std::vector<Reason> reasons;
  Class learned = Class::None;
  bool features_dropped = false;  // had a learn payload, dropped by retention or the budget
  std::string features;           // the learn payload; empty when none (or dropped)

  [[nodiscard]] bool learnable() const { return !features.empty(); }
};

// Cuts every text field to its bound (on UTF-8 boundaries where the input is UTF-8) and keeps
// the first kMaxReasons reasons. The log calls it on append.
void clamp(Row& r);

[[nodiscard]] std::string encode_row(const Row& r);
[[nodiscard]] Result<Row> decode_row(std::string_view bytes);

// {"id":..,"t":..,"door":..,"via":..,"verdict":..,"score":..,"summary":..,"client":..,
//  "sender":..,"recipient":..,"site":..,"reasons":[{"symbol":..,"weight":..}],
//  "learnable":bool,"learned":"spam"|"ham"|null}
// `learnable` overrides r.learnable() (the log's query copies carry no payload).
[[nodiscard]] std::string row_to_json(const Row& r, std::optional<bool> learnable = std::nullopt);

// JSON string literal (with the quotes) of `s`; control characters and bytes that are not valid
// UTF-8 become '?' (sanitize_line).
[[nodiscard]] std::string json_quote(std::string_view s);

}  // namespace gf::history
