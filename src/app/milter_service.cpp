#include "app/milter_service.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <chrono>

#include "app/engine.hpp"
#include "app/history_service.hpp"
#include "app/spamd_service.hpp"
#include "core/common/check.hpp"
#include "core/common/strings.hpp"
#include "core/history/rows.hpp"
#include "core/mime/message.hpp"
#include "gf_version.hpp"
#include "io/net/blocking_pool.hpp"
#include "io/net/line_server.hpp"
#include "io/net/pool_frame.hpp"
#include "io/sys/rate_limited_log.hpp"
#include "io/sys/wall_clock.hpp"

namespace gf::app {
namespace {

constexpr double kScoreLo = -1000.0;
constexpr double kScoreHi = 100000.0;

class SpdLog final : public LogSink {
 public:
  bool enabled(LogLevel l) const override { return spdlog::should_log(level(l)); }
  void write(LogLevel l, std::string_view line) override { spdlog::log(level(l), "{}", line); }

 private:
  static spdlog::level::level_enum level(LogLevel l) {
    switch (l) {
      case LogLevel::Debug:
        return spdlog::level::debug;
      case LogLevel::Info:
        return spdlog::level::info;
      case LogLevel::Warn:
        return spdlog::level::warn;
      case LogLevel::Error:
        break;
    }
    return spdlog::level::err;
  }
};

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) {
    return "localhost";
  }
  return buf;
}

// The daemon's time line (io/sys/wall_clock.hpp): system clock steps do not move it.
TimePoint wall_now() { return io::daemon_clock().now(); }

}  // namespace

Result<void> validate_milter(const Values& v) {
  if (auto m = milter::parse_greylist_mode(v.str("greylist.mode")); !m) {
    return tl::unexpected(m.error());
  }
  if (auto f = milter::parse_fallback(v.str("milter.on_failure")); !f) {
    return tl::unexpected(f.error());
  }
  if (auto o = milter::parse_over_reject(v.str("milter.over_reject")); !o) {
    return tl::unexpected(o.error());
  }
  auto lo = number_setting(v, "milter.grey_min", kScoreLo, kScoreHi);
  if (!lo) {
    return tl::unexpected(lo.error());
  }
  auto hi = number_setting(v, "milter.grey_max", kScoreLo, kScoreHi);
  if (!hi) {
    return tl::unexpected(hi.error());
  }
  if (*lo >= *hi) {
    return fail(Errc::Config,
                fmt::format("milter.grey_min: {} must be below milter.grey_max ({})", *lo, *hi));
  }
  for (const std::string& l : v.list("milter.listen")) {
    if (auto spec = io::parse_listen(l); !spec) {
      return fail(Errc::Config, "milter.listen: " + spec.error().message);
    }
  }
  if (v.integer("milter.max_connections") < 1) {
    return fail(Errc::Config, "milter.max_connections: must be at least 1");
  }
  if (v.size("milter.max_packet") < 65536 + 5) {
    return fail(Errc::Config,
                "milter.max_packet: must be at least 65541 bytes (Postfix sends "
                "body chunks of 65535 bytes)");
  }
  if (v.size("milter.max_message") < 1024) {
    return fail(Errc::Config, "milter.max_message: must be at least 1KiB");
  }
  return {};
}

milter::FilterConfig milter_config(const Values& v) {
  milter::FilterConfig c;
  // The parsers cannot fail on a validated config; a value that skipped validation keeps the
  // default.
  c.mode = milter::parse_greylist_mode(v.str("greylist.mode")).value_or(c.mode);
  c.on_failure = milter::parse_fallback(v.str("milter.on_failure")).value_or(c.on_failure);
  c.over_reject = milter::parse_over_reject(v.str("milter.over_reject")).value_or(c.over_reject);
  c.grey_min = number_setting(v, "milter.grey_min", kScoreLo, kScoreHi).value_or(c.grey_min);
  c.grey_max = number_setting(v, "milter.grey_max", kScoreLo, kScoreHi).value_or(c.grey_max);
  c.max_scan_bytes = v.size("milter.max_scan");
  c.checker = fmt::format("greyflux {} on {}", kVersion, host_name());
  c.version = kVersion;
  return c;
}

struct MilterRuntime::Impl {
  SpdLog log;
  std::unique_ptr<milter::Filter> filter;
  std::unique_ptr<io::LineServer> server;
  io::RateLimitedLog eof_log;
  std::atomic<std::uint64_t> next_id{0};
  metrics::Histogram latency;
  HistoryService* history = nullptr;
};

namespace {

// One read's packets through the connection's Conversation, timed; the LineServer's answer.
io::FrameResult feed(milter::Conversation& conv, MilterRuntime::Impl& impl, std::string& in,
                     std::string& out) {
  const auto start = std::chrono::steady_clock::now();
  const std::size_t before = out.size();
  const milter::FeedResult r = conv.feed(in, out, wall_now());
  if (out.size() != before) {
    impl.latency.observe(std::chrono::steady_clock::now() - start);
  }
  switch (r.status) {
    case milter::FeedStatus::Continue:
      return {};
    case milter::FeedStatus::Close:
      return {io::FrameStatus::Close, ""};
    case milter::FeedStatus::Error:
      return {io::FrameStatus::Close, "milter protocol error: " + r.error};
  }
  return {};
}

}  // namespace

MilterRuntime::MilterRuntime() : impl_(std::make_unique<Impl>()) {}
MilterRuntime::~MilterRuntime() = default;
void MilterRuntime::set_history(HistoryService* h) { impl_->history = h; }

