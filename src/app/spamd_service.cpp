#include "app/spamd_service.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/common/strings.hpp"
#include "core/flux/rpz.hpp"
#include "core/mime/mbox.hpp"
#include "core/spamd/evaluate.hpp"
#include "gf_version.hpp"
#include "io/net/listen.hpp"

namespace gf::app {

namespace fs = std::filesystem;

namespace {

// Scores of spamd: -1000 .. 10000 (SpamAssassin's are single or double digits).
Result<double> parse_score(const Values& v, std::string_view name) {
  return number_setting(v, name, -1000.0, 10000.0);
}

Result<classify::Engine> parse_engine(const std::string& e) {
  if (e == "logistic") {
    return classify::Engine::Logistic;
  }
  if (e == "fisher") {
    return classify::Engine::Fisher;
  }
  if (e == "blend") {
    return classify::Engine::Blend;
  }
  return fail(Errc::Config, "spamd.engine: must be logistic, fisher or blend");
}

Result<std::string> read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return fail(Errc::Io, fmt::format("cannot read {}", path));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) {
    return "localhost";
  }
  return buf;
}

}  // namespace

namespace {
Result<std::shared_ptr<const flux::FluxIndex>> load_flux(const std::string& path);
}  // namespace

Result<void> validate_spamd(const Values& v) {
  for (const std::string& l : v.list("spamd.listen")) {
    if (auto spec = io::parse_listen(l); !spec) {
      return fail(Errc::Config, "spamd.listen: " + spec.error().message);
    }
  }
  auto req = parse_score(v, "spamd.required_score");
  if (!req) {
    return tl::unexpected(req.error());
  }
  auto rej = parse_score(v, "spamd.reject_score");
  if (!rej) {
    return tl::unexpected(rej.error());
  }
  if (*rej < *req) {
    return fail(Errc::Config, "spamd.reject_score: must not be below spamd.required_score");
  }
  if (auto e = parse_engine(v.str("spamd.engine")); !e) {
    return tl::unexpected(e.error());
  }
  if (v.size("spamd.max_message") < 1024 || v.size("spamd.max_message") > (1ULL << 30)) {
    return fail(Errc::Config, "spamd.max_message: must be 1KiB..1GiB");
  }
  if (v.integer("spamd.max_connections") < 1) {
    return fail(Errc::Config, "spamd.max_connections: must be at least 1");
  }
  return {};
}

SpamdService::SpamdService(spamd::Scanner scanner, std::string model_path, std::string host)
    : scanner_(std::move(scanner)),
      model_path_(std::move(model_path)),
      checker_(fmt::format("greyflux {} on {}", kVersion, host)) {}

Result<std::unique_ptr<SpamdService>> SpamdService::open(const Values& v) {
  if (auto ok = validate_spamd(v); !ok) {
    return tl::unexpected(ok.error());
  }
  spamd::ScannerOptions opts = spamd::default_scanner_options();
  opts.engine = *parse_engine(v.str("spamd.engine"));
  opts.required_score = *parse_score(v, "spamd.required_score");
  const std::string path = v.str("spamd.model");
  spamd::Scanner scanner(opts);
  std::error_code ec;
  if (!path.empty() && fs::exists(path, ec)) {
    auto bytes = read_whole(path);
    if (!bytes) {
      return tl::unexpected(bytes.error());
    }
    auto loaded = spamd::Scanner::deserialize(*bytes, opts);
    if (!loaded) {
      return fail(Errc::Config, fmt::format("mail model {}: {}", path, loaded.error().message));
    }
    scanner = std::move(*loaded);
  }
  auto flux_names = load_flux(v.str("spamd.flux_rpz"));
  if (!flux_names) {
    return tl::unexpected(flux_names.error());
  }
  std::unique_ptr<SpamdService> svc(new SpamdService(std::move(scanner), path, host_name()));
  svc->reload(v);
  return svc;
}

namespace {

// The fast-flux names of an RPZ zone file; empty path = off.
Result<std::shared_ptr<const flux::FluxIndex>> load_flux(const std::string& path) {
  if (path.empty()) {
    return std::shared_ptr<const flux::FluxIndex>();
  }
  auto text = read_whole(path);
  if (!text) {
    return tl::unexpected(text.error());
  }
  auto zone = flux::parse_rpz(*text);
  if (!zone) {
    return fail(Errc::Config, fmt::format("spamd.flux_rpz {}: {}", path, zone.error().message));
  }
  auto index = std::make_shared<flux::FluxIndex>();
  index->add(zone->content);
  return std::shared_ptr<const flux::FluxIndex>(std::move(index));
}

}  // namespace

