#include "app/settings.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "core/common/check.hpp"
#include "core/common/strings.hpp"
#include "gf_paths.hpp"

namespace gf::app {

const std::vector<SettingDef>& settings_table() {
  using T = SettingType;
  static const std::vector<SettingDef> kTable = {
      {"daemon.data_dir", T::String, GF_DEFAULT_DATA_DIR, false,
       "directory of all state: the relative paths of store.path, akismet.store_path, "
       "spamd.model, admin.socket, flux.dnstap_socket and flux.rpz_path are under it; created "
       "(mode 0750) if missing. A relative "
       "data_dir is taken from the working directory at start-up (`make run` uses ./var)"},
      {"daemon.user", T::String, "", false,
       "serve started as root: the user it drops to once its listeners and files are open "
       "(setgroups, setgid, setuid, no capabilities left, no_new_privs); it chowns data_dir to "
       "that user. Started as root with none it refuses to run; \"root\" keeps root. Ignored "
       "when started as another user (systemd's User=)"},
      {"daemon.group", T::String, "", false,
       "group for daemon.user; empty = that user's primary group"},
      {"store.backend", T::String, "lmdb", false,
       "where greylist and comment state lives: \"lmdb\" (durable, embedded), \"redis\" "
       "(shared by every greyflux on the same Redis) or \"memory\" (greylist only, lost on "
       "exit)"},
      {"store.redis_url", T::String, "redis://127.0.0.1:6379/0", false,
       "backend \"redis\": redis://[user:password@]HOST[:PORT][/DB] or unix:/path[?db=N]"},
      {"store.redis_timeout", T::Duration, "50ms", false,
       "backend \"redis\": longest wait for one round trip; then the request gets the "
       "store-failure answer (policy.on_store_failure; comment checks fall back to heuristics)"},
      {"store.redis_connect_timeout", T::Duration, "500ms", false,
       "backend \"redis\": longest wait for a connection and its AUTH/SELECT; reconnects back "
       "off from 50ms to 2s"},
      {"store.redis_pool_size", T::Integer, "1", false,
       "backend \"redis\": connections to Redis (keys spread over them by hash), 1 to 64"},
      {"store.cluster", T::Bool, "false", false,
       "backend \"redis\": redis_url is one node of a Redis Cluster; keys are routed to the "
       "master of their slot (MOVED/ASK followed, the slot map re-read every 2s and after a "
       "redirect); the URL's DB must be 0, redis_pool_size is ignored (one connection per "
       "node)"},
      {"store.redis_prefix", T::String, "gf:", false,
       "backend \"redis\": prefix of every key (greylist under PREFIX g:, comment API under "
       "PREFIX a:), so one Redis can hold several deployments"},
      {"store.model_sync_interval", T::Duration, "5s", false,
       "backend \"redis\": how often each node trains its local copy of the comment and mail "
       "models on the feedback (submit-spam/ham, TELL) other nodes logged in the shared training "
       "log; a poll with nothing new is one GET. Scans never wait for it"},
      {"store.path", T::StatePath, "greyflux.lmdb", false,
       "LMDB directory (created if missing); relative = under daemon.data_dir"},
      {"store.commit_interval", T::Duration, "100ms", false,
       "group commit period: at most this much of the newest writes (plus the commit in flight) "
       "is lost on a power loss; a killed process loses none with store.journal"},
      {"store.map_size", T::Size, "1GiB", false, "largest size the LMDB file may grow to"},
      {"store.sync", T::Bool, "true", false,
       "fsync every group commit (false survives a process crash, not a power loss)"},
      {"store.journal", T::Bool, "true", false,
       "LMDB stores: append each write to a journal file beside the store before its reply is "
       "sent (one write() per batch of replies, no fsync), so kill -9 loses no acknowledged "
       "write; a power loss still loses up to commit_interval plus the commit in flight"},
      {"policy.listen", T::StringList, "[\"127.0.0.1:10023\"]", false,
       "Postfix policy listeners: \"HOST:PORT\", \"[::1]:PORT\" or \"unix:PATH\""},
      {"policy.max_request", T::Size, "64KiB", false,
       "largest policy request; a longer one closes that connection"},
      {"policy.max_attributes", T::Integer, "256", false,
       "most attributes in one request; more closes that connection"},
      {"policy.idle_timeout", T::Duration, "10m", false,
       "close a policy connection idle this long (Postfix's own idle limit is 300s), or whose "
       "request has not arrived in full this long after its first byte"},
      {"policy.max_connections", T::Integer, "10000", false,
       "open policy connections at most; further ones are closed at once"},
      {"policy.threads", T::Integer, "0", false, "network threads; 0 = one per core"},
      {"policy.on_store_failure", T::String, "dunno", true,
       "answer when the store fails: \"dunno\" (let mail through) or \"defer\" (tempfail)"},
      {"greylist.delay", T::Duration, "300s", true, "how long a new triplet is deferred"},
      {"greylist.retry_window", T::Duration, "2d", true,
       "a first retry later than this after the first attempt starts over"},
      {"greylist.max_age", T::Duration, "35d", true,
       "passed triplets and auto-whitelist entries expire after this long unused"},
      {"greylist.ipv4_prefix", T::Integer, "24", true, "IPv4 client network prefix length"},
      {"greylist.ipv6_prefix", T::Integer, "64", true, "IPv6 client network prefix length"},
      {"greylist.auto_whitelist_after", T::Integer, "5", true,
       "client networks that passed this many times (counted once an hour) skip greylisting; "
       "0 disables"},
      {"greylist.domain_auto_whitelist_after", T::Integer, "2", true,
       "a (sender domain, client network) from which this many distinct senders passed skips "
       "greylisting; 0 disables"},
      {"greylist.pooled_senders", T::Bool, "true", true,
       "a retry from another host of the same provider (verified client name, same registrable "
       "domain) counts as the same sender"},
      {"greylist.whitelist_clients", T::StringList, "[]", true,
       "postgrey-format client whitelist files (a missing *.local file is skipped)"},
      {"greylist.whitelist_recipients", T::StringList, "[]", true,
       "postgrey-format recipient whitelist files (a missing *.local file is skipped)"},
      {"greylist.action", T::String, "DEFER_IF_PERMIT", true, "Postfix action for a deferral"},
      {"greylist.flux_agents", T::String, "defer", true,
       "clients the fast-flux detector saw serving a flux name (infected hosts): \"defer\" = "
       "always greylisted, never passed by retrying or auto-whitelisted; \"reject\" = 554 "
       "reject; \"off\". Whitelists still apply. Needs a [flux] source"},
      {"greylist.text", T::String, "Greylisted, try again in %s seconds", true,
       "deferral text: %s = seconds left, %r = recipient domain"},
      {"greylist.header", T::String, "X-Greylist: delayed %t seconds by greyflux-%v at %h; %d",
       true, "header prepended on the first pass: %t seconds, %v version, %h host, %d date"},
      {"greylist.hostname", T::String, "", true, "host name in the header; empty = this host"},
      {"greylist.mode", T::String, "always", true,
       "how the milter greylists: \"always\" = every new triplet at RCPT, as the policy server; "
       "\"suspicious\" = only messages scoring in [milter.grey_min, milter.grey_max), at end "
       "of message; \"off\". The policy server always greylists"},
      {"http.listen", T::StringList, "[\"127.0.0.1:8080\"]", false,
       "Akismet-compatible comment API listeners: \"HOST:PORT\" or \"[::1]:PORT\"; [] = off"},
      {"http.max_body", T::Size, "2MiB", false,
       "largest request body; a larger one is answered 413 and the connection closed"},
      {"http.idle_timeout", T::Duration, "60s", false,
       "close a keep-alive HTTP connection that sends nothing for this long"},
      {"http.request_timeout", T::Duration, "10s", false,
       "a request must arrive in full within this (slow clients get 408)"},
      {"http.max_connections", T::Integer, "10000", false,
       "open HTTP connections at most; further ones are closed at once"},
      {"http.metrics", T::Bool, "true", false,
       "serve GET /metrics (Prometheus text, no login: keep http.listen on loopback or filter "
       "it); /healthz and /readyz are always served"},
      {"akismet.on_store_failure", T::String, "heuristics", false,
       "comment-check when the store cannot be read (Redis down): \"heuristics\" (decide from "
       "the comment alone, key unverified, nothing stored, X-Greyflux-Reasons says "
       "STORE_UNAVAILABLE) or \"retry\" (Akismet's invalid, asking the client to retry)"},
      {"akismet.store_path", T::StatePath, "akismet.lmdb", false,
       "LMDB directory of the comment API: keys, usage, reputation, stored checks, model; "
       "relative = under daemon.data_dir"},
      {"akismet.map_size", T::Size, "4GiB", false, "largest size that LMDB file may grow to"},
      {"akismet.check_retention", T::Duration, "30d", false,
       "stored checks (guid, verdict, reasons, fields) are kept this long"},
      {"akismet.max_checks", T::Integer, "1000000", false,
       "stored checks kept at most (the oldest go first); also bounds the training log"},
      {"akismet.usage_limit", T::Integer, "0", false,
       "API calls per key and month reported by usage-limit; 0 = none"},
      {"akismet.min_training", T::Integer, "10", false,
       "spam and ham reports each before the text classifier has a say (heuristics only before)"},
      {"akismet.model_save_interval", T::Duration, "30s", false,
       "how often the learned model is written to the store (feedback is logged at once)"},
      {"akismet.model_save_records", T::Integer, "10000", false,
       "write the learned model before model_save_interval once this many feedback reports are "
       "not in it, which bounds the training-log replay at start"},
      {"akismet.site_models", T::Bool, "false", false,
       "also train a text model per site (blog) from its own feedback and combine it with the "
       "deployment model (docs/akismet.md)"},
      {"akismet.spam_threshold", T::String, "0.0", false,
       "a comment is spam when its decision score (log-odds, the sum of the symbols in "
       "X-Greyflux-Reasons) is above this; lower catches more spam and flags more real comments "
       "(docs/akismet.md has the measured trade-off)"},
      {"akismet.max_site_models", T::Integer, "1000", false,
       "sites with a model of their own at most (up to 512 KiB each); later sites use the "
       "deployment model alone"},
      {"akismet.flood_texts", T::Integer, "200000", false,
       "distinct comment texts the flood evidence (TEXT_ON_MANY_SITES) remembers at most, about "
       "80 bytes each (16 MiB at the default); beyond it the older half is forgotten"},
      {"spamd.listen", T::StringList, "[]", false,
       "spamd-protocol (spamc) listeners: \"127.0.0.1:783\", \"[::1]:783\" or \"unix:PATH\"; "
       "empty = the mail scanner is off"},
      {"spamd.model", T::StatePath, "greyflux-mail.model", false,
       "mail model file (learned by TELL and `greyflux learn`; created when first saved); "
       "relative = under daemon.data_dir"},
      {"spamd.required_score", T::String, "5.0", true,
       "score at which a message is spam (Spam: True, X-Spam-Flag: YES)"},
      {"spamd.reject_score", T::String, "15.0", true,
       "score at which X-Spam-Action says \"reject\" (between the two: \"add header\")"},
      {"spamd.bayes_00", T::String, "-2.0", true,
       "points of BAYES_00: the mail model's P(spam) is 0-1% (P with the training class ratio "
       "taken out). The BAYES_* points set the P from which the model alone reaches "
       "required_score: 80% by default; 60% with bayes_60 = 5.0 (more spam caught, more false "
       "positives; docs/mail-scanner.md)"},
      {"spamd.bayes_05", T::String, "-1.0", true,
       "points of BAYES_05: the mail model's P(spam) is 1-5%"},
      {"spamd.bayes_20", T::String, "0.0", true,
       "points of BAYES_20: the mail model's P(spam) is 5-20%"},
      {"spamd.bayes_40", T::String, "0.5", true,
       "points of BAYES_40: the mail model's P(spam) is 20-40%"},
      {"spamd.bayes_50", T::String, "2.0", true,
       "points of BAYES_50: the mail model's P(spam) is 40-60%"},
      {"spamd.bayes_60", T::String, "4.0", true,
       "points of BAYES_60: the mail model's P(spam) is 60-80%"},
      {"spamd.bayes_80", T::String, "6.0", true,
       "points of BAYES_80: the mail model's P(spam) is 80-95%"},
      {"spamd.bayes_95", T::String, "6.5", true,
       "points of BAYES_95: the mail model's P(spam) is 95-99%"},
      {"spamd.bayes_99", T::String, "7.0", true,
       "points of BAYES_99: the mail model's P(spam) is 99-99.9%"},
      {"spamd.bayes_999", T::String, "8.0", true,
       "points of BAYES_999: the mail model's P(spam) is 99.9-100%"},
      {"spamd.engine", T::String, "blend", false,
       "mail model: \"logistic\", \"fisher\" or \"blend\" (a new model only; a saved one keeps "
       "its own)"},
      {"spamd.flux_rpz", T::String, "", true,
       "RPZ zone written by the fast-flux detector (greyflux flux scan); a URI under one of its "
       "names fires URI_FLUX, and without a [flux] source its rpz-ip addresses are the flux agents "
       "of "
       "greylist.flux_agents. Empty = off; re-read on SIGHUP"},
      {"spamd.allow_tell", T::Bool, "true", true,
       "accept TELL (spamc -L/-C) learning requests from every client of the listeners"},
      {"spamd.auto_learn", T::Bool, "false", true,
       "learn, while scanning, the messages the mail model is sure about (SpamAssassin's "
       "bayes_auto_learn): both of its engines at P <= 0.10 or >= 0.90 with the training ratio "
       "taken out, no other symbol against it, and only the class learned less so far; they go "
       "into the word counts only. Off by default: it more than halves the missed spam of a "
       "model taught 50 hams to a spam but lets 0.6% of the ham through (docs/mail-scanner.md "
       "\"Auto-learning\")"},
      {"spamd.max_message", T::Size, "10MiB", true,
       "largest message (after zlib inflation); bigger gets an EX_DATAERR reply"},
      {"spamd.max_buffered", T::Size, "256MiB", false,
       "request bytes held over all spamd connections at most; beyond it a connection gets "
       "EX_TEMPFAIL (75) and is closed"},
      {"spamd.timeout", T::Duration, "30s", false,
       "close a spamd connection that sends nothing for this long, or whose request has not "
       "arrived in full this long after its first byte"},
      {"spamd.max_connections", T::Integer, "1000", false,
       "open spamd connections at most; further ones are closed at once"},
      {"spamd.save_interval", T::Duration, "60s", false,
       "save the learned mail model this often when it changed (and at shutdown)"},
      {"spamd.shared_log_records", T::Integer, "10000", false,
       "[store] backend \"redis\": TELLs the shared mail training log keeps (a ring; 0.7-5 KB "
       "each for a typical mail); a node that starts, or was cut off, learns what it still holds"},
      {"spamd.journal", T::StatePath, "greyflux-mail.journal", false,
       "LMDB directory of the TELLs the model file does not hold yet: each TELL is in the "
       "store's next group commit (store.commit_interval), so a crash loses no more TELLs than "
       "greylist writes; replayed at start. Empty = off (a crash loses the TELLs since the last "
       "save)"},
      {"spamd.journal_max", T::Integer, "10000", false,
       "save the model before save_interval once this many TELLs are journaled, which bounds "
       "the replay at start"},
      {"milter.listen", T::StringList, "[]", false,
       "milter listeners for Postfix smtpd_milters / Sendmail INPUT_MAIL_FILTER: "
       "\"127.0.0.1:11332\", \"[::1]:11332\" or \"unix:PATH\"; empty = off. Uses the mail "
       "scanner ([spamd] model and scores) and the greylist store (docs/milter.md)"},
      {"milter.timeout", T::Duration, "10m", false,
       "close a milter connection that sends nothing for this long, or whose packet has not "
       "arrived in full this long after its first byte"},
      {"milter.max_connections", T::Integer, "1000", false,
       "open milter connections at most; further ones are closed at once"},
      {"milter.max_packet", T::Size, "1MiB", false,
       "largest milter packet; a longer one closes that connection (Postfix sends <= 64 KiB)"},
      {"milter.max_message", T::Size, "64MiB", false,
       "largest message (envelope, headers, body); bigger is refused with 552 5.3.4"},
      {"milter.max_scan", T::Size, "10MiB", true,
       "messages up to this size are kept and scanned; bigger ones pass unscanned (counted)"},
      {"milter.over_reject", T::String, "reject", true,
       "at or over spamd.reject_score: \"reject\" (550 5.7.1), \"quarantine\" (Postfix hold "
       "queue, with the X-Spam headers) or \"discard\""},
      {"milter.on_failure", T::String, "accept", true,
       "when the scanner or the greylist store fails: \"accept\" (let the mail through) or "
       "\"tempfail\" (451 4.3.0); counted either way"},
      {"milter.grey_min", T::String, "2.0", true,
       "greylist.mode = \"suspicious\": a message scoring at least this (and under "
       "milter.grey_max) is greylisted at end of message"},
      {"milter.grey_max", T::String, "15.0", true,
       "upper end (excluded) of the suspicious band; at or over spamd.reject_score rejects first"},
      {"admin.socket", T::StatePath, "greyflux.sock", false,
       "unix socket of the admin commands (greyflux greylist/whitelist/stats); relative = "
       "under daemon.data_dir; empty = none"},
      {"admin.group", T::String, "", false,
       "group of the admin socket, which is mode 0660 (owner and this group may run admin "
       "commands); empty = the daemon's own group (greyflux under the systemd unit)"},
      {"admin.max_connections", T::Integer, "64", false,
       "open admin connections at most; further ones are closed at once"},
      {"admin.timeout", T::Duration, "30s", false,
       "close an admin connection that sends nothing for this long, or whose command has not "
       "arrived in full this long after its first byte"},
      {"admin.session_lifetime", T::Duration, "12h", false,
       "the admin API's login session (dashboard cookie gf_session) ends this long after login"},
      {"admin.login_burst", T::Integer, "10", false,
       "failed admin-token attempts (login or bearer) one peer address may make at once; then "
       "one more a minute, others answered 429"},
      {"admin.login_global_burst", T::Integer, "100", false,
       "failed admin-token attempts from all addresses together at once; then one more a "
       "second, others answered 429"},
      {"admin.max_list_rows", T::Integer, "100000", false,
       "`greyflux greylist list` and `show` print at most this many rows (the daemon builds the "
       "reply in memory); more matching rows: the first ones, a note on stderr, exit status 3"},
      {"admin.secure_cookie", T::Bool, "false", false,
       "mark the session cookie Secure: set it when a TLS proxy fronts the [http] listener "
       "(a request with X-Forwarded-Proto: https gets Secure anyway)"},
      {"history.size", T::Integer, "100000", true,
       "decisions kept in the history (every front door; GET /api/v1/history on the [http] "
       "listener, so no history when http.listen is empty), the oldest go first; 0 = none"},
      {"history.relearn_retention", T::Duration, "7d", true,
       "what relearning a comment or mail needs (the comment's form fields; the message's "
       "feature hashes, never its body) is kept this long, then dropped (docs/history.md)"},
      {"history.relearn_memory", T::Size, "256MiB", true,
       "the relearn data of all rows together at most; beyond it the oldest is dropped first"},
      {"history.persist", T::Bool, "true", false,
       "keep the history (with its relearn data) across restarts, in the comment API's store "
       "(akismet.store_path, or Redis with store.backend = \"redis\")"},
      {"log.level", T::String, "info", true,
       "trace, debug, info (one line per decision), warn, error, off"},
      {"log.file", T::String, "", false, "log file; empty = standard error"},
      {"flux.asn_db", T::String, "", false,
       "ASN data for the flux detector: iptoasn TSV or .mmdb (GeoLite2-ASN, DB-IP lite); "
       "empty = /16 networks stand in and verdicts say \"approximate\""},
      {"flux.geoip_db", T::String, "/usr/share/GeoIP/GeoIP.dat", false,
       "country data for the flux detector when flux.asn_db is empty: the legacy GeoIP country "
       "database (Debian package geoip-database; GeoIPv6.dat beside it is read too); addresses "
       "all in one country do not count as many networks (docs/flux.md); a missing file = "
       "no country data; empty = off"},
      {"flux.allowlist", T::DataFile, "flux-allowlist.txt", false,
       "benign fluxy suffixes (CDNs, NTP pool, mail providers); relative = shipped with "
       "greyflux (share/greyflux); a missing file is an error; empty = none"},
      {"flux.window", T::Duration, "6h", false, "flux features look back this far"},
      {"flux.idle_evict", T::Duration, "12h", false, "names unseen this long are forgotten"},
      {"flux.verdict_ttl", T::Duration, "7d", false,
       "a flux verdict is held this long after the name was last seen fluxing (docs/flux.md)"},
      {"flux.max_names", T::Integer, "1000000", false,
       "names tracked at most (the stalest eighth is dropped when full)"},
      {"flux.rpz_origin", T::String, "rpz.greyflux.local", false, "origin of the written RPZ"},
      {"flux.resolver", T::String, "", false,
       "flux check forwards to this resolver (\"127.0.0.1@53\"); empty = full recursion"},
      {"flux.check_rounds", T::Integer, "3", false, "flux check: lookups of each name"},
      {"flux.dnstap_socket", T::StatePath, "", false,
       "serve: collect dnstap on this unix socket (Unbound dnstap-socket-path); relative = "
       "under daemon.data_dir; empty = off"},
      {"flux.interface", T::String, "", false,
       "serve: capture DNS (port 53) live on this interface; empty = off"},
      {"flux.rpz_path", T::StatePath, "", false,
       "serve: rewrite this response policy zone with the flagged names; relative = under "
       "daemon.data_dir; empty = none"},
      {"flux.rpz_interval", T::Duration, "60s", false, "serve: how often the RPZ is rewritten"},
      {"flux.rpz_ip", T::Bool, "false", false,
       "serve: add rpz-ip rules for agent addresses to the RPZ"},
      {"flux.shared", T::Bool, "false", false,
       "serve: add this node's per-name flux observations to those of the other greyflux "
       "instances in the Redis of store.redis_url (store.cluster, store.redis_prefix; any "
       "store.backend) and judge names on the merged state (docs/redis.md)"},
      {"flux.check_max_wait", T::Duration, "10m", false,
       "flux check: longest wait between rounds (TTL + 1 s otherwise)"},
  };
  return kTable;
}

const SettingDef* find_setting(std::string_view name) {
  for (const SettingDef& d : settings_table()) {
    if (d.name == name) {
      return &d;
    }
  }
  return nullptr;
}

std::string_view closest_setting(std::string_view name) {
  const std::size_t dot = name.find('.');
  const std::string_view key = dot == std::string_view::npos ? name : name.substr(dot + 1);
  std::string_view same_key;
  int sections = 0;  // "listen" is in several: no guess
  for (const SettingDef& d : settings_table()) {
    if (!key.empty() && d.name.substr(d.name.find('.') + 1) == key) {
      same_key = d.name;
      ++sections;
    }
  }
  if (sections == 1) {
    return same_key;
  }
  const std::size_t limit = name.size() > 15 ? 3 : 2;
  std::string_view best;
  std::size_t best_d = limit + 1;
  for (const SettingDef& d : settings_table()) {
    const std::size_t e = edit_distance(name, d.name, limit);
    if (e < best_d) {
      best = d.name;
      best_d = e;
    }
  }
  return best;
}

namespace {

std::string unquote(std::string_view s) {
  s = trim_ws(s);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') {
    s = s.substr(1, s.size() - 2);
  }
  return std::string(s);
}

}  // namespace

