#include "core/flux/shared.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <unordered_set>

namespace gf::flux {
namespace {

constexpr std::size_t kMemberBytes = 22;  // address, ASN (big-endian), country
constexpr std::array<std::uint32_t, kTtlClasses> kTtlClassValue = {300, 900, 1800, 3600};

std::string member_of(const IpEntry& e) {
  std::string m(kMemberBytes, '\0');
  std::memcpy(m.data(), e.ip.bytes.data(), 16);
  for (int i = 0; i < 4; ++i) {
    m[16 + i] = static_cast<char>((e.asn >> (24 - 8 * i)) & 0xff);
  }
  m[20] = e.country[0];
  m[21] = e.country[1];
  return m;
}

IpEntry entry_of(std::string_view m, std::uint32_t last_s) {
  IpEntry e;
  std::memcpy(e.ip.bytes.data(), m.data(), 16);
  for (int i = 0; i < 4; ++i) {
    e.asn = (e.asn << 8) | static_cast<std::uint8_t>(m[16 + i]);
  }
  e.country = {m[20], m[21]};
  e.first_s = e.last_s = last_s;
  return e;
}

struct IpKeyHash {
  std::size_t operator()(const IpAddress& ip) const {
    return std::hash<std::string_view>{}(
        std::string_view(reinterpret_cast<const char*>(ip.bytes.data()), ip.bytes.size()));
  }
};

// Adds `from` to `into` (an address already there keeps the later sighting).
void unite(std::vector<IpEntry>& into, const std::vector<IpEntry>& from) {
  std::unordered_map<IpAddress, std::size_t, IpKeyHash> at;
  at.reserve(into.size() + from.size());
  for (std::size_t i = 0; i < into.size(); ++i) {
    at.emplace(into[i].ip, i);
  }
  for (const IpEntry& e : from) {
    auto [it, added] = at.emplace(e.ip, into.size());
    if (added) {
      into.push_back(e);
    } else {
      IpEntry& have = into[it->second];
      have.last_s = std::max(have.last_s, e.last_s);
      if (have.asn == 0) {
        have.asn = e.asn;
        have.country = e.country;
      }
    }
  }
}

// Entries seen at or after `since` (a mark's last sighting; the same second may hold answers
// that came after the previous flush: sent again, which the sets absorb).
std::vector<IpEntry> since(const std::vector<IpEntry>& v, std::uint32_t since_s) {
  std::vector<IpEntry> out;
  for (const IpEntry& e : v) {
    if (e.last_s >= since_s) {
      out.push_back(e);
    }
  }
  return out;
}

// TTL classes of the last `n` answers: the ring holds 16; beyond that the 16 are scaled up.
std::array<std::uint32_t, kTtlClasses> ttl_classes(const NameState& s, std::uint32_t n) {
  std::array<std::uint32_t, kTtlClasses> out{};
  const std::uint32_t k = std::min<std::uint32_t>(n, s.ttl_count);
  if (k == 0) {
    return out;
  }
  const std::size_t size = s.ttl_ring.size();
  for (std::uint32_t i = 0; i < k; ++i) {
    ++out[ttl_class(s.ttl_ring[(s.ttl_pos + size - 1 - i) % size])];
  }
  if (n > k) {
    std::uint32_t sum = 0;
    std::size_t top = 0;
    for (std::size_t c = 0; c < kTtlClasses; ++c) {
      out[c] = static_cast<std::uint32_t>(std::uint64_t{out[c]} * n / k);
      sum += out[c];
      top = out[c] > out[top] ? c : top;
    }
    out[top] += n - sum;  // rounding goes to the most frequent class
  }
  return out;
}

std::size_t median_class(const std::array<std::uint32_t, kTtlClasses>& h) {
  std::uint64_t total = 0;
  for (std::uint32_t x : h) {
    total += x;
  }
  std::uint64_t seen = 0;
  for (std::size_t c = 0; c < kTtlClasses; ++c) {
    seen += h[c];
    if (seen > total / 2) {
      return c;
    }
  }
  return kTtlClasses - 1;
}

void add_pair(std::vector<std::string>& out, std::string member, std::uint64_t value) {
  out.push_back(std::move(member));
  out.push_back(std::to_string(value));
}

// A section of the script's arguments: its pair count, then the pairs.
void add_section(std::vector<std::string>& args, std::vector<std::string>& pairs) {
  args.push_back(std::to_string(pairs.size() / 2));
  std::move(pairs.begin(), pairs.end(), std::back_inserter(args));
  pairs.clear();
}

Result<std::uint64_t> score_of(const RedisReply& r) {
  double d = 0;
  const char* end = r.str.data() + r.str.size();
  auto [p, ec] = std::from_chars(r.str.data(), end, d);
  if (r.type != RedisReply::Type::String || ec != std::errc() || p != end || d < 0 || d > 1e15) {
    return fail(Errc::InvalidInput, "flux shared: bad score \"" + r.str + "\"");
  }
  return static_cast<std::uint64_t>(d);
}

Result<std::vector<IpEntry>> addresses_of(const RedisReply& r) {
  if (r.type != RedisReply::Type::Array || r.elements.size() % 2 != 0) {
    return fail(Errc::InvalidInput, "flux shared: an address set is not member/score pairs");
  }
  std::vector<IpEntry> out;
  for (std::size_t i = 0; i < r.elements.size(); i += 2) {
    const RedisReply& m = r.elements[i];
    auto score = score_of(r.elements[i + 1]);
    if (m.type != RedisReply::Type::String || m.str.size() != kMemberBytes || !score) {
      return fail(Errc::InvalidInput, "flux shared: bad address member");
    }
    out.push_back(entry_of(m.str, static_cast<std::uint32_t>(*score)));
  }
  return out;
}

std::uint32_t u32(std::uint64_t v) {
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(v, UINT32_MAX));
}

void set_scalar(SharedView& v, std::string_view m, std::uint64_t x) {
  static constexpr std::string_view kTtl[] = {"t0", "t1", "t2", "t3"};
  for (std::size_t c = 0; c < kTtlClasses; ++c) {
    if (m == kTtl[c]) {
      v.ttl[c] = u32(x);
      return;
    }
  }
  if (m == "r")
    v.responses = u32(x);
  else if (m == "o")
    v.other_responses = u32(x);
  else if (m == "a")
    v.answers = x;
  else if (m == "n")
    v.answer_nets = x;
  else if (m == "e")
    v.ns_new_events = u32(x);
  else if (m == "f")
    v.first_seen_s = u32(x);
  else if (m == "l")
    v.last_seen_s = u32(x);
  else if (m == "m")
    v.min_ttl_s = u32(x);
  else if (m == "N")
    v.ns_min_ttl_s = u32(x);
  else if (m == "x")
    v.max_answers = u32(x);
  else if (m == "c")
    v.ns_changes = u32(x);
  else if (m == "z")
    v.first_answer_size = u32(x);
  else if (m.size() > 1 && m[0] == 'C')
    v.cname_targets.emplace_back(m.substr(1));
}

// The window and size trim of an address set, as the script does it.
void trim(std::vector<IpEntry>& v, std::uint32_t horizon, std::uint32_t cap) {
  std::erase_if(v, [&](const IpEntry& e) { return e.last_s < horizon; });
  if (v.size() <= cap) {
    return;
  }
  std::sort(v.begin(), v.end(), [](const IpEntry& a, const IpEntry& b) {
    return a.last_s != b.last_s ? a.last_s > b.last_s : member_of(a) > member_of(b);
  });
  v.resize(cap);
}

void upsert(std::vector<IpEntry>& v, const IpEntry& e) {
  auto it = std::find_if(v.begin(), v.end(), [&](const IpEntry& x) {
    return x.ip == e.ip && x.asn == e.asn && x.country == e.country;
  });
  if (it == v.end()) {
    v.push_back(e);
  } else {
    it->last_s = std::max(it->last_s, e.last_s);
  }
}

}  // namespace