std::shared_ptr<const flux::FluxIndex> SpamdService::flux() const {
  if (flux_lookup_) {
    if (auto live = flux_lookup_(); live) {
      return live;
    }
  }
  std::lock_guard lock(flux_mu_);
  return flux_;
}

void SpamdService::reload(const Values& v) {
  if (auto f = load_flux(v.str("spamd.flux_rpz")); f) {
    std::lock_guard lock(flux_mu_);
    flux_ = *f;
  } else {
    spdlog::error("spamd: {} (keeping the previous flux names)", f.error().message);
  }
  allow_tell_ = v.boolean("spamd.allow_tell");
  max_message_ = v.size("spamd.max_message");
  if (auto r = parse_score(v, "spamd.reject_score")) {
    reject_score_ = *r;
  }
  if (auto r = parse_score(v, "spamd.required_score")) {
    std::unique_lock lock(mu_);
    scanner_.set_required_score(*r);
  }
}

io::LineServerOptions SpamdService::server_options(const Values& v) const {
  io::LineServerOptions o;
  o.name = "spamd";
  for (const std::string& l : v.list("spamd.listen")) {
    o.listen.push_back(*io::parse_listen(l));  // validated when the config was loaded
  }
  o.idle_timeout = v.duration("spamd.timeout");
  o.max_connections = static_cast<std::size_t>(v.integer("spamd.max_connections"));
  o.read_chunk = 64 * 1024;
  o.linger_close = true;
  o.max_buffered_total = v.size("spamd.max_buffered");
  o.over_budget_reply = fmt::format("SPAMD/1.0 {} Service busy: too much data in flight\r\n",
                                    static_cast<int>(spamd::ExitCode::TempFail));
  // Discarding what an over-limit client still sends is bounded by spamd.timeout, not bytes.
  o.linger_bytes = std::size_t{1} << 40;
  return o;
}

io::FrameResult SpamdService::on_frame(std::string& in, std::string& out, const std::string& peer) {
  return step(in, out, peer, false);
}

void SpamdService::on_eof(std::string& in, std::string& out, const std::string& peer) {
  (void)step(in, out, peer, true);
}

io::FrameResult SpamdService::step(std::string& in, std::string& out, const std::string& peer,
                                   bool eof) {
  spamd::Limits limits;
  limits.max_message_bytes = max_message_;
  limits.max_compressed_bytes = max_message_;
  spamd::ParseOutcome r = spamd::parse_request(in, eof, limits);
  if (r.status == spamd::ParseStatus::NeedMore) {
    return {};
  }
  in.clear();
  if (r.status == spamd::ParseStatus::Error) {
    ++counters_.protocol_errors;
    out = std::move(r.error);
    return {io::FrameStatus::Close, r.log};
  }
  out = answer(r.request, peer);
  return {io::FrameStatus::Close, ""};
}

std::string SpamdService::answer(const spamd::Request& req, const std::string& peer) {
  using spamd::Method;
  const auto start = std::chrono::steady_clock::now();
  switch (req.method) {
    case Method::Ping:
      return spamd::format_pong();
    case Method::Skip:
      spdlog::debug("spamd: skip from {}", peer);
      return {};
    case Method::Tell: {
      if (!allow_tell_) {
        ++counters_.protocol_errors;
        return spamd::unavailable_error("TELL commands are not enabled (spamd.allow_tell)");
      }
      const mime::Message m = mime::parse_message(req.message);
      bool did_set = false;
      bool did_remove = false;
      {
        std::unique_lock lock(mu_);
        if (req.remove_local) {
          did_remove = scanner_.forget(m);
        }
        if (req.set_local) {
          did_set = scanner_.learn(m, req.message_class == "spam");
        }
      }
      if (did_set || did_remove) {
        dirty_ = true;
        ++counters_.learned;
      }
      spdlog::info("spamd: tell class={} set={} remove={} size={} user={} peer={}",
                   req.message_class.empty() ? "-" : req.message_class, did_set, did_remove,
                   req.message.size(), sanitize_line(req.user, 64), peer);
      return spamd::format_tell_reply(did_set, did_remove);
    }
    default:
      break;
  }
  const mime::Message m = mime::parse_message(req.message);
  const spamd::Evaluation e = evaluate(m, spamd::wants_report(req.method));
  const spamd::Analysis& a = e.analysis;
  const spamd::Verdict v = spamd::make_verdict(req, e, m, checker_, kVersion);
  count(e);
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  spdlog::info(
      "spamd: {} {} score={:.1f}/{:.1f} p={:.3f} symbols={} size={} user={} peer={} "
      "mid=<{}> time={}us",
      spamd::to_string(req.method), a.is_spam ? "spam" : "ham", a.score, a.required, a.p_spam,
      spamd::symbol_list(a), req.message.size(), sanitize_line(req.user, 64), peer,
      sanitize_line(m.message_id, 120), us);
  return spamd::format_reply(req, v);
}

