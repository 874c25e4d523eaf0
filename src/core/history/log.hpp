#pragma once
// The decision history: a bounded, newest-first log of what every front door decided (greylist
// triplets, comment checks, mail scans by spamd, /checkv2 and the milter, fast-flux verdicts),
// read by the admin API (GET /api/v1/history) and relearned from (POST /api/v1/history/learn).
//
// Flow: a door builds a Row (row.hpp) -> Log::append() assigns the next id (1, 2, 3, ...; ids
// are never reused, also across restarts: restore() continues after the highest stored id),
// cuts the row to its bounds, evicts the oldest rows beyond Limits::max_rows and the oldest
// learn payloads beyond Limits::max_feature_bytes -> expire(now) drops the learn payloads older
// than Limits::relearn_retention (the row itself stays, with features_dropped set, so a relearn
// says "expired" rather than "unknown") -> query() pages newest first with `before=ID` ->
// learnable() hands the learn payload of one row to the door's trainer, mark_learned() records
// the class so that the same class is not learned twice.
//
// Persistence is the caller's: with track_changes, take_changes() returns the rows appended or
// changed (learned, payload dropped) and the ids evicted since the last call, which the app
// writes to a KvStore; at start-up it restore()s the stored rows in id order.
//
// Threading: a value, not thread-safe; the app keeps it behind one mutex. Time comes in as an
// argument (Unix seconds). Errors: none; unknown ids are answers (LearnProblem), not errors.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "core/history/row.hpp"

namespace gf::history {

struct Limits {
  std::size_t max_rows = 100000;                 // rows kept; the oldest go first
  std::int64_t relearn_retention_s = 7 * 86400;  // learn payloads are dropped after this
  std::size_t max_feature_bytes = 256u << 20;    // all learn payloads together
};

// Empty fields match every row. door, verdict, symbol (one of the row's reasons) and site match
// exactly (ASCII case-insensitive); client and sender match a substring, case-insensitive.
struct Filter {
  std::optional<Door> door;
  std::string verdict;
  std::string symbol;
  std::string site;
  std::string client;
  std::string sender;

  [[nodiscard]] bool matches(const Row& r) const;
};

struct Page {
  std::vector<Row> rows;              // newest first; copies without their learn payload
  std::vector<bool> learnable;        // per row: had a learn payload when listed
  std::optional<std::uint64_t> next;  // `before` for the next page; nullopt: no older match
};

enum class LearnProblem {
  None,            // learnable: the payload is in the answer
  Unknown,         // no such id (never logged, or evicted)
  NotLearnable,    // the door keeps nothing to learn from (greylist, flux)
  Expired,         // the payload was dropped (retention or the byte budget)
  AlreadyLearned,  // already relearned as this class
};
[[nodiscard]] std::string_view to_string(LearnProblem p);  // "unknown_id", "expired", ...

struct LearnInput {
  LearnProblem problem = LearnProblem::Unknown;
  Row row;  // with its payload, when problem == None
};

struct Changes {
  std::vector<Row> put;              // rows appended or changed, with their payloads
  std::vector<std::uint64_t> erase;  // ids evicted
};

class Log {
 public:
  explicit Log(Limits limits = {}, bool track_changes = false);

  // Logs `row` (its id is ignored) and returns its id.
  std::uint64_t append(Row row);
  // Start-up: a stored row, in ascending id order; rows out of order or duplicated are ignored.
  // Returns false when ignored.
  bool restore(Row row);
  // Drops learn payloads older than the retention; returns how many were dropped.
  std::size_t expire(std::int64_t now_s);

  [[nodiscard]] Page query(const Filter& f, std::size_t limit,
                           std::optional<std::uint64_t> before = std::nullopt) const;
  // A copy without the payload; nullopt when unknown.
  [[nodiscard]] std::optional<Row> find(std::uint64_t id, bool* learnable = nullptr) const;
  [[nodiscard]] LearnInput learnable(std::uint64_t id, Class c) const;
  // Records that `id` was relearned as `c`; false when the id is gone.
  bool mark_learned(std::uint64_t id, Class c);

  // At most `max_rows` of the changed rows (lowest ids first; the rest stay for the next call)
  // and every id evicted so far: a caller holding a lock copies a bounded batch at a time.
  [[nodiscard]] Changes take_changes(std::size_t max_rows = SIZE_MAX);
  void set_limits(const Limits& l) { limits_ = l; }
  [[nodiscard]] const Limits& limits() const { return limits_; }
  [[nodiscard]] std::size_t size() const { return rows_.size(); }
  [[nodiscard]] std::size_t feature_bytes() const { return feature_bytes_; }
  [[nodiscard]] std::uint64_t next_id() const { return next_id_; }
  [[nodiscard]] std::uint64_t evicted() const { return evicted_total_; }

 private:
  [[nodiscard]] const Row* at(std::uint64_t id) const;
  Row* at(std::uint64_t id);
  void push(Row&& row, bool fresh);
  void drop_features(Row& r);
  void enforce_bounds();

  Limits limits_;
  bool track_;
  std::deque<Row> rows_;  // ascending ids
  std::size_t feature_bytes_ = 0;
  std::size_t feature_from_ = 0;  // rows_[i] for i < feature_from_ have no payload
  std::uint64_t next_id_ = 1;
  std::uint64_t evicted_total_ = 0;
  std::vector<std::uint64_t> changed_;
  std::vector<std::uint64_t> evicted_;
};

}  // namespace gf::history
