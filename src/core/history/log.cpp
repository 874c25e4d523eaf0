#include "core/history/log.hpp"

#include <algorithm>

#include "core/common/strings.hpp"

namespace gf::history {
namespace {

bool icontains(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) {
    return false;
  }
  const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end(),
                     [&](char a, char b) { return lower(a) == lower(b); }) != hay.end();
}

}  // namespace

std::string_view to_string(LearnProblem p) {
  switch (p) {
    case LearnProblem::None:
      return "ok";
    case LearnProblem::Unknown:
      return "unknown_id";
    case LearnProblem::NotLearnable:
      return "not_learnable";
    case LearnProblem::Expired:
      return "expired";
    case LearnProblem::AlreadyLearned:
      return "already_learned";
  }
  return "unknown_id";
}

bool Filter::matches(const Row& r) const {
  if (door && r.door != *door) {
    return false;
  }
  if (!verdict.empty() && !iequals(r.verdict, verdict)) {
    return false;
  }
  if (!site.empty() && !iequals(r.site, site)) {
    return false;
  }
  if (!symbol.empty() && std::none_of(r.reasons.begin(), r.reasons.end(),
                                      [&](const Reason& x) { return iequals(x.symbol, symbol); })) {
    return false;
  }
  if (!client.empty() && !icontains(r.client, client)) {
    return false;
  }
  return sender.empty() || icontains(r.sender, sender);
}

Log::Log(Limits limits, bool track_changes) : limits_(limits), track_(track_changes) {}

std::uint64_t Log::append(Row row) {
  row.id = next_id_;
  clamp(row);
  push(std::move(row), true);
  return next_id_ - 1;
}

bool Log::restore(Row row) {
  if (row.id < next_id_) {
    return false;
  }
  clamp(row);
  push(std::move(row), false);  // already stored
  return true;
}

void Log::push(Row&& row, bool fresh) {
  next_id_ = row.id + 1;
  feature_bytes_ += row.features.size();
  if (track_ && fresh) {
    changed_.push_back(row.id);
  }
  rows_.push_back(std::move(row));
  enforce_bounds();
}

void Log::enforce_bounds() {
  while (rows_.size() > std::max<std::size_t>(limits_.max_rows, 1)) {
    feature_bytes_ -= rows_.front().features.size();
    if (track_) {
      evicted_.push_back(rows_.front().id);
    }
    rows_.pop_front();
    ++evicted_total_;
    if (feature_from_ > 0) {
      --feature_from_;
    }
  }
  while (feature_bytes_ > limits_.max_feature_bytes && feature_from_ < rows_.size()) {
    drop_features(rows_[feature_from_++]);
  }
}

void Log::drop_features(Row& r) {
  if (r.features.empty()) {
    return;
  }
  feature_bytes_ -= r.features.size();
  std::string().swap(r.features);
  r.features_dropped = true;
  if (track_) {
    changed_.push_back(r.id);
  }
}

std::size_t Log::expire(std::int64_t now_s) {
  std::size_t dropped = 0;
  const std::int64_t cutoff = now_s - limits_.relearn_retention_s;
  while (feature_from_ < rows_.size() && rows_[feature_from_].t_s <= cutoff) {
    Row& r = rows_[feature_from_++];
    dropped += r.features.empty() ? 0 : 1;
    drop_features(r);
  }
  enforce_bounds();  // the limits may have changed (reload)
  return dropped;
}

const Row* Log::at(std::uint64_t id) const {
  auto it = std::lower_bound(rows_.begin(), rows_.end(), id,
                             [](const Row& r, std::uint64_t v) { return r.id < v; });
  return it != rows_.end() && it->id == id ? &*it : nullptr;
}

Row* Log::at(std::uint64_t id) { return const_cast<Row*>(static_cast<const Log*>(this)->at(id)); }

Page Log::query(const Filter& f, std::size_t limit, std::optional<std::uint64_t> before) const {
  Page p;
  limit = std::max<std::size_t>(limit, 1);
  auto end = rows_.end();
  if (before) {
    end = std::lower_bound(rows_.begin(), rows_.end(), *before,
                           [](const Row& r, std::uint64_t v) { return r.id < v; });
  }
  for (auto it = std::make_reverse_iterator(end); it != rows_.rend(); ++it) {
    if (!f.matches(*it)) {
      continue;
    }
    if (p.rows.size() == limit) {
      p.next = p.rows.back().id;  // there is at least one more, older than the last listed
      break;
    }
    Row copy;
    copy.id = it->id;
    copy.t_s = it->t_s;
    copy.door = it->door;
    copy.via = it->via;
    copy.verdict = it->verdict;
    copy.score = it->score;
    copy.summary = it->summary;
    copy.client = it->client;
    copy.sender = it->sender;
    copy.recipient = it->recipient;
    copy.site = it->site;
    copy.reasons = it->reasons;
    copy.learned = it->learned;
    copy.features_dropped = it->features_dropped;
    p.rows.push_back(std::move(copy));
    p.learnable.push_back(it->learnable());
  }
  return p;
}

std::optional<Row> Log::find(std::uint64_t id, bool* learnable) const {
  const Row* r = at(id);
  if (r == nullptr) {
    return std::nullopt;
  }
  if (learnable != nullptr) {
    *learnable = r->learnable();
  }
  Row copy = *r;
  copy.features.clear();
  return copy;
}

LearnInput Log::learnable(std::uint64_t id, Class c) const {
  LearnInput in;
  const Row* r = at(id);
  if (r == nullptr) {
    in.problem = LearnProblem::Unknown;
  } else if (r->learned == c && c != Class::None) {
    in.problem = LearnProblem::AlreadyLearned;
  } else if (r->features_dropped) {
    in.problem = LearnProblem::Expired;
  } else if (!r->learnable()) {
    in.problem = LearnProblem::NotLearnable;
  } else {
    in.problem = LearnProblem::None;
    in.row = *r;
  }
  return in;
}

bool Log::mark_learned(std::uint64_t id, Class c) {
  Row* r = at(id);
  if (r == nullptr) {
    return false;
  }
  r->learned = c;
  if (track_) {
    changed_.push_back(id);
  }
  return true;
}

Changes Log::take_changes(std::size_t max_rows) {
  Changes c;
  std::sort(changed_.begin(), changed_.end());
  changed_.erase(std::unique(changed_.begin(), changed_.end()), changed_.end());
  auto it = changed_.begin();
  for (; it != changed_.end() && c.put.size() < max_rows; ++it) {
    if (const Row* r = at(*it)) {  // an id evicted since it changed is in `evicted_` instead
      c.put.push_back(*r);
    }
  }
  changed_.erase(changed_.begin(), it);
  c.erase = std::move(evicted_);
  evicted_.clear();
  return c;
}

}  // namespace gf::history