void SpamdService::learn(std::string_view raw, bool is_spam) {
  const mime::Message m = mime::parse_message(raw);
  std::unique_lock lock(mu_);
  scanner_.learn(m, is_spam);
  dirty_ = true;
}

io::HttpResponse SpamdService::checkv2(const io::HttpRequest& req) {
  io::HttpResponse res;
  res.content_type = "application/json";
  if (req.method != "POST") {
    res.status = 405;
    res.body = R"({"error":"use POST with the message as the body"})";
    return res;
  }
  if (req.body.empty()) {
    res.status = 400;
    res.body = R"({"error":"empty message"})";
    return res;
  }
  const auto start = std::chrono::steady_clock::now();
  const mime::Message m = mime::parse_message(req.body);
  const spamd::Evaluation e = evaluate(m, true);
  const spamd::Analysis& a = e.analysis;
  count(e);
  boost::json::object symbols;
  for (const auto& sym : a.symbols) {
    symbols[sym.name] = boost::json::object{{"name", sym.name},
                                            {"score", sym.score},
                                            {"metric_score", sym.score},
                                            {"description", sym.description}};
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  boost::json::object out{
      {"is_skipped", false},
      {"score", std::round(a.score * 100.0) / 100.0},
      {"required_score", a.required},
      {"action", a.action},
      {"thresholds", boost::json::object{{"reject", e.reject_score}, {"add header", a.required}}},
      {"symbols", std::move(symbols)},
      {"messages", boost::json::object{}},
      {"message-id", m.message_id},
      {"time_real", secs},
  };
  res.body = boost::json::serialize(out);
  spdlog::info("spamd: checkv2 {} score={:.1f}/{:.1f} action={} symbols={} size={} peer={}",
               a.is_spam ? "spam" : "ham", a.score, a.required, a.action, spamd::symbol_list(a),
               req.body.size(), req.peer);
  return res;
}

std::size_t SpamdService::learn_bulk(
    const std::vector<std::pair<const std::string*, bool>>& messages, unsigned threads) {
  threads = std::max(1U, threads);
  constexpr std::size_t kBatch = 512;
  std::size_t learned = 0;
  std::vector<spamd::Scanner::Prepared> prepared(kBatch);
  for (std::size_t base = 0; base < messages.size(); base += kBatch) {
    const std::size_t n = std::min(kBatch, messages.size() - base);
    std::atomic<std::size_t> next{0};
    auto work = [&] {
      std::size_t i;
      while ((i = next++) < n) {
        const mime::Message m = mime::parse_message(*messages[base + i].first);
        std::shared_lock lock(mu_);
        prepared[i] = scanner_.prepare(m);
      }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t) {
      pool.emplace_back(work);
    }
    work();
    for (auto& t : pool) {
      t.join();
    }
    std::unique_lock lock(mu_);
    for (std::size_t i = 0; i < n; ++i) {
      learned += scanner_.learn(prepared[i], messages[base + i].second) ? 1 : 0;
    }
  }
  dirty_ = true;
  return learned;
}

spamd::Evaluation SpamdService::evaluate(const mime::Message& m, bool explain) const {
  spamd::ActionPolicy policy;
  policy.reject_score = reject_score_.load();
  const auto flux_names = flux();
  std::shared_lock lock(mu_);
  return spamd::evaluate(scanner_, m, policy, explain, flux_names.get());
}

void SpamdService::count(const spamd::Evaluation& e) {
  ++counters_.checked;
  if (e.is_spam()) {
    ++counters_.spam;
  }
}

spamd::Analysis SpamdService::check(std::string_view raw, bool explain) const {
  return evaluate(mime::parse_message(raw), explain).analysis;
}

std::uint64_t SpamdService::spam_learned() const {
  std::shared_lock lock(mu_);
  return scanner_.spam_learned();
}

std::uint64_t SpamdService::ham_learned() const {
  std::shared_lock lock(mu_);
  return scanner_.ham_learned();
}

Result<void> SpamdService::save() {
  if (model_path_.empty()) {
    return {};
  }
  std::string blob;
  {
    std::shared_lock lock(mu_);
    blob = scanner_.serialize();
  }
  dirty_ = false;
  std::error_code ec;
  const fs::path target(model_path_);
  if (target.has_parent_path()) {
    fs::create_directories(target.parent_path(), ec);
  }
  const std::string tmp = model_path_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(blob.data(), static_cast<std::streamsize>(blob.size()));
    out.flush();
    if (!out) {
      dirty_ = true;
      return fail(Errc::Io, fmt::format("cannot write {}", tmp));
    }
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    dirty_ = true;
    return fail(Errc::Io,
                fmt::format("cannot rename {} to {}: {}", tmp, model_path_, ec.message()));
  }
  return {};
}

