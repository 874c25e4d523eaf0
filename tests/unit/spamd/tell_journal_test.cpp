// The TELL journal: entries round-trip and untrusted bytes are refused; a model rebuilt from the
// last model file plus the journal's replay is the model that was running, whether the crash came
// before a save, between a save's journal record and its file rename, or after the save; a save
// erases the entries its file holds; an unreadable entry is skipped and counted.
#include "core/spamd/tell_journal.hpp"

#include <gtest/gtest.h>

#include "core/common/memory_kv.hpp"
#include "sample_mail.hpp"

namespace gf::spamd {
namespace {

using test::ham_mail;
using test::spam_mail;

TellEntry entry(const Scanner& s, const std::string& mail, bool set, bool spam, bool remove) {
  TellEntry e;
  e.set = set;
  e.spam = spam;
  e.remove = remove;
  e.prepared = s.prepare(mime::parse_message(mail));
  return e;
}

// What SpamdService does for a TELL: apply, and journal what changed the model.
void tell(Scanner& s, TellJournal& j, const TellEntry& e) {
  if (apply_tell(s, e)) {
    ASSERT_TRUE(j.append(e));
  }
}

// A running model: `n` spam and `n` ham TELLs from `first`, one of them later told as ham, one
// removed. `also` (optional) gets the same TELLs (a model loaded from a saved file).
void feed(Scanner& s, TellJournal& j, int first, int n, Scanner* also = nullptr) {
  auto both = [&](const TellEntry& e) {
    tell(s, j, e);
    if (also != nullptr) {
      apply_tell(*also, e);
    }
  };
  for (int i = first; i < first + n; ++i) {
    both(entry(s, spam_mail(i), true, true, false));
    both(entry(s, ham_mail(i), true, false, false));
  }
  both(entry(s, spam_mail(first), true, false, false));     // moves between classes
  both(entry(s, ham_mail(first + 1), false, false, true));  // Remove: local
}

Scanner load(const std::string& blob) {
  auto loaded = Scanner::deserialize(blob, ScannerOptions{});
  EXPECT_TRUE(loaded);
  return loaded ? std::move(*loaded) : Scanner();
}

// The same learned model: counts, features, and the same model probability on spam and ham
// (the blobs differ in the order of the learned-message record, a hash map).
void expect_same(const Scanner& a, const Scanner& b) {
  EXPECT_EQ(a.spam_learned(), b.spam_learned());
  EXPECT_EQ(a.ham_learned(), b.ham_learned());
  EXPECT_EQ(a.model_features(), b.model_features());
  for (int i = 0; i < 40; ++i) {
    for (const std::string& mail : {spam_mail(i), ham_mail(i)}) {
      const mime::Message m = mime::parse_message(mail);
      EXPECT_DOUBLE_EQ(a.scan(m).p_spam, b.scan(m).p_spam) << i;
    }
  }
}

std::size_t journal_entries(MemoryKv& kv) {
  std::size_t n = 0;
  EXPECT_TRUE(kv.scan("j:", [&](std::string_view k, std::string_view) {
    n += parse_journal_key(k) ? 1 : 0;
    return true;
  }));
  return n;
}

// Start after a crash: the model file's blob (empty: none), then the journal.
Scanner restart(MemoryKv& kv, const std::string& file_blob, TellJournal::Replayed* out = nullptr) {
  Scanner s = file_blob.empty() ? Scanner() : load(file_blob);
  const std::uint64_t hash = file_blob.empty() ? 0 : model_hash(file_blob);
  TellJournal j(kv);
  auto r = j.replay(s, hash);
  EXPECT_TRUE(r);
  if (out != nullptr && r) {
    *out = *r;
  }
  return s;
}

TEST(TellJournal, EntryRoundTripsAndRefusesBadBytes) {
  const Scanner s;
  const TellEntry e = entry(s, spam_mail(3), true, true, true);
  auto back = decode_tell(encode_tell(e));
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->set && back->spam && back->remove);
  EXPECT_EQ(back->prepared.fingerprint, e.prepared.fingerprint);
  EXPECT_EQ(back->prepared.features, e.prepared.features);
  const std::string good = encode_tell(e);
  EXPECT_FALSE(decode_tell(""));
  EXPECT_FALSE(decode_tell(std::string(1, '\x08') + good.substr(1)));  // unknown flag
  EXPECT_FALSE(decode_tell(std::string(1, '\x04') + good.substr(1)));  // neither set nor remove
  EXPECT_FALSE(decode_tell(good.substr(0, good.size() - 1)));
  EXPECT_FALSE(decode_tell(good + "x"));
  EXPECT_EQ(parse_journal_key(journal_key(42)), 42u);
  EXPECT_EQ(journal_key(42), "j:000000000000002a");
  EXPECT_FALSE(parse_journal_key("j:000000000000002A"));
  EXPECT_FALSE(parse_journal_key("j:2a"));
  EXPECT_FALSE(parse_journal_key("j-base"));
  auto base = decode_base(encode_base({7, 99, 3}));
  ASSERT_TRUE(base);
  EXPECT_EQ(base->seq, 7u);
  EXPECT_EQ(base->model_hash, 99u);
  EXPECT_EQ(base->prev, 3u);
  EXPECT_FALSE(decode_base(encode_base({3, 99, 7})));  // prev after seq
}

TEST(TellJournal, CrashBeforeAnySaveReplaysEveryTell) {
  MemoryKv kv;
  Scanner live;
  TellJournal j(kv);
  ASSERT_TRUE(j.replay(live, 0));
  feed(live, j, 0, 15);
  TellJournal::Replayed r;
  const Scanner back = restart(kv, "", &r);
  EXPECT_EQ(r.from, 0u);
  EXPECT_EQ(r.entries, j.last_seq());
  EXPECT_EQ(live.spam_learned(), 14u);  // 15 spam, one told as ham later
  EXPECT_EQ(live.ham_learned(), 15u);   // 15 ham + 1 moved - 1 removed
  expect_same(back, live);
}

TEST(TellJournal, SaveErasesWhatTheFileHoldsAndReplaysTheRest) {
  MemoryKv kv;
  Scanner live;
  TellJournal j(kv);
  ASSERT_TRUE(j.replay(live, 0));
  feed(live, j, 0, 10);
  const std::string file = live.serialize();
  const std::uint64_t seq = j.last_seq();
  ASSERT_TRUE(j.begin_save(seq, model_hash(file)));
  ASSERT_TRUE(j.end_save(seq));
  EXPECT_EQ(journal_entries(kv), 0u);
  EXPECT_EQ(j.unsaved(), 0u);
  // The reference: what a start from the file then the same TELLs gives (a model loaded from
  // its file is not bit for bit the running one, so the two drift apart as they train; that
  // is the model file's, not the journal's).
  Scanner from_file = load(file);
  expect_same(from_file, live);
  feed(live, j, 10, 5, &from_file);
  EXPECT_EQ(j.unsaved(), journal_entries(kv));
  TellJournal::Replayed r;
  const Scanner back = restart(kv, file, &r);
  EXPECT_EQ(r.from, seq);
  EXPECT_EQ(r.entries, journal_entries(kv));
  expect_same(back, from_file);
}

TEST(TellJournal, CrashBetweenTheBaseRecordAndTheRenameKeepsTheOldFilesView) {
  MemoryKv kv;
  Scanner live;
  TellJournal j(kv);
  ASSERT_TRUE(j.replay(live, 0));
  feed(live, j, 0, 6);
  const std::string old_file = live.serialize();
  ASSERT_TRUE(j.begin_save(j.last_seq(), model_hash(old_file)));
  ASSERT_TRUE(j.end_save(j.last_seq()));
  Scanner from_old = load(old_file);
  feed(live, j, 6, 6, &from_old);
  const std::string new_file = live.serialize();
  ASSERT_TRUE(j.begin_save(j.last_seq(), model_hash(new_file)));
  // kill -9 here: the rename did not happen, the old file is on disk.
  TellJournal::Replayed r;
  const Scanner back_old = restart(kv, old_file, &r);
  EXPECT_EQ(r.from, 14u);  // the first save's
  EXPECT_EQ(r.entries, 14u);
  expect_same(back_old, from_old);
  // ...or it did, and the entries were not erased yet: none of them is applied twice.
  const Scanner back_new = restart(kv, new_file, &r);
  EXPECT_EQ(r.from, 28u);
  EXPECT_EQ(r.entries, 0u);
  expect_same(back_new, load(new_file));
}

TEST(TellJournal, UnreadableEntryIsSkippedAndCounted) {
  MemoryKv kv;
  Scanner live;
  TellJournal j(kv);
  ASSERT_TRUE(j.replay(live, 0));
  feed(live, j, 0, 3);
  ASSERT_TRUE(kv.put(journal_key(j.last_seq() + 1), "\x02garbage"));
  TellJournal::Replayed r;
  const Scanner back = restart(kv, "", &r);
  EXPECT_EQ(r.bad, 1u);
  expect_same(back, live);
  TellJournal again(kv);
  Scanner s;
  ASSERT_TRUE(again.replay(s, 0));
  EXPECT_EQ(again.last_seq(), j.last_seq() + 1);  // new entries go after the bad one
}

TEST(TellJournal, StoreFailureIsAnError) {
  MemoryKv kv;
  Scanner s;
  TellJournal j(kv);
  kv.set_failing(true);
  EXPECT_FALSE(j.replay(s, 0));
  EXPECT_FALSE(j.append(entry(s, spam_mail(1), true, true, false)));
  EXPECT_FALSE(j.begin_save(0, 1));
}

}  // namespace
}  // namespace gf::spamd