std::size_t ttl_class(std::uint32_t ttl_s) {
  return ttl_s <= 300 ? 0 : ttl_s <= 900 ? 1 : ttl_s < 3600 ? 2 : 3;
}

std::vector<NameDelta> SharedLedger::collect(const Tracker& tracker, std::size_t max_names) const {
  std::vector<NameDelta> out;
  tracker.for_each([&](const std::string& name, const NameState& s) {
    if (out.size() >= max_names) {
      return;
    }
    NameDelta::Totals now{s.responses,   s.other_responses, s.ns_new_events,
                          s.last_seen_s, s.answers_total,   s.answer_nets_total};
    NameDelta::Totals was;
    bool have_mark = false;
    if (auto it = marks_.find(name); it != marks_.end()) {
      was = it->second.totals;
      // A name evicted and seen again starts over: its old mark no longer applies.
      have_mark = now.responses >= was.responses && now.other_responses >= was.other_responses &&
                  now.answers >= was.answers && now.last_seen_s >= was.last_seen_s;
      if (have_mark && now.responses == was.responses &&
          now.other_responses == was.other_responses && now.last_seen_s == was.last_seen_s) {
        return;  // unchanged since the last flush
      }
    }
    if (!have_mark) {
      was = NameDelta::Totals{};
    }
    NameDelta d;
    d.name = name;
    d.totals = now;
    d.responses = now.responses - was.responses;
    d.other_responses = now.other_responses - was.other_responses;
    d.ns_new_events =
        now.ns_new_events >= was.ns_new_events ? now.ns_new_events - was.ns_new_events : 0;
    d.answers = now.answers - was.answers;
    d.answer_nets = now.answer_nets >= was.answer_nets ? now.answer_nets - was.answer_nets : 0;
    d.ttl = ttl_classes(s, d.responses);
    d.first_seen_s = s.first_seen_s;
    d.last_seen_s = s.last_seen_s;
    d.min_ttl_s = s.min_ttl_s;
    d.ns_min_ttl_s = s.ns_min_ttl_s;
    d.max_answers = s.max_answers;
    d.ns_changes = s.ns_changes;
    d.first_answer_size = s.responses > 0 ? s.first_answer_size : 0;
    d.ips = since(s.ips, was.last_seen_s);
    d.ns_ips = since(s.ns_ips, was.last_seen_s);
    d.cname_targets = s.cname_targets;
    out.push_back(std::move(d));
  });
  return out;
}

