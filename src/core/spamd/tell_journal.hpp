#pragma once
// TellJournal: the spamd TELLs (and history relearns) that the mail model file does not hold yet,
// kept in a KvStore so that a TELL is as durable as the other doors' writes: it is in the store's
// next group commit, so a kill -9 loses at most one commit interval of acknowledged TELLs, not
// a whole spamd.save_interval.
//
// Keys: "j:<16 hex digits of the sequence>" = one TELL (encode_tell: flags + the learn record of
// core/spamd/learn_record.hpp, that is the hashed features, never the message); "j-base" = the
// save in progress or last made: {seq, hash of the model blob, previous seq}. A save writes
// "j:base" and flushes BEFORE the model file is renamed into place, then erases the entries it
// covers; at start a model file whose blob hash is base.hash includes base.seq, any other file
// includes base.prev (the rename did not happen), and the entries after that are replayed.
// Replaying applies them in order exactly as TELL did (remove, then set), so nothing is learned
// twice.
//
// Threading: append() must be called in the order the entries are applied to the model (the
// caller's exclusive model lock); the rest is safe from any thread. Errors: Result when the store
// fails; an unreadable entry is skipped and counted (Replayed::bad), never fatal.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/common/kv_store.hpp"
#include "core/common/result.hpp"
#include "core/spamd/scanner.hpp"

namespace gf::spamd {

// One TELL as the journal keeps it: Remove: local (forget) and/or Set: local as spam or ham.
struct TellEntry {
  bool remove = false;
  bool set = false;
  bool spam = false;
  Scanner::Prepared prepared;
};

[[nodiscard]] std::string encode_tell(const TellEntry& e);
// Untrusted bytes (a stored record): never throws, rejects anything malformed.
[[nodiscard]] Result<TellEntry> decode_tell(std::string_view bytes);
// Applies `e` to `scanner` as TELL does; true when the model changed.
bool apply_tell(Scanner& scanner, const TellEntry& e);

[[nodiscard]] std::string journal_key(std::uint64_t seq);
[[nodiscard]] std::optional<std::uint64_t> parse_journal_key(std::string_view key);
// FNV-1a 64 of a model blob (Scanner::serialize()).
[[nodiscard]] std::uint64_t model_hash(std::string_view blob);

struct JournalBase {
  std::uint64_t seq = 0;         // entries <= seq are in the model blob with this hash
  std::uint64_t model_hash = 0;  // of that blob
  std::uint64_t prev = 0;        // entries <= prev are in any older model file
};
[[nodiscard]] std::string encode_base(const JournalBase& b);
[[nodiscard]] Result<JournalBase> decode_base(std::string_view bytes);

class TellJournal {
 public:
  explicit TellJournal(KvStore& kv) : kv_(kv) {}

  struct Replayed {
    std::uint64_t from = 0;   // entries after this sequence were replayed
    std::size_t entries = 0;  // replayed
    std::size_t changed = 0;  // of them, changed the model
    std::size_t bad = 0;      // unreadable, skipped
  };
  // Start: replays onto `scanner` (loaded from a file whose blob hash is `file_hash`; 0 when
  // there was no file) the entries it does not include.
  [[nodiscard]] Result<Replayed> replay(Scanner& scanner, std::uint64_t file_hash);

  // Appends the next entry (store write, durable at the next group commit); returns its seq.
  [[nodiscard]] Result<std::uint64_t> append(const TellEntry& e);
  // The last appended sequence number (read under the same lock as append() for a blob that
  // matches it).
  [[nodiscard]] std::uint64_t last_seq() const { return next_seq_.load() - 1; }
  // Entries appended since the last completed save.
  [[nodiscard]] std::uint64_t unsaved() const { return last_seq() - saved_seq_.load(); }

  // Before the model file covering entries <= seq (blob hash `hash`) replaces the old one:
  // records the base and flushes the store. Do not rename the file if this fails.
  [[nodiscard]] Result<void> begin_save(std::uint64_t seq, std::uint64_t hash);
  // After the rename: erases the entries <= seq.
  [[nodiscard]] Result<void> end_save(std::uint64_t seq);

 private:
  KvStore& kv_;
  std::mutex save_mu_;  // one save at a time
  std::atomic<std::uint64_t> next_seq_{1};
  std::atomic<std::uint64_t> saved_seq_{0};
};

}  // namespace gf::spamd
