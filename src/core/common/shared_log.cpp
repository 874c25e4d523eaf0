#include "core/common/shared_log.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace gf {

std::optional<std::uint64_t> parse_log_counter(std::string_view value) {
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n, 10);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size()) {
    return std::nullopt;
  }
  return n;
}

SharedLog::SharedLog(KvStore& kv, SharedLogOptions o) : kv_(kv), o_(std::move(o)) {
  o_.max_poll = std::max<std::size_t>(o_.max_poll, 1);
  o_.hole_polls = std::max<std::uint32_t>(o_.hole_polls, 1);
  batch_ = o_.max_poll;
}

void SharedLog::start(std::uint64_t position, const std::vector<std::uint64_t>& replayed) {
  std::lock_guard lock(mu_);
  position_ = position;
  handled_.clear();
  misses_.clear();
  for (const std::uint64_t s : replayed) {
    if (s > position) {
      handled_.insert(s);
    }
  }
  advance_locked();
}

Result<std::uint64_t> SharedLog::head() {
  auto v = kv_.get(o_.counter_key);
  if (!v) {
    return tl::unexpected(v.error());
  }
  if (!*v) {
    return 0;
  }
  auto n = parse_log_counter(**v);
  if (!n) {
    return fail(Errc::InvalidInput,
                fmt::format("shared log: counter {} is not a number", o_.counter_key));
  }
  return *n;
}

Result<std::uint64_t> SharedLog::append(std::string record) {
  std::uint64_t seq = 0;
  bool malformed = false;
  // `fn` may run more than once (another node won the compare-and-set): the last run counts.
  auto ok = kv_.update(o_.counter_key, [&](std::optional<std::string_view> cur) {
    std::optional<std::uint64_t> n =
        cur ? parse_log_counter(*cur) : std::optional<std::uint64_t>(0);
    malformed = !n;
    if (!n) {
      return std::string(*cur);  // left as it is: numbers are never given out twice
    }
    seq = *n + 1;
    return std::to_string(seq);
  });
  if (!ok) {
    return tl::unexpected(ok.error());
  }
  if (malformed) {
    return fail(Errc::InvalidInput,
                fmt::format("shared log: counter {} is not a number", o_.counter_key));
  }
  {
    // Before the record exists, so that a concurrent poll() never hands our own record back.
    std::lock_guard lock(mu_);
    if (seq <= position_) {
      // The counter went back (the store lost its data): start over below our number.
      position_ = seq - 1;
      handled_.clear();
      misses_.clear();
      ++stats_.resets;
    }
    handled_.insert(seq);
    ++stats_.appended;
    advance_locked();
  }
  if (auto put = kv_.put(o_.key_of(seq), std::move(record)); !put) {
    return tl::unexpected(put.error());
  }
  if (o_.max_records != 0 && seq > o_.max_records) {
    if (auto erased = kv_.erase(o_.key_of(seq - o_.max_records)); !erased) {
      return tl::unexpected(erased.error());
    }
  }
  return seq;
}

Result<std::vector<SharedLog::Entry>> SharedLog::poll() {
  std::lock_guard one(poll_mu_);
  auto top = head();
  if (!top) {
    return tl::unexpected(top.error());
  }
  std::uint64_t from = 0;
  std::vector<std::uint64_t> wanted;
  {
    std::lock_guard lock(mu_);
    if (*top < position_) {
      // The counter went back: the store lost its data (a Redis restarted without
      // persistence). Start over from its new beginning.
      position_ = 0;
      handled_.clear();
      misses_.clear();
      ++stats_.resets;
      stats_.position = 0;
    }
    if (o_.max_records != 0 && *top > o_.max_records && position_ < *top - o_.max_records) {
      // Overwritten by the ring before this node read them.
      const std::uint64_t oldest = *top - o_.max_records;
      for (std::uint64_t s = position_ + 1; s <= oldest; ++s) {
        stats_.lost += handled_.erase(s) == 0 ? 1 : 0;
        misses_.erase(s);
      }
      position_ = oldest;
      advance_locked();
    }
    from = position_;
    const std::uint64_t to = std::min<std::uint64_t>(*top, from + batch_);
    for (std::uint64_t s = from + 1; s <= to; ++s) {
      if (!handled_.contains(s)) {
        wanted.push_back(s);
      }
    }
  }
  std::vector<Entry> out;
  if (wanted.empty()) {
    return out;
  }
  std::vector<std::string> keys;
  keys.reserve(wanted.size());
  for (const std::uint64_t s : wanted) {
    keys.push_back(o_.key_of(s));
  }
  auto values = kv_.get_many(keys);
  if (!values) {
    batch_ = std::max<std::size_t>(batch_ / 2, 1);
    return tl::unexpected(values.error());
  }
  batch_ = std::min(batch_ * 2, o_.max_poll);
  std::lock_guard lock(mu_);
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    const std::uint64_t s = wanted[i];
    if (s <= position_ || handled_.contains(s)) {
      continue;  // appended here meanwhile
    }
    if ((*values)[i]) {
      out.push_back(Entry{s, std::move(*(*values)[i])});
      handled_.insert(s);
      misses_.erase(s);
      ++stats_.applied;
    } else if (++misses_[s] >= o_.hole_polls) {
      handled_.insert(s);
      misses_.erase(s);
      ++stats_.holes;
    }
  }
  advance_locked();
  return out;
}

void SharedLog::advance_locked() {
  while (!handled_.empty() && *handled_.begin() <= position_ + 1) {
    position_ = std::max(position_, *handled_.begin());
    handled_.erase(handled_.begin());
  }
  while (!misses_.empty() && misses_.begin()->first <= position_) {
    misses_.erase(misses_.begin());
  }
  stats_.position = position_;
}

SharedLog::Stats SharedLog::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace gf
