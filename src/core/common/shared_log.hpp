#pragma once
// SharedLog: a training log that several nodes append to through one KvStore (io::RedisKv on the
// Redis the deployment shares) and that every node replays into its own copy of a learned model,
// so that feedback given to one node trains the model of every node.
//
// Why records and not the model itself: the learned models (comment and mail) are online logistic
// regressions with AdaGrad; their weights depend on the order of the examples and are no sum of
// per-message terms, so they cannot be merged by adding counters. What several nodes can add up
// atomically is the sequence of examples: each node trains its local copy on every example once,
// its own at once, the others' within one poll interval. Scoring never waits on the store.
//
// Flow:
//   append(record): the next sequence number from `counter_key` (KvStore::update, a
//     compare-and-set: two nodes never get the same number), the record under key_of(seq), and,
//     with max_records, the record max_records older erased (a ring: the log stays bounded).
//   poll(): reads the counter, fetches (get_many) the records between this node's position and
//     the counter, at most max_poll, and returns the ones this object did not append, in order.
//     A number whose record is not there yet (its node is between its two writes, or died there)
//     is asked again at the next polls and given up after `hole_polls` polls. Records the ring has
//     already overwritten (a node that was away for more than max_records appends) are counted
//     in lost().
//   A counter below the position means the store lost its data (a Redis restarted empty): the
//     position starts over at 0 (resets()).
//   start(position, replayed): where a node begins after loading a snapshot of its model: every
//     record up to `position` is in it, and so are the `replayed` ones above it.
//
// Threading: every method is safe from any thread; at most one poll() runs at a time, and the
// store calls are made without the position lock, so append() does not wait for a poll.
// Errors: append() and poll() return the store's error; the position is unchanged by a failed
// poll, and a failed append() leaves no record (its number becomes a hole the others skip).
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/common/kv_store.hpp"
#include "core/common/result.hpp"

namespace gf {

struct SharedLogOptions {
  std::string counter_key;                           // holds the last sequence number given out
  std::function<std::string(std::uint64_t)> key_of;  // a record's key
  std::uint64_t max_records = 0;                     // ring size; 0 = never erase
  // Records fetched by one poll() at most. A poll whose read fails (a timeout: the records are
  // large) halves the batch of the next one, down to 1; each successful poll doubles it back.
  std::size_t max_poll = 1000;
  std::uint32_t hole_polls = 3;  // polls a missing record is waited for
};

class SharedLog {
 public:
  struct Entry {
    std::uint64_t seq = 0;
    std::string record;
  };
  struct Stats {
    std::uint64_t position = 0;  // every record up to this one was handled here
    std::uint64_t appended = 0;
    std::uint64_t applied = 0;  // others' records returned by poll()
    std::uint64_t holes = 0;    // numbers given up on (no record appeared)
    std::uint64_t lost = 0;     // records overwritten by the ring before this node read them
    std::uint64_t resets = 0;   // the counter was found below the position (store emptied)
  };

  // `kv` outlives the log.
  SharedLog(KvStore& kv, SharedLogOptions o);

  void start(std::uint64_t position, const std::vector<std::uint64_t>& replayed = {});
  // The last number given out (0: none yet, or no counter).
  [[nodiscard]] Result<std::uint64_t> head();
  [[nodiscard]] Result<std::uint64_t> append(std::string record);
  [[nodiscard]] Result<std::vector<Entry>> poll();
  [[nodiscard]] Stats stats() const;

 private:
  // Advances position_ over handled_ numbers. Needs mu_.
  void advance_locked();

  KvStore& kv_;
  SharedLogOptions o_;
  std::mutex poll_mu_;  // one poll at a time
  mutable std::mutex mu_;
  std::uint64_t position_ = 0;
  std::set<std::uint64_t> handled_;                // numbers above position_ already handled
  std::map<std::uint64_t, std::uint32_t> misses_;  // numbers polled and not found yet
  std::size_t batch_ = 0;                          // this poll's max records (poll_mu_)
  Stats stats_;
};

// The counter's stored form: decimal ASCII (what Redis's INCR would keep). nullopt: malformed.
[[nodiscard]] std::optional<std::uint64_t> parse_log_counter(std::string_view value);

}  // namespace gf
