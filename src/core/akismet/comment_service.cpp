#include "core/akismet/comment_service.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/akismet/ids.hpp"
#include "core/akismet/keys.hpp"
#include "core/akismet/records.hpp"
#include "core/common/strings.hpp"
#include "core/common/time.hpp"
#include "core/history/rows.hpp"

namespace gf::akismet {
namespace {

Reputation reputation_of(const std::optional<std::string>& stored) {
  if (!stored) {
    return {};
  }
  auto r = decode_reputation(*stored);
  if (!r) {
    return {};
  }
  return Reputation{r->spam, r->ham};
}

// What a request counts as in the usage record: 0 check ham, 1 check spam, 2 submit-spam,
// 3 submit-ham.
std::string bump_usage(std::optional<std::string_view> cur, int what) {
  SiteUsage u;
  if (cur) {
    if (auto d = decode_usage(*cur)) {
      u = *d;
    }
  }
  ++u.api_calls;
  switch (what) {
    case 0:
      ++u.ham;
      break;
    case 1:
      ++u.spam;
      break;
    case 2:
      ++u.missed_spam;
      break;
    default:
      ++u.false_positives;
      break;
  }
  return encode_usage(u);
}

std::int64_t unix_s(WallTime t) {
  return std::chrono::floor<std::chrono::seconds>(t).time_since_epoch().count();
}

}  // namespace

CommentService::CommentService(const ServiceOptions& o, KvStore& kv, RandomSource& ids,
                               RandomSource& secrets, LogSink& log)
    : opts_(o),
      kv_(kv),
      ids_(ids),
      secrets_(secrets),
      log_(log),
      model_(o.model, kv, log),
      flood_(o.flood_texts) {}

Result<void> CommentService::load() { return model_.load(); }

Reply CommentService::handle(const ApiRequest& req, WallTime now) {
  Begun begun = route(req, now);
  if (auto* reply = std::get_if<Reply>(&begun)) {
    return std::move(*reply);
  }
  PendingCheck& p = *std::get<std::unique_ptr<PendingCheck>>(begun);
  return finish(p, kv_.get_many(p.reads));
}

CommentService::Begun CommentService::begin(const ApiRequest& req, WallTime now) {
  return route(req, now);
}

CommentService::Begun CommentService::route(const ApiRequest& req, WallTime now) {
  const Endpoint ep = endpoint_of(req.path);
  if (ep == Endpoint::Unknown) {
    return reply_http_error(404, "Not Found");
  }
  const bool get_ok = ep == Endpoint::KeySites || ep == Endpoint::UsageLimit ||
                      ep == Endpoint::GetSubscription || ep == Endpoint::GetStats ||
                      ep == Endpoint::Test;
  if (req.method != "POST" && !(get_ok && req.method == "GET")) {
    auto r = reply_http_error(405, "Method Not Allowed");
    r.headers.emplace_back("Allow", get_ok ? "GET, POST" : "POST");
    return r;
  }
  std::string joined;  // body and query together, only when there is a query
  if (!req.query.empty()) {
    joined = req.body.empty() ? std::string(req.query) : fmt::format("{}&{}", req.body, req.query);
  }
  const std::string_view text = req.query.empty() ? req.body : std::string_view(joined);
  auto form = decode_form(text, opts_.form);
  if (form && form->repaired && is_latin1_charset(form->get("blog_charset"))) {
    form = decode_form(text, opts_.form, true);
  }
  if (!form) {
    ++counters_.invalid;
    return reply_invalid("Could not decode the form body: " + form.error().message);
  }
  const std::int64_t now_s = unix_s(now);
  switch (ep) {
    case Endpoint::VerifyKey:
      return verify(*form, req, now_s);
    case Endpoint::CommentCheck:
      return begin_check(std::move(*form), req, now);
    case Endpoint::SubmitSpam:
      return submit(*form, req, true, now_s);
    case Endpoint::SubmitHam:
      return submit(*form, req, false, now_s);
    case Endpoint::KeySites:
      return key_sites(*form, req, now_s);
    case Endpoint::UsageLimit:
      return usage_report(*form, req, now_s, reply_usage_limit);
    case Endpoint::GetSubscription:
      return usage_report(*form, req, now_s, reply_subscription);
    case Endpoint::GetStats:
      return stats(*form, req, now_s);
    case Endpoint::Test:
      return reply_connected();
    case Endpoint::Deactivate:
      return deactivate(*form, req, now_s);
    case Endpoint::Unknown:
      break;
  }
  return reply_http_error(404, "Not Found");
}

std::optional<Reply> CommentService::refuse_bad_key(const std::string& key) {
  const std::string why = key_problem(key);
  if (why.empty()) {
    return std::nullopt;
  }
  ++counters_.invalid;
  return reply_invalid(why);
}

void CommentService::alert_usage(Reply& r, const std::string& key, std::int64_t now_s) {
  if (opts_.usage_limit == 0) {
    return;  // no limit: no scan on the hot path
  }
  if (auto usage = month_usage(key, now_s)) {
    add_usage_alert(r, opts_.usage_limit, *usage);
  } else {
    ++counters_.store_errors;
  }
}

Reply CommentService::verify(const Form& form, const ApiRequest& req, std::int64_t now_s) {
  const std::string key = key_of(form, req);
  if (auto refused = refuse_bad_key(key)) {
    return std::move(*refused);
  }
  if (form.get("blog").empty()) {
    ++counters_.invalid;
    return reply_invalid("Empty \"blog\" value");
  }
  Reply r = reply_valid();
  alert_usage(r, key, now_s);
  return r;
}

Reply CommentService::deactivate(const Form& form, const ApiRequest& req, std::int64_t now_s) {
  const std::string key = key_of(form, req);
  if (auto refused = refuse_bad_key(key)) {
    return std::move(*refused);
  }
  // Akismet releases the site's activation of the key; greyflux keys are not bound to a number
  // of sites, so there is nothing to release. The owner's action is logged, by blog: API keys
  // never reach the log, not even in part.
  log_.write(LogLevel::Info,
             fmt::format("deactivate blog={}", sanitize_line(form.get("blog"), 100)));
  Reply r = reply_deactivated();
  alert_usage(r, key, now_s);
  return r;
}

CommentService::Begun CommentService::begin_check(Form&& form, const ApiRequest& req,
                                                  WallTime now) {
  auto p = std::make_unique<PendingCheck>();
  p->key = key_of(form, req);
  if (p->key.empty() || !well_formed_key(p->key)) {
    ++counters_.invalid;
    return reply_invalid(key_record_problem(p->key, std::nullopt));
  }
  p->now = now;
  p->form = std::move(form);
  p->r = comment_from_form(p->form);
  p->a = analyze(p->r);
  const CommentRequest& r = p->r;
  const Analysis& a = p->a;
  const std::string& key = p->key;
  // One read of everything stored that this check needs: the key, then the reputation of the
  // IP, the e-mail, the author URL and link hosts (at most five), and the exact text.
  std::vector<std::string>& reads = p->reads;
  reads.reserve(9);
  reads.push_back(key::api_key(key));
  reads.push_back(key::ip(r.user_ip));
  reads.push_back(a.email.empty() ? std::string() : key::email(a.email));
  if (!a.author_url_host.empty()) {
    reads.push_back(key::url_host(a.author_url_host));
  }
  for (std::size_t i = 0; i < a.link_hosts.size() && reads.size() < 8; ++i) {
    reads.push_back(key::url_host(a.link_hosts[i]));
  }
  p->text_at = reads.size();
  if (a.text_hash != 0) {
    reads.push_back(key::text(a.text_hash));
  }
  return p;
}

Reply CommentService::finish(PendingCheck& p,
                             const Result<std::vector<std::optional<std::string>>>& read) {
  const WallTime now = p.now;
  const std::int64_t now_s = unix_s(now);
  const CommentRequest& r = p.r;
  const Analysis& a = p.a;
  const std::string& key = p.key;
  const std::size_t text_at = p.text_at;
  Form& form = p.form;
  const std::vector<std::string>& reads = p.reads;
  Result<std::vector<std::optional<std::string>>> stored = read;
  if (stored && stored->size() != p.reads.size()) {
    stored = fail(Errc::StoreFailure, "store answered a different number of keys");
  }
  const bool degraded = !stored;
  if (degraded) {
    ++counters_.store_errors;
    if (opts_.on_store_failure == OnStoreFailure::Retry) {
      ++counters_.invalid;
      return reply_invalid("Temporary store failure; please retry");
    }
    ++counters_.store_fallbacks;
    stored = std::vector<std::optional<std::string>>(reads.size());  // nothing known
  } else if (const std::string why = key_record_problem(key, (*stored)[0]); !why.empty()) {
    ++counters_.invalid;
    Reply refused = reply_invalid(why);
    if (why == kRevokedKey) {
      refused.headers.emplace_back("X-akismet-error", "revoked");
    }
    return refused;
  }
  if (auto missing = missing_required(Endpoint::CommentCheck, r)) {
    ++counters_.invalid;
    return reply_missing_field(*missing);
  }
  const std::string site = site_name(r.blog);
  Signals s = signals_of(r, a, *stored, text_at, site, now_s);
  const CommentModel::Scores scores = model_.score(r, site);
  s.text_probability = scores.text;
  s.site_probability = scores.site;
  Decision d = decide(r, a, s, opts_.decision);
  if (degraded) {
    d.symbols.push_back({"STORE_UNAVAILABLE", 0.0,
                         "store unavailable: key not verified, no reputation, check not stored"});
  }
  const std::string guid = make_guid(now.time_since_epoch().count(), ids_);

  CheckRecord rec;
  rec.kind = 'c';
  rec.time_s = now_s;
  rec.spam = d.spam;
  rec.discard = d.discard;
  rec.is_test = r.is_test;
  rec.score = d.score;
  rec.key = key;
  rec.reasons = format_symbols(d.symbols, 32);
  rec.fields = std::move(form.fields);
  std::string encoded = encode_check(rec);
  if (history_) {
    history_(history::comment_row(r, d, site, encoded, now_s));
  }
  const int what = d.spam ? 1 : 0;
  if (degraded) {
    // The store is down: nothing is written (the write would fail too).
  } else if (auto ok = kv_.put_and_update_later(
                 key::check(guid), std::move(encoded), key::usage(key, month_of(now_s), site),
                 [what](std::optional<std::string_view> cur) { return bump_usage(cur, what); });
             !ok) {
    ++counters_.store_errors;
  }
  ++counters_.checks;
  ++(d.spam ? counters_.spam : counters_.ham);
  if (log_.enabled(LogLevel::Debug)) {  // the arguments cost two copies per check
    log_.write(LogLevel::Debug,
               fmt::format("comment-check guid={} verdict={} score={:.2f} blog={} ip={} "
                           "reasons={}",
                           guid, d.spam ? "spam" : "ham", d.score, sanitize_line(r.blog, 100),
                           sanitize_line(r.user_ip, 64), rec.reasons));
  }
  if (!r.recheck_reason.empty() && log_.enabled(LogLevel::Info)) {
    // A recheck is the owner's action ("Check for Spam", a retry after an outage): rare, and
    // worth a line that names the stored check.
    log_.write(LogLevel::Info,
               fmt::format("comment-check recheck_reason={} guid={} verdict={} blog={}",
                           sanitize_line(r.recheck_reason, 40), guid, d.spam ? "spam" : "ham",
                           sanitize_line(r.blog, 100)));
  }
  Reply reply = reply_check(d, guid, rec.reasons);
  alert_usage(reply, key, now_s);
  return reply;
}

Signals CommentService::signals_of(const CommentRequest& r, const Analysis& a,
                                   const std::vector<std::optional<std::string>>& stored,
                                   std::size_t text_at, const std::string& site,
                                   std::int64_t now_s) {
  Signals s;
  s.now_s = now_s;
  s.ip = reputation_of(stored[1]);
  s.email = reputation_of(stored[2]);
  for (std::size_t i = 3; i < text_at; ++i) {
    const Reputation rep = reputation_of(stored[i]);
    if (rep.spam > s.url.spam || (s.url.spam == 0 && rep.ham > s.url.ham)) {
      s.url = rep;
    }
  }
  if (flux_lookup_) {
    if (const auto index = flux_lookup_(); index) {
      const auto flagged = [&](const std::string& h) {
        if (index->match_host(h) &&
            std::find(s.fast_flux_domains.begin(), s.fast_flux_domains.end(), h) ==
                s.fast_flux_domains.end()) {
          s.fast_flux_domains.push_back(h);
        }
      };
      if (!a.author_url_host.empty()) {
        flagged(a.author_url_host);
      }
      for (const std::string& h : a.link_hosts) {
        flagged(h);
      }
    }
  }
  if (a.text_hash != 0) {
    s.text = reputation_of(stored[text_at]);
    const std::uint64_t blog_hash = classify::hash_feature(site);
    std::lock_guard lock(flood_mu_);
    s.text_sites = r.is_test || !r.recheck_reason.empty()
                       ? flood_.count(a.text_hash, blog_hash, now_s)
                       : flood_.observe(a.text_hash, blog_hash, now_s);
  }
  return s;
}

Reply CommentService::submit(const Form& form, const ApiRequest& req, bool spam,
                             std::int64_t now_s) {
  const std::string key = key_of(form, req);
  if (auto refused = refuse_bad_key(key)) {
    return std::move(*refused);
  }
  const CommentRequest r = comment_from_form(form);
  if (auto missing = missing_required(spam ? Endpoint::SubmitSpam : Endpoint::SubmitHam, r)) {
    ++counters_.invalid;
    return reply_missing_field(*missing);
  }
  ++counters_.submits;
  count_usage(key, r.blog, now_s, spam ? 2 : 3);
  Reply thanks = reply_thanks();
  alert_usage(thanks, key, now_s);
  if (r.is_test) {
    return thanks;  // Akismet: is_test never trains
  }
  CheckRecord rec;
  rec.kind = spam ? 's' : 'h';
  rec.time_s = now_s;
  rec.spam = spam;
  rec.key = key;
  rec.fields = form.fields;
  if (auto ok = model_.learn(r, spam, encode_check(rec)); !ok) {
    ++counters_.store_errors;
    log_.write(LogLevel::Warn, fmt::format("akismet: cannot log feedback: {}", ok.error().message));
  }
  ++counters_.trained;
  add_reputations(r, spam, now_s);
  if (log_.enabled(LogLevel::Info)) {
    log_.write(LogLevel::Info,
               fmt::format("{} blog={} ip={} author={}", spam ? "submit-spam" : "submit-ham",
                           sanitize_line(r.blog, 100), sanitize_line(r.user_ip, 64),
                           sanitize_line(r.comment_author, 64)));
  }
  return thanks;
}

Result<void> CommentService::relearn(std::string_view payload, bool spam, std::int64_t now_s) {
  auto rec = decode_check(payload);
  if (!rec) {
    return tl::unexpected(rec.error());
  }
  Form form;
  form.fields = std::move(rec->fields);
  if (!form.has("api_key") && !form.has("key")) {
    form.fields.emplace_back("api_key", rec->key);  // the check's key came from the Host name
  }
  const ApiRequest req{"POST", spam ? "/1.1/submit-spam" : "/1.1/submit-ham", "", "", ""};
  const Reply r = submit(form, req, spam, now_s);
  if (r.body != kThanks) {
    return fail(Errc::InvalidInput,
                fmt::format("the comment API refused the {}: {}",
                            spam ? "submit-spam" : "submit-ham", sanitize_line(r.body, 200)));
  }
  return {};
}

void CommentService::add_reputations(const CommentRequest& r, bool spam, std::int64_t now_s) {
  const Analysis a = analyze(r);
  add_reputation(key::ip(r.user_ip), spam, now_s);
  if (!a.email.empty()) {
    add_reputation(key::email(a.email), spam, now_s);
  }
  if (!a.author_url_host.empty()) {
    add_reputation(key::url_host(a.author_url_host), spam, now_s);
  }
  if (a.link_hosts.size() <= 3) {
    for (const std::string& h : a.link_hosts) {
      add_reputation(key::url_host(h), spam, now_s);
    }
  }
  if (a.text_hash != 0) {
    add_reputation(key::text(a.text_hash), spam, now_s);
  }
}

void CommentService::add_reputation(const std::string& store_key, bool spam, std::int64_t now_s) {
  auto ok = kv_.update(store_key, [&](std::optional<std::string_view> cur) {
    ReputationRecord r;
    if (cur) {
      if (auto d = decode_reputation(*cur)) {
        r = *d;
      }
    }
    ++(spam ? r.spam : r.ham);
    r.last_s = now_s;
    return encode_reputation(r);
  });
  if (!ok) {
    ++counters_.store_errors;
  }
}

void CommentService::count_usage(const std::string& key, const std::string& blog,
                                 std::int64_t now_s, int what) {
  auto ok =
      kv_.update(key::usage(key, month_of(now_s), site_name(blog)),
                 [what](std::optional<std::string_view> cur) { return bump_usage(cur, what); });
  if (!ok) {
    ++counters_.store_errors;
  }
}

Reply CommentService::key_sites(const Form& form, const ApiRequest& req, std::int64_t now_s) {
  const std::string key = key_of(form, req);
  if (auto refused = refuse_bad_key(key)) {
    return std::move(*refused);
  }
  const KeySitesQuery q = key_sites_query(form, month_of(now_s));
  std::vector<SiteUsage> sites;
  const std::string prefix = key::usage_prefix(key, q.month);
  auto ok = kv_.scan(prefix, [&](std::string_view k, std::string_view v) {
    if (auto u = decode_usage(v)) {
      u->site = std::string(k.substr(prefix.size()));
      sites.push_back(std::move(*u));
    }
    return sites.size() < 100000;
  });
  if (!ok) {
    return reply_http_error(503, "Service Unavailable");
  }
  Reply r = reply_key_sites(q, key, std::move(sites));
  alert_usage(r, key, now_s);
  return r;
}

Reply CommentService::usage_report(const Form& form, const ApiRequest& req, std::int64_t now_s,
                                   UsageAnswer answer) {
  const std::string key = key_of(form, req);
  if (auto refused = refuse_bad_key(key)) {
    return std::move(*refused);
  }
  auto usage = month_usage(key, now_s);
  if (!usage) {
    return reply_http_error(503, "Service Unavailable");
  }
  Reply r = answer(opts_.usage_limit, *usage);
  add_usage_alert(r, opts_.usage_limit, *usage);
  return r;
}

Result<std::uint64_t> CommentService::month_usage(const std::string& key, std::int64_t now_s) {
  std::uint64_t usage = 0;
  auto ok =
      kv_.scan(key::usage_prefix(key, month_of(now_s)), [&](std::string_view, std::string_view v) {
        if (auto u = decode_usage(v)) {
          usage += u->api_calls;
        }
        return true;
      });
  if (!ok) {
    return tl::unexpected(ok.error());
  }
  return usage;
}

Reply CommentService::stats(const Form& form, const ApiRequest& req, std::int64_t now_s) {
  const std::string key = key_of(form, req);
  if (auto refused = refuse_bad_key(key)) {
    return std::move(*refused);
  }
  // Usage records are key::usage(key, month, site); "YYYY-MM" compares as text.
  const std::string first = stats_first_month(form.get("from"), now_s);
  const std::string site = site_name(form.get("blog"));
  const std::string prefix = key::usage_key_prefix(key);
  StatsTotals t;
  auto ok = kv_.scan(prefix, [&](std::string_view k, std::string_view v) {
    k.remove_prefix(prefix.size());
    const std::size_t sep = k.find(key::kUsageSeparator);
    if (sep == std::string_view::npos || k.substr(0, sep) < first || k.substr(sep + 1) != site) {
      return true;
    }
    if (auto u = decode_usage(v)) {
      t.spam += u->spam;
      t.ham += u->ham;
      t.missed_spam += u->missed_spam;
      t.false_positives += u->false_positives;
    }
    return true;
  });
  if (!ok) {
    return reply_http_error(503, "Service Unavailable");
  }
  Reply r = reply_stats(t);
  alert_usage(r, key, now_s);
  return r;
}

std::string CommentService::key_of(const Form& form, const ApiRequest& req) {
  if (const std::string* k = form.find("api_key"); k != nullptr && !k->empty()) {
    return *k;
  }
  if (const std::string* k = form.find("key"); k != nullptr && !k->empty()) {
    return *k;
  }
  return key_from_host(req.host);
}

std::string CommentService::key_problem(const std::string& key) {
  if (key.empty() || !well_formed_key(key)) {
    return key_record_problem(key, std::nullopt);
  }
  auto rec = kv_.get(key::api_key(key));
  if (!rec) {
    ++counters_.store_errors;
    return "Temporary store failure; please retry";
  }
  return key_record_problem(key, *rec);
}

std::string CommentService::key_record_problem(const std::string& key,
                                               const std::optional<std::string>& rec) {
  if (key.empty()) {
    return "Empty \"api_key\" value";
  }
  if (!well_formed_key(key)) {
    return "Invalid API key: keys are 12 letters or digits";
  }
  if (!rec) {
    return "Invalid API key. Create one with `greyflux keys add --blog URL`";
  }
  auto k = decode_key(*rec);
  if (!k) {
    return "Invalid API key";
  }
  if (k->revoked) {
    return std::string(kRevokedKey);
  }
  return {};
}

Result<std::string> CommentService::add_key(std::string_view blog, std::int64_t now_s) {
  if (trim_ws(blog).empty()) {
    return fail(Errc::InvalidInput, "keys add needs --blog URL");
  }
  for (int attempt = 0; attempt < 16; ++attempt) {
    const std::string key = make_api_key(secrets_);
    auto existing = kv_.get(key::api_key(key));
    if (!existing) {
      return tl::unexpected(existing.error());
    }
    if (*existing) {
      continue;
    }
    KeyRecord rec{std::string(trim_ws(blog)), now_s, false};
    if (auto ok = kv_.put(key::api_key(key), encode_key(rec)); !ok) {
      return tl::unexpected(ok.error());
    }
    if (auto ok = kv_.flush(); !ok) {
      return tl::unexpected(ok.error());
    }
    return key;
  }
  return fail(Errc::StoreFailure, "could not find an unused key");
}

Result<std::string> CommentService::list_keys() {
  std::string out = "key\tblog\tcreated\tstate\n";
  auto ok = kv_.scan(key::kApiKeyPrefix, [&](std::string_view k, std::string_view v) {
    if (auto rec = decode_key(v)) {
      out += fmt::format(
          "{}\t{}\t{}\t{}\n", k.substr(key::kApiKeyPrefix.size()), sanitize_line(rec->blog, 200),
          format_iso8601_utc(from_unix(rec->created_s)), rec->revoked ? "revoked" : "active");
    }
    return true;
  });
  if (!ok) {
    return tl::unexpected(ok.error());
  }
  return out;
}

Result<std::string> CommentService::get_existing(const std::string& store_key,
                                                 std::string missing) {
  auto v = kv_.get(store_key);
  if (!v) {
    return tl::unexpected(v.error());
  }
  if (!*v) {
    return fail(Errc::NotFound, std::move(missing));
  }
  return std::move(**v);
}

Result<void> CommentService::revoke_key(std::string_view key) {
  auto v = get_existing(key::api_key(key), fmt::format("no key {}", key));
  if (!v) {
    return tl::unexpected(v.error());
  }
  auto rec = decode_key(*v);
  if (!rec) {
    return tl::unexpected(rec.error());
  }
  rec->revoked = true;
  if (auto ok = kv_.put(key::api_key(key), encode_key(*rec)); !ok) {
    return ok;
  }
  return kv_.flush();
}

Result<std::string> CommentService::show_check(std::string_view guid) {
  auto v = get_existing(key::check(guid), fmt::format("no stored check {}", guid));
  if (!v) {
    return tl::unexpected(v.error());
  }
  auto rec = decode_check(*v);
  if (!rec) {
    return tl::unexpected(rec.error());
  }
  return check_to_json(guid, *rec) + "\n";
}

std::string CommentService::stats_text() const {
  std::string out;
  out += fmt::format("akismet.checks\t{}\n", counters_.checks.load());
  out += fmt::format("akismet.spam\t{}\n", counters_.spam.load());
  out += fmt::format("akismet.ham\t{}\n", counters_.ham.load());
  out += fmt::format("akismet.submits\t{}\n", counters_.submits.load());
  out += fmt::format("akismet.trained\t{}\n", counters_.trained.load());
  out += fmt::format("akismet.invalid\t{}\n", counters_.invalid.load());
  out += fmt::format("akismet.store_errors\t{}\n", counters_.store_errors.load());
  out += fmt::format("akismet.store_fallbacks\t{}\n", counters_.store_fallbacks.load());
  if (opts_.model.site_models) {
    out += fmt::format("akismet.site_models\t{}\n", model_.site_count());
  }
  if (opts_.model.shared) {
    const SharedLog::Stats st = model_.shared_stats();
    out += fmt::format(
        "akismet.shared_log.position\t{}\nakismet.shared_log.appended\t{}\n"
        "akismet.shared_log.applied\t{}\nakismet.shared_log.holes\t{}\n"
        "akismet.shared_log.lost\t{}\n",
        st.position, st.appended, st.applied, st.holes, st.lost);
  }
  return out;
}

}  // namespace gf::akismet