Result<void> SpamdService::save_if_dirty() {
  if (!dirty_) {
    return {};
  }
  return save();
}

Result<std::vector<std::string>> read_messages(const std::string& path) {
  std::vector<std::string> out;
  std::error_code ec;
  if (path == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    out.push_back(ss.str());
    return out;
  }
  if (fs::is_directory(path, ec)) {
    std::vector<fs::path> files;
    for (auto it = fs::recursive_directory_iterator(path, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file(ec)) {
        files.push_back(it->path());
      }
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      auto sub = read_messages(f.string());
      if (!sub) {
        return sub;
      }
      for (auto& m : *sub) {
        out.push_back(std::move(m));
      }
    }
    return out;
  }
  auto data = read_whole(path);
  if (!data) {
    return tl::unexpected(data.error());
  }
  auto msgs = mime::mbox_messages(*data);
  if (!msgs) {
    return fail(msgs.error().code, fmt::format("{}: {}", path, msgs.error().message));
  }
  std::move(msgs->begin(), msgs->end(), std::back_inserter(out));
  return out;
}

int learn_command(const Values& v, const std::vector<std::string>& spam,
                  const std::vector<std::string>& ham) {
  auto svc = SpamdService::open(v);
  if (!svc) {
    std::fprintf(stderr, "greyflux: %s\n", svc.error().message.c_str());
    return 2;
  }
  // Interleave the two classes so an online model does not drift towards the last one read.
  std::vector<std::string> s;
  std::vector<std::string> h;
  for (const auto& p : spam) {
    auto m = read_messages(p);
    if (!m) {
      std::fprintf(stderr, "greyflux: %s\n", m.error().message.c_str());
      return 2;
    }
    std::move(m->begin(), m->end(), std::back_inserter(s));
  }
  for (const auto& p : ham) {
    auto m = read_messages(p);
    if (!m) {
      std::fprintf(stderr, "greyflux: %s\n", m.error().message.c_str());
      return 2;
    }
    std::move(m->begin(), m->end(), std::back_inserter(h));
  }
  const auto start = std::chrono::steady_clock::now();
  const std::size_t total = s.size() + h.size();
  std::vector<std::pair<const std::string*, bool>> order;
  order.reserve(total);
  std::size_t si = 0;
  std::size_t hi = 0;
  while (si < s.size() || hi < h.size()) {
    // Keep the running proportions equal.
    const bool take_spam = hi >= h.size() || (si < s.size() && si * h.size() <= hi * s.size());
    if (take_spam) {
      order.emplace_back(&s[si++], true);
    } else {
      order.emplace_back(&h[hi++], false);
    }
  }
  (*svc)->learn_bulk(order, std::max(1U, std::thread::hardware_concurrency()));
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (auto ok = (*svc)->save(); !ok) {
    std::fprintf(stderr, "greyflux: %s\n", ok.error().message.c_str());
    return 2;
  }
  std::printf(
      "learned %zu spam and %zu ham in %.2f s (%.0f msg/s); model now has %llu spam, "
      "%llu ham: %s\n",
      s.size(), h.size(), secs, secs > 0 ? static_cast<double>(total) / secs : 0.0,
      static_cast<unsigned long long>((*svc)->spam_learned()),
      static_cast<unsigned long long>((*svc)->ham_learned()), v.str("spamd.model").c_str());
  return 0;
}