Result<Value> parse_value(const SettingDef& def, std::string_view text) {
  text = trim_ws(text);
  switch (def.type) {
    case SettingType::String:
    case SettingType::StatePath:
    case SettingType::DataFile:
      return Value(unquote(text));
    case SettingType::StringList: {
      std::vector<std::string> out;
      std::string_view body = text;
      if (body.size() >= 2 && body.front() == '[' && body.back() == ']') {
        body = body.substr(1, body.size() - 2);
      }
      if (!trim_ws(body).empty()) {
        for (std::string_view item : split(body, ',')) {
          if (!trim_ws(item).empty()) {
            out.push_back(unquote(item));
          }
        }
      }
      return Value(std::move(out));
    }
    case SettingType::Duration: {
      auto d = parse_duration(unquote(text));
      if (!d) {
        return fail(Errc::Config, fmt::format("{}: {}", def.name, d.error().message));
      }
      return Value(*d);
    }
    case SettingType::Size: {
      auto s = parse_size(unquote(text));
      if (!s) {
        return fail(Errc::Config, fmt::format("{}: {}", def.name, s.error().message));
      }
      return Value(*s);
    }
    case SettingType::Integer: {
      std::int64_t n = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (ec != std::errc() || p != text.data() + text.size()) {
        return fail(Errc::Config, fmt::format("{}: '{}' is not an integer", def.name, text));
      }
      return Value(n);
    }
    case SettingType::Bool:
      if (text == "true" || text == "yes" || text == "on") {
        return Value(true);
      }
      if (text == "false" || text == "no" || text == "off") {
        return Value(false);
      }
      return fail(Errc::Config, fmt::format("{}: '{}' is not true or false", def.name, text));
  }
  return fail(Errc::Config, "unknown setting type");
}

