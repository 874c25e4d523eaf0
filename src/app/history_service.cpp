#include "app/history_service.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <charconv>
#include <chrono>

#include "app/settings.hpp"
#include "core/akismet/form.hpp"
#include "core/akismet/keys.hpp"
#include "io/net/periodic_timer.hpp"

namespace gf::app {
namespace {

using history::Class;
using history::LearnProblem;

constexpr std::string_view kRowPrefix = akismet::key::kHistoryPrefix;
constexpr std::size_t kMaxIds = 1000;
constexpr std::size_t kDefaultLimit = 100;
constexpr std::size_t kMaxLimit = 1000;

std::string row_key(std::uint64_t id) { return fmt::format("{}{:016x}", kRowPrefix, id); }

std::int64_t wall_s() {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now())
      .time_since_epoch()
      .count();
}

io::HttpResponse json(int status, std::string body) {
  io::HttpResponse res;
  res.status = status;
  res.content_type = "application/json";
  res.body = std::move(body);
  return res;
}

io::HttpResponse error(int status, std::string_view code, std::string_view message,
                       std::string_view extra = "") {
  return json(status, fmt::format(R"({{"error":"{}","message":{}{}}})", code,
                                  history::json_quote(message), extra));
}

std::optional<std::uint64_t> parse_id(std::string_view s) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v == 0) {
    return std::nullopt;
  }
  return v;
}

int status_of(std::string_view reason) {
  if (reason == "unknown_id") {
    return 404;
  }
  if (reason == "expired") {
    return 410;
  }
  return 422;  // not_learnable, no_trainer, learn_failed
}

}  // namespace

history::Limits history_limits(const Values& v) {
  history::Limits l;
  l.max_rows = static_cast<std::size_t>(std::max<std::int64_t>(v.integer("history.size"), 1));
  l.relearn_retention_s =
      std::chrono::duration_cast<Seconds>(v.duration("history.relearn_retention")).count();
  l.max_feature_bytes = v.size("history.relearn_memory");
  return l;
}

std::unique_ptr<HistoryService> HistoryService::open(const Values& v) {
  std::unique_ptr<HistoryService> s(new HistoryService());
  s->enabled_ = v.integer("history.size") > 0 && !v.list("http.listen").empty();
  s->persist_ = v.boolean("history.persist");
  s->log_ = history::Log(history_limits(v), false);
  return s;
}

Result<void> HistoryService::attach_store(KvStore& kv, std::int64_t now_s) {
  if (!enabled_ || !persist_) {
    return {};
  }
  std::lock_guard lock(mu_);
  log_ = history::Log(log_.limits(), true);
  std::size_t bad = 0;
  std::size_t restored = 0;
  auto ok = kv.scan(kRowPrefix, [&](std::string_view, std::string_view value) {
    auto row = history::decode_row(value);
    if (!row) {
      ++bad;
    } else if (log_.restore(std::move(*row))) {
      ++restored;
    }
    return true;
  });
  if (!ok) {
    return tl::unexpected(Error{ok.error().code, "history: " + ok.error().message});
  }
  if (bad > 0) {
    spdlog::warn("history: skipped {} stored rows that could not be read", bad);
  }
  log_.expire(now_s);
  kv_ = &kv;
  spdlog::info("history: {} rows restored, next id {}", restored, log_.next_id());
  return {};
}

void HistoryService::detach_store() {
  stop();
  tick(wall_s());
  std::lock_guard lock(mu_);
  kv_ = nullptr;
}

HistoryService::~HistoryService() { stop(); }

void HistoryService::record(history::Row row) {
  if (!enabled_) {
    return;
  }
  std::lock_guard lock(mu_);
  log_.append(std::move(row));
}

void HistoryService::set_trainer(history::Door door, Trainer t) {
  trainers_[static_cast<std::size_t>(door)] = std::move(t);
}

void HistoryService::start() {
  timer_ = std::make_unique<io::PeriodicTimer>(writer_ioc_, std::chrono::seconds(1),
                                               [this] { tick(wall_s()); });
  timer_->start();
  writer_ = std::thread([this] { writer_ioc_.run(); });  // returns once the timer is stopped
}

void HistoryService::stop() {
  if (timer_) {
    timer_->stop();
  }
  if (writer_.joinable()) {
    writer_.join();
  }
}

void HistoryService::reload(const Values& v) {
  std::lock_guard lock(mu_);
  log_.set_limits(history_limits(v));
}

