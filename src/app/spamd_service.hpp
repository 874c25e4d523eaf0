#pragma once
// The mail scanner service: the [spamd] settings, the learned mail model (file, reader/writer
// lock, periodic save), the spamd-protocol frame handler for io::LineServer, and the bulk
// `greyflux learn` / `greyflux classify` commands.
//
// Life of a spamd request (docs/architecture.md): LineServer reads bytes -> on_frame/on_eof
// call spamd::parse_request (NeedMore until the request line, headers and Content-length bytes,
// or the client's half-close, are in) -> mime::parse_message -> Scanner::scan under the shared
// lock -> spamd::format_reply -> LineServer writes it, half-closes and closes. TELL takes the
// exclusive lock to learn and marks the model dirty; a timer saves it every save_interval.
//
// Threading: on_frame/on_eof run on many io threads at once. Errors: protocol errors become one
// reply line and one rate-limited log line; a model file that cannot be read is a startup error.
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "app/settings.hpp"
#include "core/spamd/evaluate.hpp"
#include "core/spamd/protocol.hpp"
#include "core/spamd/scanner.hpp"
#include "io/net/http_server.hpp"
#include "io/net/line_server.hpp"

namespace boost::asio {
class io_context;
}

namespace gf::app {

// Checks the [spamd] settings (listen addresses, thresholds, engine).
[[nodiscard]] Result<void> validate_spamd(const Values& v);

struct SpamdCounters {
  std::atomic<std::uint64_t> checked{0};
  std::atomic<std::uint64_t> spam{0};
  std::atomic<std::uint64_t> learned{0};
  std::atomic<std::uint64_t> protocol_errors{0};
};

class SpamdService {
 public:
  // Loads the model file named by spamd.model (a missing file starts an empty model).
  [[nodiscard]] static Result<std::unique_ptr<SpamdService>> open(const Values& v);

  // LineServer hooks: one request per connection.
  io::FrameResult on_frame(std::string& in, std::string& out, const std::string& peer);
  void on_eof(std::string& in, std::string& out, const std::string& peer);
  io::LineServerOptions server_options(const Values& v) const;

  // Rspamd's HTTP API on the [http] listener: POST /checkv2 (the message is the body; reply
  // JSON with action, score, required_score, symbols) and GET /ping.
  [[nodiscard]] io::HttpResponse checkv2(const io::HttpRequest& req);

  // Applies the reloadable settings (threshold, reject score, allow_tell, max_message).
  void reload(const Values& v);
  // Writes the model file if it changed since the last save (atomically: temp file + rename).
  [[nodiscard]] Result<void> save_if_dirty();

  // Bulk paths used by the CLI and benchmarks.
  void learn(std::string_view raw, bool is_spam);
  // Learns many messages in the given order: parsing and feature extraction run on `threads`
  // threads, training on one. Returns how many were learned (not already known).
  std::size_t learn_bulk(const std::vector<std::pair<const std::string*, bool>>& messages,
                         unsigned threads);
  [[nodiscard]] spamd::Analysis check(std::string_view raw, bool explain) const;
  // The one scan-to-action path (spamd::evaluate) under the shared lock, with the current
  // reject_score and flux names; the spamd answer and /checkv2 both come through here.
  [[nodiscard]] spamd::Evaluation evaluate(const mime::Message& m, bool explain) const;
  [[nodiscard]] Result<void> save();
  [[nodiscard]] const SpamdCounters& counters() const { return counters_; }
  // The running fast-flux detector's index, preferred over spamd.flux_rpz when it returns one.
  // Set once, before serving.
  using FluxLookup = std::function<std::shared_ptr<const flux::FluxIndex>()>;
  void set_flux_lookup(FluxLookup lookup) { flux_lookup_ = std::move(lookup); }
  [[nodiscard]] std::uint64_t spam_learned() const;
  [[nodiscard]] std::uint64_t ham_learned() const;

 private:
  SpamdService(spamd::Scanner scanner, std::string model_path, std::string host);
  io::FrameResult step(std::string& in, std::string& out, const std::string& peer, bool eof);
  std::string answer(const spamd::Request& req, const std::string& peer);
  void count(const spamd::Evaluation& e);

  std::shared_ptr<const flux::FluxIndex> flux() const;

  mutable std::mutex flux_mu_;
  std::shared_ptr<const flux::FluxIndex> flux_;  // names for URI_FLUX; null = off
  FluxLookup flux_lookup_;
  mutable std::shared_mutex mu_;
  spamd::Scanner scanner_;
  std::string model_path_;
  std::string checker_;  // "greyflux VERSION on HOST"
  std::atomic<bool> dirty_{false};
  std::atomic<bool> allow_tell_{true};
  std::atomic<double> reject_score_{15.0};
  std::atomic<std::size_t> max_message_{10 * 1024 * 1024};
  SpamdCounters counters_;
};

// Wiring for `greyflux serve`; does nothing when spamd.listen is empty.
class SpamdRuntime {
 public:
  SpamdRuntime();
  ~SpamdRuntime();
  // Listeners and timers live on `ioc`, connections where `connection_context` says (empty:
  // on strands of `ioc`). `flux` (may be empty): the daemon's live fast-flux index, for URI_FLUX.
  [[nodiscard]] Result<void> start(boost::asio::io_context& ioc,
                                   std::function<boost::asio::io_context&()> connection_context,
                                   const Values& v, SpamdService::FluxLookup flux = {});
  void reload(const Values& v);  // SIGHUP
  // Answers the Rspamd endpoints when the scanner runs; nullopt for any other request.
  [[nodiscard]] std::optional<io::HttpResponse> http(const io::HttpRequest& req);
  void drain();   // SIGTERM: stop accepting, finish open requests
  void finish();  // after the loop: save the model if it changed

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// `greyflux learn --spam PATH... --ham PATH...` (files, directories, mbox files).
int learn_command(const Values& v, const std::vector<std::string>& spam,
                  const std::vector<std::string>& ham);
// `greyflux classify FILE...` ("-" = standard input): one line per message; for one message
// the exit code says spam (0) or ham (1), as bogofilter's does; 3 on errors.
int classify_command(const Values& v, const std::vector<std::string>& files, bool explain);

// Reads messages from files, directories (recursively, sorted) and mbox files ("From " lines).
[[nodiscard]] Result<std::vector<std::string>> read_messages(const std::string& path);

}  // namespace gf::app
