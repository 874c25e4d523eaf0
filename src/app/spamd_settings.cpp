#include "app/spamd_settings.hpp"

#include <fmt/format.h>

#include "core/common/check.hpp"
#include "io/net/listen.hpp"

namespace gf::app {

namespace {

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

}  // namespace

std::string bayes_setting(std::string_view symbol) {
  std::string name = "spamd.";
  for (const char c : symbol) {
    name += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  return name;
}

Result<double> spamd_score(const Values& v, std::string_view name) {
  // SpamAssassin's scores are single or double digits; GTUBE alone is 1000.
  return number_setting(v, name, -1000.0, 10000.0);
}

Result<void> validate_spamd(const Values& v) {
  for (const std::string& l : v.list("spamd.listen")) {
    if (auto spec = io::parse_listen(l); !spec) {
      return fail(Errc::Config, "spamd.listen: " + spec.error().message);
    }
  }
  auto req = spamd_score(v, "spamd.required_score");
  if (!req) {
    return tl::unexpected(req.error());
  }
  auto rej = spamd_score(v, "spamd.reject_score");
  if (!rej) {
    return tl::unexpected(rej.error());
  }
  if (*rej < *req) {
    return fail(Errc::Config, "spamd.reject_score: must not be below spamd.required_score");
  }
  for (const std::string_view symbol : spamd::kBayesSymbols) {
    if (auto w = spamd_score(v, bayes_setting(symbol)); !w) {
      return tl::unexpected(w.error());
    }
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
  if (v.integer("spamd.shared_log_records") < 1) {
    return fail(Errc::Config, "spamd.shared_log_records: must be at least 1");
  }
  return {};
}

spamd::ScannerOptions spamd_scanner_options(const Values& v) {
  spamd::ScannerOptions opts = spamd::default_scanner_options();
  const auto engine = parse_engine(v.str("spamd.engine"));
  GF_CHECK_OK(engine, "spamd.engine passed validate_spamd");
  opts.engine = *engine;
  const auto required = spamd_score(v, "spamd.required_score");
  GF_CHECK_OK(required, "spamd.required_score passed validate_spamd");
  opts.required_score = *required;
  opts.auto_learn.enabled = v.boolean("spamd.auto_learn");
  for (const std::string_view symbol : spamd::kBayesSymbols) {
    const auto w = spamd_score(v, bayes_setting(symbol));
    GF_CHECK_OK(w, "spamd.bayes_* passed validate_spamd");
    opts.weights[std::string(symbol)] = *w;
  }
  return opts;
}

spamd::ActionPolicy spamd_action_policy(const Values& v) {
  spamd::ActionPolicy p;
  const auto reject = spamd_score(v, "spamd.reject_score");
  GF_CHECK_OK(reject, "spamd.reject_score passed validate_spamd");
  p.reject_score = *reject;
  p.over_reject = spamd::OverReject::Reject;
  return p;
}

io::LineServerOptions spamd_server_options(const Values& v) {
  io::LineServerOptions o;
  o.name = "spamd";
  for (const std::string& l : v.list("spamd.listen")) {
    auto spec = io::parse_listen(l);
    GF_CHECK_OK(spec, "spamd.listen passed validate_spamd");
    o.listen.push_back(*spec);
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

}  // namespace gf::app