Result<void> MilterRuntime::start(boost::asio::io_context& ioc,
                                  std::function<boost::asio::io_context&()> connection_context,
                                  const Values& v, Engine& engine, SpamdService* scanner,
                                  io::BlockingPool* blocking) {
  if (v.list("milter.listen").empty()) {
    return {};
  }
  GF_CHECK(scanner != nullptr, "the mail scanner runs whenever milter.listen is set");
  milter::FilterPorts ports;
  ports.check_client = [&engine](std::string_view address, std::string_view name) {
    return engine.check_client(address, name);
  };
  HistoryService* hist = impl_->history;
  ports.check_recipient = [&engine, hist](const policy::Request& req, TimePoint now) {
    greylist::Decision d = engine.check(req, now);
    if (hist != nullptr && d.reason != greylist::Reason::NotRcpt) {
      hist->record(history::greylist_row(req, d, to_unix(now), "milter"));
    }
    return d;
  };
  ports.scan = [scanner](std::string_view raw) -> Result<spamd::Evaluation> {
    try {
      return scanner->evaluate_and_record(mime::parse_message(raw), false, "milter", "");
    } catch (const std::exception& e) {  // allocation failure and the like: the fallback applies
      return fail(Errc::Io, e.what());
    }
  };
  milter::Limits limits;
  limits.max_packet_bytes = v.size("milter.max_packet");
  limits.max_message_bytes = v.size("milter.max_message");
  impl_->filter = std::make_unique<milter::Filter>(
      std::move(ports), std::make_shared<const milter::FilterConfig>(milter_config(v)), limits,
      &impl_->log);

  io::LineServerOptions o;
  o.name = "milter";
  for (const std::string& l : v.list("milter.listen")) {
    auto spec = io::parse_listen(l);
    GF_CHECK_OK(spec, "milter.listen is validated when the config is loaded");
    o.listen.push_back(*spec);
  }
  o.idle_timeout = v.duration("milter.timeout");
  o.max_connections = static_cast<std::size_t>(v.integer("milter.max_connections"));
  o.read_chunk = 64 * 1024;
  o.connection_context = std::move(connection_context);
  Impl* impl = impl_.get();
  // A connection number keeps unix peers (all named "unix") apart in logs and in the
  // greylist's message instances.
  auto conversation = [impl](const std::string& peer) {
    return std::make_shared<milter::Conversation>(*impl->filter,
                                                  fmt::format("{}#{}", peer, ++impl->next_id));
  };
  if (blocking != nullptr) {
    // On Redis a RCPT's greylist check is a blocking round trip: each packet is decoded and
    // answered on the pool while the io thread serves its other connections.
    o.make_async_frame = [impl, blocking, conversation](const std::string& peer) {
      io::FrameFn frame = [conv = conversation(peer), impl](std::string& in, std::string& out,
                                                            const std::string&) {
        return feed(*conv, *impl, in, out);
      };
      return [frame = std::move(frame), blocking](std::string& in, std::string& out,
                                                  const std::string& peer) {
        return io::frame_on_pool(
            *blocking, frame, in, out, peer, [](const Error& why, std::string&) {
              return io::FrameResult{io::FrameStatus::Close, "milter: " + why.message};
            });
      };
    };
  } else {
    o.make_frame = [impl, conversation](const std::string& peer) -> io::FrameFn {
      return
          [conv = conversation(peer), impl](std::string& in, std::string& out, const std::string&) {
            return feed(*conv, *impl, in, out);
          };
    };
  }
  o.on_eof = [impl](std::string& in, std::string&, const std::string& peer) {
    if (in.empty()) {
      return;  // the MTA closed between packets: normal
    }
    ++impl->filter->counters().protocol_errors;
    std::uint64_t suppressed = 0;
    if (impl->eof_log.allow(suppressed)) {
      spdlog::warn("milter: closing {}: connection ended inside a packet ({} bytes of it){}", peer,
                   in.size(),
                   suppressed ? fmt::format(" ({} similar suppressed)", suppressed) : "");
    }
  };
  impl_->server =
      std::make_unique<io::LineServer>(ioc, o, [](std::string&, std::string&, const std::string&) {
        return io::FrameResult{io::FrameStatus::Close, "no connection state"};  // make_frame serves
      });
  if (auto ok = impl_->server->start(); !ok) {
    return ok;
  }
  std::string where;
  for (const auto& l : o.listen) {
    where += (where.empty() ? "" : ", ") + l.to_string();
  }
  spdlog::info("milter: listening on {}; greylist.mode {}", where, v.str("greylist.mode"));
  return {};
}

void MilterRuntime::reload(const Values& v) {
  if (impl_->filter) {
    impl_->filter->set_config(std::make_shared<const milter::FilterConfig>(milter_config(v)));
  }
}

void MilterRuntime::drain() {
  if (impl_->server) {
    impl_->server->drain();
  }
}

const milter::FilterCounters* MilterRuntime::counters() const {
  return impl_->filter ? &impl_->filter->counters() : nullptr;
}

const io::LineServerStats* MilterRuntime::server_stats() const {
  return impl_->server ? &impl_->server->stats() : nullptr;
}

const metrics::Histogram* MilterRuntime::latency() const {
  return impl_->filter ? &impl_->latency : nullptr;
}

std::string MilterRuntime::stats_text() const {
  return impl_->filter ? impl_->filter->stats_text() : std::string();
}

}  // namespace gf::app
