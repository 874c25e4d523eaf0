// Fuzzes the milter decision layer as the io adapter drives it: an MTA byte stream, cut into
// chunks of a size the first byte picks, goes through Conversation::feed with the real greylist
// core over a MemoryStore and a scan port whose score comes from the message bytes; time moves
// on between chunks, the config (mode, band, fallback, over-reject) comes from the first bytes.
// Asserted properties:
//  - feed() keeps at most one partial packet (less than a whole packet is left unconsumed);
//  - everything it writes is a sequence of whole reply packets with a known reply code;
//  - after Close or Error nothing more is fed; counters never exceed what was sent.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "core/greylist/memory_store.hpp"
#include "core/milter/filter.hpp"

namespace {

std::uint32_t read_u32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (std::uint32_t{u[0]} << 24) | (std::uint32_t{u[1]} << 16) | (std::uint32_t{u[2]} << 8) |
         std::uint32_t{u[3]};
}

void check_replies(std::string_view out) {
  static constexpr std::string_view kCodes = "acdhimOpqrsty";
  while (!out.empty()) {
    if (out.size() < 5) {
      std::abort();
    }
    const std::uint32_t len = read_u32(out.data());
    if (len == 0 || len > out.size() - 4 || kCodes.find(out[4]) == std::string_view::npos) {
      std::abort();
    }
    out.remove_prefix(4 + len);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace gf;
  if (size < 2) {
    return 0;
  }
  const std::uint8_t knobs = data[0];
  const std::size_t chunk = 1 + data[1] * 7;
  data += 2;
  size -= 2;

  auto config = std::make_shared<milter::FilterConfig>();
  config->mode = static_cast<milter::GreylistMode>(knobs % 3);
  config->on_failure = (knobs & 4) ? milter::Fallback::Tempfail : milter::Fallback::Accept;
  config->over_reject = static_cast<spamd::OverReject>((knobs >> 3) % 3);
  config->grey_min = 1.0;
  config->grey_max = 6.0;
  config->max_scan_bytes = (knobs & 0x20) ? 64 : 4096;
  milter::Limits limits;
  limits.max_packet_bytes = 4096;
  limits.max_message_bytes = 8192;
  limits.max_recipients = 8;
  limits.max_macro_bytes = 512;

  auto policy = std::make_shared<greylist::Policy>();
  policy->settings.delay = Seconds(60);
  greylist::MemoryStore store;
  greylist::Greylist gl(policy, store, nullptr);
  gl.set_flux_agents([](const IpAddress& ip) { return to_string(ip).ends_with(".66"); });
  bool fail_store = (knobs & 0x40) != 0;
  milter::FilterPorts ports;
  ports.check_client = [&](std::string_view a, std::string_view n) {
    return gl.check_client(a, n);
  };
  ports.check_recipient = [&](const policy::Request& r, TimePoint now) {
    if (fail_store && r.recipient.size() % 2 == 0) {
      return greylist::Decision{greylist::Action::Dunno, greylist::Reason::StoreFailure, "DUNNO", 0,
                                "store down"};
    }
    return gl.check(r, now);
  };
  ports.scan = [&](std::string_view raw) -> Result<spamd::Evaluation> {
    if ((knobs & 0x80) && raw.size() % 5 == 0) {
      return fail(Errc::Io, "scanner down");
    }
    spamd::Evaluation e;
    e.analysis.required = 5.0;
    e.analysis.score = static_cast<double>(raw.size() % 23);
    e.analysis.is_spam = e.analysis.score >= 5.0;
    e.analysis.symbols.push_back({"FUZZ", e.analysis.score, "fuzz"});
    spamd::ActionPolicy ap;
    ap.reject_score = 15.0;
    ap.over_reject = config->over_reject;
    e.action = spamd::action_for(e.analysis.score, e.analysis.is_spam, ap);
    e.reject_score = ap.reject_score;
    return e;
  };
  milter::Filter filter(ports, config, limits);
  milter::Conversation conv(filter, "fuzz");

  std::string in;
  std::string out;
  TimePoint now{Seconds(1'700'000'000)};
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  std::size_t fed = 0;
  while (!rest.empty()) {
    const std::size_t n = std::min(chunk, rest.size());
    in.append(rest.substr(0, n));
    rest.remove_prefix(n);
    fed += n;
    out.clear();
    const milter::FeedResult r = conv.feed(in, out, now);
    check_replies(out);
    now += Seconds(17);
    if (r.status != milter::FeedStatus::Continue) {
      if (r.status == milter::FeedStatus::Error && r.error.empty()) {
        std::abort();
      }
      break;
    }
    // What is left is one incomplete packet, never more than the packet limit plus its header.
    if (in.size() > limits.max_packet_bytes + 4) {
      std::abort();
    }
  }
  const milter::FilterCounters& c = filter.counters();
  if (c.messages > fed / 5 || c.rejected + c.quarantined + c.discarded > c.scanned ||
      c.connections != 1) {
    std::abort();
  }
  return 0;
}