void HistoryService::tick(std::int64_t now_s) {
  constexpr std::size_t kBatchRows = 1000;
  bool failed = false;
  for (bool first = true;; first = false) {
    history::Changes c;
    KvStore* kv = nullptr;
    {
      std::lock_guard lock(mu_);
      if (first) {
        log_.expire(now_s);
      }
      if (kv_ == nullptr) {
        return;
      }
      kv = kv_;
      c = log_.take_changes(kBatchRows);
    }
    if (c.put.empty() && c.erase.empty()) {
      return;
    }
    if (failed) {  // the store is down: the rest of this tick's rows are not tried either
      store_errors_ += c.put.size() + c.erase.size();
      continue;
    }
    failed = !persist(*kv, std::move(c));
  }
}

// The first failed write means the store is down (Redis unreachable, LMDB full): the rest of
// the batch is counted as failed without being tried, instead of each failing with its own
// error text (a tick after a Redis kill held 7,000-16,000 rows). False when a write failed.
bool HistoryService::persist(KvStore& kv, history::Changes&& c) {
  const std::size_t total = c.put.size() + c.erase.size();
  std::size_t tried = 0;
  std::string error;
  for (const history::Row& r : c.put) {
    ++tried;
    if (auto ok = kv.put(row_key(r.id), history::encode_row(r)); !ok) {
      error = ok.error().message;
      break;
    }
  }
  for (std::size_t i = 0; error.empty() && i < c.erase.size(); ++i) {
    ++tried;
    if (auto ok = kv.erase(row_key(c.erase[i])); !ok) {
      error = ok.error().message;
    }
  }
  if (!error.empty()) {
    const std::size_t failed = total - tried + 1;
    store_errors_ += failed;
    spdlog::warn("history: {} store writes failed ({} not tried after the first failure): {}",
                 failed, total - tried, error);
  }
  return error.empty();
}

io::HttpResponse HistoryService::handle(const io::HttpRequest& r) {
  if (r.path == "/api/v1/history") {
    if (r.method != "GET") {
      return error(405, "method", "use GET");
    }
    return list(r);
  }
  const std::string_view rest =
      std::string_view(r.path).substr(std::string_view("/api/v1/history/").size());
  if (rest == "learn") {
    if (r.method != "POST") {
      return error(405, "method", "use POST with {\"ids\":[...],\"class\":\"spam\"|\"ham\"}");
    }
    return learn(r);
  }
  if (r.method != "GET") {
    return error(405, "method", "use GET");
  }
  return one(rest);
}

io::HttpResponse HistoryService::list(const io::HttpRequest& r) {
  auto form = akismet::decode_form(r.query);
  if (!form) {
    return error(400, "bad_query", form.error().message);
  }
  history::Filter f;
  if (const std::string* d = form->find("door"); d != nullptr && !d->empty()) {
    f.door = history::parse_door(*d);
    if (!f.door) {
      return error(400, "bad_door", "door is one of greylist, comments, mail, flux");
    }
  }
  f.verdict = form->get("verdict");
  f.symbol = form->get("symbol");
  f.site = form->get("site");
  f.client = form->get("client");
  f.sender = form->get("sender");
  std::size_t limit = kDefaultLimit;
  if (const std::string* l = form->find("limit"); l != nullptr && !l->empty()) {
    auto n = parse_id(*l);
    if (!n || *n > kMaxLimit) {
      return error(400, "bad_limit", fmt::format("limit is 1 to {}", kMaxLimit));
    }
    limit = static_cast<std::size_t>(*n);
  }
  std::optional<std::uint64_t> before;
  if (const std::string* b = form->find("before"); b != nullptr && !b->empty()) {
    before = parse_id(*b);
    if (!before) {
      return error(400, "bad_before", "before is a row id (a positive integer)");
    }
  }
  history::Page page;
  {
    std::lock_guard lock(mu_);
    page = log_.query(f, limit, before);
  }
  std::string body = R"({"rows":[)";
  for (std::size_t i = 0; i < page.rows.size(); ++i) {
    if (i > 0) {
      body += ',';
    }
    body += history::row_to_json(page.rows[i], page.learnable[i]);
  }
  body += fmt::format(R"(],"next":{}}})", page.next ? std::to_string(*page.next) : "null");
  return json(200, std::move(body));
}