std::string format_value(const Value& v) {
  struct Visitor {
    std::string operator()(const std::string& s) const { return fmt::format("\"{}\"", s); }
    std::string operator()(const std::vector<std::string>& l) const {
      std::string out = "[";
      for (std::size_t i = 0; i < l.size(); ++i) {
        out += fmt::format("{}\"{}\"", i ? ", " : "", l[i]);
      }
      return out + "]";
    }
    std::string operator()(Millis d) const { return fmt::format("\"{}\"", format_duration(d)); }
    std::string operator()(std::uint64_t n) const { return fmt::format("\"{}\"", format_size(n)); }
    std::string operator()(std::int64_t n) const { return std::to_string(n); }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
  };
  return std::visit(Visitor{}, v);
}

Values::Values() {
  for (const SettingDef& d : settings_table()) {
    auto v = parse_value(d, d.default_text);
    GF_CHECK_OK(v, "a default in the settings table does not parse");
    values_.emplace(std::string(d.name), std::move(*v));
  }
}

const Value& Values::get(std::string_view name) const {
  auto it = values_.find(name);
  GF_CHECK(it != values_.end(), name);  // every name the code asks for is in the table
  return it->second;
}

const std::string& Values::str(std::string_view n) const { return std::get<std::string>(get(n)); }
const std::vector<std::string>& Values::list(std::string_view n) const {
  return std::get<std::vector<std::string>>(get(n));
}
Millis Values::duration(std::string_view n) const { return std::get<Millis>(get(n)); }
std::uint64_t Values::size(std::string_view n) const { return std::get<std::uint64_t>(get(n)); }
std::int64_t Values::integer(std::string_view n) const { return std::get<std::int64_t>(get(n)); }
bool Values::boolean(std::string_view n) const { return std::get<bool>(get(n)); }

Result<double> number_setting(const Values& v, std::string_view name, double lo, double hi) {
  return number_value(name, v.str(name), lo, hi);
}

Result<double> number_value(std::string_view name, const std::string& text, double lo, double hi) {
  char* end = nullptr;
  const double d = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(d)) {
    return fail(Errc::Config, fmt::format("{}: '{}' is not a number", name, text));
  }
  if (!(d > lo && d < hi)) {
    // The bounds are excluded: say so (the old "(-8 .. 8)" read as if 8 itself were allowed).
    return fail(Errc::Config, fmt::format("{}: {} is out of range (it must lie strictly between "
                                          "{} and {})",
                                          name, text, lo, hi));
  }
  return d;
}

}  // namespace gf::app
