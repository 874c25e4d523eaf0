// Stateful fuzzer for the greylist, in two passes over the same bytes.
//
// 1. The bytes as a scenario script (REQUEST / TIME_PASSES / STORE fail / EXPIRE ...) against
//    the greylist with simulated time, as Envoy's rate-limit fuzzers replay actions; the corpus
//    holds such scripts. Asserted: a second run of the same script gives the same result (no
//    hidden state, no real clock), and no more requests or expectations than the script has.
// 2. The bytes as a sequence of actions (request one of 12 triplets, let time pass, make the
//    store fail or recover) against Greylist on a MemoryStore, checked against a model of the
//    triplet life cycle after every request:
//      - a triplet that passed is never deferred again (no state lost, also across failures);
//      - a triplet first seen between `delay` and `retry_window` ago passes;
//      - a deferral waits exactly what is left of the delay, never more than `delay`;
//      - while the store fails, every answer is the configured failure answer.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/greylist/greylist.hpp"
#include "core/greylist/memory_store.hpp"
#include "fuzz_bytes.hpp"
#include "scenario.hpp"

namespace {

namespace gl = gf::greylist;

std::size_t count_lines_with(std::string_view text, std::string_view word) {
  std::size_t n = 0;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t nl = text.find('\n', at);
    const std::string_view line =
        text.substr(at, nl == std::string_view::npos ? std::string_view::npos : nl - at);
    n += line.find(word) != std::string_view::npos ? 1 : 0;
    at = nl == std::string_view::npos ? text.size() : nl + 1;
  }
  return n;
}

void replay_script(std::string_view script) {
  const auto a = gf::testing::run_scenario(script, /*strict=*/true);  // failures name answers
  const auto b = gf::testing::run_scenario(script, /*strict=*/true);
  if (a.failures != b.failures || a.requests != b.requests || a.expectations != b.expectations) {
    std::abort();  // the same script must give the same answers
  }
  if (a.requests > count_lines_with(script, "REQUEST") ||
      a.expectations > count_lines_with(script, "EXPECT")) {
    std::abort();
  }
}

using gf::fuzz::Bytes;

struct TripletModel {
  bool seen = false;
  bool passed = false;
  std::int64_t first_s = 0;
};

gf::policy::Request build_request(int triplet) {
  static const char* kClients[] = {"192.0.2.1", "198.51.100.1", "203.0.113.1"};
  static const char* kSenders[] = {"alice@sender.example", "bob@other.example"};
  static const char* kRecipients[] = {"carol@example.org", "dave@example.net"};
  gf::policy::Request r;
  r.request = "smtpd_access_policy";
  r.protocol_state = "RCPT";
  r.protocol_name = "ESMTP";
  r.client_address = kClients[triplet % 3];
  r.client_name = "unknown";
  r.sender = kSenders[(triplet / 3) % 2];
  r.recipient = kRecipients[(triplet / 6) % 2];
  r.has_etrn_domain = true;
  return r;
}

// The 12 requests are built once; only the instance changes (it fits the short-string buffer).
// Building them for every action cost 8% of the time under ASan.
const gf::policy::Request& make_request(int triplet, int instance) {
  static gf::policy::Request requests[12] = {
      build_request(0), build_request(1), build_request(2), build_request(3),
      build_request(4), build_request(5), build_request(6), build_request(7),
      build_request(8), build_request(9), build_request(10), build_request(11)};
  gf::policy::Request& r = requests[triplet];
  r.instance = "i" + std::to_string(instance);
  return r;
}

void check_request(gl::Greylist& greylist, const gl::Settings& s, TripletModel& m,
                   const gf::policy::Request& req, std::int64_t now, bool failing) {
  const gl::Decision d = greylist.check(req, gf::from_unix(now));
  if (failing) {
    if (d.reason != gl::Reason::StoreFailure || d.action != gl::Action::Dunno) {
      std::abort();
    }
    return;  // nothing was written: the model stays as it was
  }
  if (d.reason == gl::Reason::StoreFailure) {
    std::abort();  // the store works
  }
  const bool deferred = d.action == gl::Action::Defer || d.action == gl::Action::Reject;
  if (m.passed && deferred) {
    std::abort();  // a triplet that passed was forgotten
  }
  const std::int64_t waited = now - m.first_s;
  const bool due = m.seen && waited >= s.delay.count() && waited <= s.retry_window.count();
  if (due && deferred) {
    std::abort();  // waited long enough inside the retry window and was still deferred
  }
  if (deferred) {
    const bool fresh = !m.seen || waited > s.retry_window.count();
    const std::int64_t left = s.delay.count() - (fresh ? 0 : waited);
    if (d.delay_s != left || d.delay_s <= 0 || d.delay_s > s.delay.count()) {
      std::abort();
    }
    if (fresh) {
      m.seen = true;
      m.first_s = now;
    }
    return;
  }
  m.passed = true;
}

void run_actions(Bytes& in) {
  auto policy = std::make_shared<gl::Policy>();
  gl::Settings& s = policy->settings;
  s.delay = gf::Seconds(1 + in.next() * 4);                      // 1 s .. 17 min
  s.retry_window = s.delay + gf::Seconds(60 + in.next() * 600);  // up to ~43 h more
  s.auto_whitelist_after = 0;  // auto-whitelisting would legitimately skip the triplet checks
  s.domain_auto_whitelist_after = 0;
  s.pooled_senders = false;
  gl::MemoryStore store;
  gl::Greylist greylist(policy, store, nullptr);
  std::map<int, TripletModel> model;
  std::int64_t now = 1'800'000'000;
  bool failing = false;
  int instance = 0;
  while (!in.empty()) {
    const std::uint8_t op = in.next();
    if (op < 160) {
      const int t = op % 12;
      check_request(greylist, s, model[t], make_request(t, ++instance), now, failing);
    } else if (op < 230) {
      now += in.next();  // seconds: around the delay
    } else if (op < 245) {
      now += static_cast<std::int64_t>(in.next()) * 900;  // up to 2.6 days: the retry window
    } else {
      failing = !failing;
      store.set_failing(failing);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 16384) {
    return 0;
  }
  replay_script(std::string_view(reinterpret_cast<const char*>(data), size));
  Bytes in(data, size);
  run_actions(in);
  return 0;
}