io::HttpResponse HistoryService::one(std::string_view id_text) {
  const auto id = parse_id(id_text);
  if (!id) {
    return error(400, "bad_id", "a history row id is a positive integer");
  }
  bool learnable = false;
  std::optional<history::Row> row;
  {
    std::lock_guard lock(mu_);
    row = log_.find(*id, &learnable);
  }
  if (!row) {
    return error(404, "unknown_id",
                 fmt::format("no history row {} (never logged, or evicted)", *id));
  }
  return json(200, history::row_to_json(*row, learnable));
}

io::HttpResponse HistoryService::learn(const io::HttpRequest& r) {
  boost::system::error_code ec;
  const boost::json::value body = boost::json::parse(r.body, ec);
  if (ec || !body.is_object()) {
    return error(400, "bad_json", R"(the body is {"ids":[...],"class":"spam"|"ham"})");
  }
  const boost::json::object& o = body.as_object();
  const boost::json::value* cls_v = o.if_contains("class");
  std::optional<Class> cls;
  if (cls_v != nullptr && cls_v->is_string()) {
    cls = history::parse_class(std::string_view(cls_v->as_string()));
  }
  if (!cls) {
    return error(400, "bad_class", R"("class" is "spam" or "ham")");
  }
  const boost::json::value* ids_v = o.if_contains("ids");
  if (ids_v == nullptr || !ids_v->is_array() || ids_v->as_array().empty() ||
      ids_v->as_array().size() > kMaxIds) {
    return error(400, "bad_ids", fmt::format(R"("ids" is an array of 1 to {} row ids)", kMaxIds));
  }
  std::vector<std::uint64_t> ids;
  for (const boost::json::value& x : ids_v->as_array()) {
    std::uint64_t id = 0;
    if (x.is_int64() && x.as_int64() > 0) {
      id = static_cast<std::uint64_t>(x.as_int64());
    } else if (x.is_uint64() && x.as_uint64() > 0) {
      id = x.as_uint64();
    } else {
      return error(400, "bad_ids", "every id is a positive integer");
    }
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) {
      ids.push_back(id);
    }
  }
  const bool spam = *cls == Class::Spam;
  std::size_t learned = 0;
  std::vector<std::pair<std::uint64_t, std::string>> skipped;
  std::string first_message;
  std::lock_guard serial(learn_mu_);
  for (const std::uint64_t id : ids) {
    history::LearnInput in;
    {
      std::lock_guard lock(mu_);
      in = log_.learnable(id, *cls);
    }
    if (in.problem != LearnProblem::None) {
      skipped.emplace_back(id, std::string(history::to_string(in.problem)));
      continue;
    }
    const Trainer& train = trainers_[static_cast<std::size_t>(in.row.door)];
    if (!train) {
      skipped.emplace_back(id, "no_trainer");
      continue;
    }
    auto ok = train(in.row.features, spam);
    if (!ok) {
      skipped.emplace_back(id, "learn_failed");
      if (first_message.empty()) {
        first_message = ok.error().message;
      }
      continue;
    }
    {
      std::lock_guard lock(mu_);
      log_.mark_learned(id, *cls);
    }
    if (*ok) {
      ++learned;
    } else {
      skipped.emplace_back(id, "already_learned");  // the model had it as this class already
    }
    spdlog::info("history: relearned row {} ({}) as {}{}", id, history::to_string(in.row.door),
                 history::to_string(*cls), *ok ? "" : " (already learned)");
  }
  std::string list;
  for (const auto& [id, reason] : skipped) {
    list += fmt::format(R"({}{{"id":{},"reason":"{}"}})", list.empty() ? "" : ",", id, reason);
  }
  const bool all_refused =
      learned == 0 && std::all_of(skipped.begin(), skipped.end(),
                                  [](const auto& s) { return s.second != "already_learned"; });
  if (all_refused && !skipped.empty()) {
    const std::string& reason = skipped.front().second;
    const std::string message =
        !first_message.empty() ? first_message
        : reason == "unknown_id"
            ? fmt::format("no history row {} (never logged, or evicted)", skipped.front().first)
        : reason == "expired"
            ? fmt::format(
                  "row {}: what relearning needs was dropped after history.relearn_retention",
                  skipped.front().first)
            : fmt::format("row {}: its front door keeps nothing to learn from",
                          skipped.front().first);
    return error(status_of(reason), reason, message,
                 fmt::format(R"(,"learned":0,"skipped":[{}])", list));
  }
  return json(200, fmt::format(R"({{"learned":{},"skipped":[{}]}})", learned, list));
}

}  // namespace gf::app