void SharedLedger::commit(const Tracker& tracker, const std::vector<NameDelta>& deltas,
                          std::uint64_t pass) {
  for (const NameDelta& d : deltas) {
    marks_[d.name] = Mark{d.totals, pass};
  }
  std::erase_if(marks_, [&](const auto& kv) { return tracker.find(kv.first) == nullptr; });
}

std::vector<std::string> SharedLedger::recent(std::uint64_t pass, std::uint64_t passes) const {
  std::vector<std::string> out;
  for (const auto& [name, m] : marks_) {
    if (m.pass + passes > pass) {
      out.push_back(name);
    }
  }
  return out;
}

std::string shared_key(std::string_view prefix, std::string_view name, char kind) {
  return fmt::format("{}{{{}}}:{}", prefix, name, kind);
}

const std::string& shared_update_script() {
  // KEYS: s (scalars), g (addresses), n (name-server addresses), e (HyperLogLog).
  // ARGV: expiry s, window horizon, address cap, NS cap, then six sections, each a pair count
  // and pairs: ZINCRBY (member, delta), ZADD LT / GT / NX (member, score), addresses and NS
  // addresses (score, member).
  static const std::string script = R"lua(
local ttl = tonumber(ARGV[1])
local horizon = ARGV[2]
local i = 5
local function section()
  local n = tonumber(ARGV[i])
  local first = i + 1
  i = first + 2 * n
  return n, first
end
local n, f = section()
for j = 0, n - 1 do
  redis.call('ZINCRBY', KEYS[1], ARGV[f + 2 * j + 1], ARGV[f + 2 * j])
end
for _, flag in ipairs({'LT', 'GT', 'NX'}) do
  n, f = section()
  for j = 0, n - 1 do
    redis.call('ZADD', KEYS[1], flag, ARGV[f + 2 * j + 1], ARGV[f + 2 * j])
  end
end
local function addresses(key, cap, hll)
  local count, first = section()
  if count == 0 then return end
  local ips = {}
  for j = 0, count - 1 do
    local m = ARGV[first + 2 * j + 1]
    redis.call('ZADD', key, 'GT', ARGV[first + 2 * j], m)
    if hll then ips[#ips + 1] = string.sub(m, 1, 16) end
  end
  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. horizon)
  local over = redis.call('ZCARD', key) - cap
  if over > 0 then redis.call('ZREMRANGEBYRANK', key, 0, over - 1) end
  for s = 1, #ips, 500 do
    redis.call('PFADD', KEYS[4], unpack(ips, s, math.min(s + 499, #ips)))
  end
end
addresses(KEYS[2], tonumber(ARGV[3]), true)
addresses(KEYS[3], tonumber(ARGV[4]), false)
for k = 1, 4 do redis.call('EXPIRE', KEYS[k], ttl) end
return 1
)lua";
  return script;
}

std::vector<std::string> shared_update_command(std::string_view prefix, const NameDelta& d,
                                               const SharedLimits& limits, std::string_view sha) {
  std::vector<std::string> a;
  a.reserve(40 + 2 * (d.ips.size() + d.ns_ips.size()));
  a.emplace_back(sha.empty() ? "EVAL" : "EVALSHA");
  a.emplace_back(sha.empty() ? std::string_view(shared_update_script()) : sha);
  a.emplace_back("4");
  for (char k : {'s', 'g', 'n', 'e'}) {
    a.push_back(shared_key(prefix, d.name, k));
  }
  a.push_back(std::to_string(limits.expire_s));
  a.push_back(
      std::to_string(d.last_seen_s > limits.window_s ? d.last_seen_s - limits.window_s : 0));
  a.push_back(std::to_string(limits.max_ips));
  a.push_back(std::to_string(limits.max_ns));
  std::vector<std::string> p;
  const std::pair<const char*, std::uint64_t> incr[] = {
      {"r", d.responses},   {"o", d.other_responses}, {"a", d.answers},
      {"n", d.answer_nets}, {"e", d.ns_new_events},   {"t0", d.ttl[0]},
      {"t1", d.ttl[1]},     {"t2", d.ttl[2]},         {"t3", d.ttl[3]}};
  for (const auto& [m, v] : incr) {
    if (v != 0) {
      add_pair(p, m, v);
    }
  }
  add_section(a, p);
  if (d.first_seen_s != 0) add_pair(p, "f", d.first_seen_s);
  if (d.min_ttl_s != UINT32_MAX) add_pair(p, "m", d.min_ttl_s);
  if (d.ns_min_ttl_s != UINT32_MAX) add_pair(p, "N", d.ns_min_ttl_s);
  add_section(a, p);
  add_pair(p, "l", d.last_seen_s);
  if (d.max_answers != 0) add_pair(p, "x", d.max_answers);
  if (d.ns_changes != 0) add_pair(p, "c", d.ns_changes);
  for (const std::string& c : d.cname_targets) {
    add_pair(p, "C" + c, d.last_seen_s);
  }
  add_section(a, p);
  if (d.first_answer_size != 0) add_pair(p, "z", d.first_answer_size);
  add_section(a, p);
  for (const auto* set : {&d.ips, &d.ns_ips}) {
    for (const IpEntry& e : *set) {
      p.push_back(std::to_string(e.last_s));
      p.push_back(member_of(e));
    }
    add_section(a, p);
  }
  return a;
}

std::vector<std::vector<std::string>> shared_read_commands(std::string_view prefix,
                                                           std::string_view name) {
  std::vector<std::vector<std::string>> out;
  for (char k : {'s', 'g', 'n'}) {
    out.push_back({"ZRANGE", shared_key(prefix, name, k), "0", "-1", "WITHSCORES"});
  }
  out.push_back({"PFCOUNT", shared_key(prefix, name, 'e')});
  return out;
}

Result<SharedView> shared_view(const RedisReply& scalars, const RedisReply& ips,
                               const RedisReply& ns_ips, const RedisReply& unique_ever) {
  SharedView v;
  if (scalars.type != RedisReply::Type::Array || scalars.elements.size() % 2 != 0) {
    return fail(Errc::InvalidInput, "flux shared: the scalars are not member/score pairs");
  }
  for (std::size_t i = 0; i < scalars.elements.size(); i += 2) {
    auto x = score_of(scalars.elements[i + 1]);
    if (!x) {
      return tl::unexpected(x.error());
    }
    set_scalar(v, scalars.elements[i].str, *x);
  }
  auto a = addresses_of(ips);
  auto n = addresses_of(ns_ips);
  if (!a || !n) {
    return tl::unexpected(!a ? a.error() : n.error());
  }
  v.ips = std::move(*a);
  v.ns_ips = std::move(*n);
  if (unique_ever.type != RedisReply::Type::Integer || unique_ever.integer < 0) {
    return fail(Errc::InvalidInput, "flux shared: PFCOUNT did not answer a count");
  }
  v.unique_ever = u32(static_cast<std::uint64_t>(unique_ever.integer));
  return v;
}

NameState merged_state(const NameState& local, const SharedView& v) {
  NameState m = local;
  m.ip_index.clear();  // features() reads ips only
  unite(m.ips, v.ips);
  unite(m.ns_ips, v.ns_ips);
  m.responses = std::max(m.responses, v.responses);
  m.other_responses = std::max(m.other_responses, v.other_responses);
  m.answers_total = std::max(m.answers_total, v.answers);
  m.answer_nets_total = std::max(m.answer_nets_total, v.answer_nets);
  m.ns_new_events = std::max(m.ns_new_events, v.ns_new_events);
  m.ns_changes = std::max(m.ns_changes, v.ns_changes);
  m.min_ttl_s = std::min(m.min_ttl_s, v.min_ttl_s);
  m.ns_min_ttl_s = std::min(m.ns_min_ttl_s, v.ns_min_ttl_s);
  m.max_answers = static_cast<std::uint16_t>(
      std::min<std::uint32_t>(UINT16_MAX, std::max<std::uint32_t>(m.max_answers, v.max_answers)));
  if (v.first_seen_s != 0) {
    m.first_seen_s =
        m.first_seen_s == 0 ? v.first_seen_s : std::min(m.first_seen_s, v.first_seen_s);
  }
  m.last_seen_s = std::max(m.last_seen_s, v.last_seen_s);
  // Distinct addresses ever: the HyperLogLog, never below what is known exactly.
  const std::uint32_t local_ever = local.first_answer_size + local.new_ips_after_first;
  const std::uint32_t ever =
      std::max({v.unique_ever, local_ever, static_cast<std::uint32_t>(m.ips.size())});
  if (v.first_answer_size != 0) {
    m.first_answer_size = v.first_answer_size;
  }
  m.new_ips_after_first = ever > m.first_answer_size ? ever - m.first_answer_size : 0;
  // The TTL median as the merged histogram's class; the local samples when they agree.
  std::uint64_t merged_total = 0;
  for (std::uint32_t x : v.ttl) {
    merged_total += x;
  }
  if (merged_total > 0) {
    const std::size_t c = median_class(v.ttl);
    std::vector<std::uint32_t> ttls(local.ttl_ring.begin(),
                                    local.ttl_ring.begin() + local.ttl_count);
    std::sort(ttls.begin(), ttls.end());
    if (ttls.empty() || ttl_class(ttls[ttls.size() / 2]) != c) {
      m.ttl_ring = {};
      m.ttl_ring[0] = kTtlClassValue[c];
      m.ttl_count = 1;
      m.ttl_pos = 1;
    }
  }
  for (const std::string& c : v.cname_targets) {
    if (m.cname_targets.size() < 4 &&
        std::find(m.cname_targets.begin(), m.cname_targets.end(), c) == m.cname_targets.end()) {
      m.cname_targets.push_back(c);
    }
  }
  return m;
}

void apply_delta(SharedView& v, std::vector<IpAddress>& ever, const NameDelta& d,
                 const SharedLimits& limits) {
  v.responses += d.responses;
  v.other_responses += d.other_responses;
  v.answers += d.answers;
  v.answer_nets += d.answer_nets;
  v.ns_new_events += d.ns_new_events;
  for (std::size_t c = 0; c < kTtlClasses; ++c) {
    v.ttl[c] += d.ttl[c];
  }
  if (d.first_seen_s != 0) {
    v.first_seen_s =
        v.first_seen_s == 0 ? d.first_seen_s : std::min(v.first_seen_s, d.first_seen_s);
  }
  v.min_ttl_s = std::min(v.min_ttl_s, d.min_ttl_s);
  v.ns_min_ttl_s = std::min(v.ns_min_ttl_s, d.ns_min_ttl_s);
  v.last_seen_s = std::max(v.last_seen_s, d.last_seen_s);
  v.max_answers = std::max(v.max_answers, d.max_answers);
  v.ns_changes = std::max(v.ns_changes, d.ns_changes);
  if (v.first_answer_size == 0) {
    v.first_answer_size = d.first_answer_size;
  }
  for (const std::string& c : d.cname_targets) {
    if (std::find(v.cname_targets.begin(), v.cname_targets.end(), c) == v.cname_targets.end()) {
      v.cname_targets.push_back(c);
    }
  }
  const std::uint32_t horizon =
      d.last_seen_s > limits.window_s ? d.last_seen_s - limits.window_s : 0;
  if (!d.ips.empty()) {
    for (const IpEntry& e : d.ips) {
      upsert(v.ips, e);
      if (std::find(ever.begin(), ever.end(), e.ip) == ever.end()) {
        ever.push_back(e.ip);
      }
    }
    trim(v.ips, horizon, limits.max_ips);
  }
  if (!d.ns_ips.empty()) {
    for (const IpEntry& e : d.ns_ips) {
      upsert(v.ns_ips, e);
    }
    trim(v.ns_ips, horizon, limits.max_ns);
  }
  v.unique_ever = static_cast<std::uint32_t>(ever.size());
}

}  // namespace gf::flux