int classify_command(const Values& v, const std::vector<std::string>& files, bool explain) {
  auto svc = SpamdService::open(v);
  if (!svc) {
    std::fprintf(stderr, "greyflux: %s\n", svc.error().message.c_str());
    return 3;
  }
  int rc = 0;
  std::vector<std::string> names;
  std::vector<std::string> raws;
  for (const auto& f : files) {
    auto msgs = read_messages(f);
    if (!msgs) {
      std::fprintf(stderr, "greyflux: %s\n", msgs.error().message.c_str());
      rc = 3;
      continue;
    }
    for (std::size_t i = 0; i < msgs->size(); ++i) {
      names.push_back(msgs->size() == 1 ? f : fmt::format("{}#{}", f, i + 1));
      raws.push_back(std::move((*msgs)[i]));
    }
  }
  // Scanning is read-only: every core takes messages; output stays in input order.
  std::vector<spamd::Analysis> results(raws.size());
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    std::size_t i;
    while ((i = next++) < raws.size()) {
      results[i] = (*svc)->check(raws[i], explain);
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < std::max(1U, std::thread::hardware_concurrency()); ++t) {
    pool.emplace_back(work);
  }
  work();
  for (auto& t : pool) {
    t.join();
  }
  for (std::size_t i = 0; i < results.size(); ++i) {
    const spamd::Analysis& a = results[i];
    std::printf("%s %s score=%.1f/%.1f p=%.4f tests=%s\n", names[i].c_str(), a.is_spam ? "S" : "H",
                a.score, a.required, a.p_spam, spamd::symbol_list(a).c_str());
    if (explain) {
      std::fputs(spamd::format_report(a, "").c_str(), stdout);
    }
  }
  if (rc != 0) {
    return rc;
  }
  if (results.size() == 1) {
    return results[0].is_spam ? 0 : 1;
  }
  return 0;
}

struct SpamdRuntime::Impl {
  std::unique_ptr<SpamdService> svc;
  std::unique_ptr<io::LineServer> server;
  std::unique_ptr<boost::asio::steady_timer> timer;
  Millis save_interval{60000};
  std::atomic<bool> stopping{false};

  void schedule_save() {
    timer->expires_after(save_interval);
    timer->async_wait([this](boost::system::error_code ec) {
      if (ec || stopping) {
        return;
      }
      if (auto ok = svc->save_if_dirty(); !ok) {
        spdlog::error("spamd: {}", ok.error().message);
      }
      schedule_save();
    });
  }
};

SpamdRuntime::SpamdRuntime() : impl_(std::make_unique<Impl>()) {}
SpamdRuntime::~SpamdRuntime() = default;

Result<void> SpamdRuntime::start(boost::asio::io_context& ioc,
                                 std::function<boost::asio::io_context&()> connection_context,
                                 const Values& v, SpamdService::FluxLookup flux) {
  if (v.list("spamd.listen").empty()) {
    return {};
  }
  auto svc = SpamdService::open(v);
  if (!svc) {
    return tl::unexpected(svc.error());
  }
  impl_->svc = std::move(*svc);
  SpamdService* s = impl_->svc.get();
  if (flux) {
    s->set_flux_lookup(std::move(flux));
  }
  io::LineServerOptions o = s->server_options(v);
  o.connection_context = std::move(connection_context);
  o.on_eof = [s](std::string& in, std::string& out, const std::string& peer) {
    s->on_eof(in, out, peer);
  };
  impl_->server = std::make_unique<io::LineServer>(
      ioc, o, [s](std::string& in, std::string& out, const std::string& peer) {
        return s->on_frame(in, out, peer);
      });
  if (auto ok = impl_->server->start(); !ok) {
    return ok;
  }
  impl_->save_interval = v.duration("spamd.save_interval");
  impl_->timer = std::make_unique<boost::asio::steady_timer>(ioc);
  impl_->schedule_save();
  std::string where;
  for (const auto& l : o.listen) {
    where += (where.empty() ? "" : ", ") + l.to_string();
  }
  spdlog::info("spamd: listening on {}; mail model {} ({} spam, {} ham learned)", where,
               v.str("spamd.model"), s->spam_learned(), s->ham_learned());
  return {};
}

std::optional<io::HttpResponse> SpamdRuntime::http(const io::HttpRequest& req) {
  if (!impl_->svc) {
    return std::nullopt;
  }
  if (req.path == "/checkv2") {
    return impl_->svc->checkv2(req);
  }
  if (req.path == "/ping" && req.method == "GET") {
    io::HttpResponse res;
    res.body = "pong\r\n";
    return res;
  }
  return std::nullopt;
}

void SpamdRuntime::reload(const Values& v) {
  if (impl_->svc) {
    impl_->svc->reload(v);
  }
}

void SpamdRuntime::drain() {
  impl_->stopping = true;
  if (impl_->timer) {
    impl_->timer->cancel();
  }
  if (impl_->server) {
    impl_->server->drain();
  }
}

void SpamdRuntime::finish() {
  if (impl_->svc) {
    if (auto ok = impl_->svc->save_if_dirty(); !ok) {
      spdlog::error("spamd: {}", ok.error().message);
    }
  }
}

}  // namespace gf::app
