#include "io/store/redis_connection.hpp"

#include <fmt/format.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <boost/asio/post.hpp>

namespace gf::io {
namespace asio = boost::asio;

namespace {

RedisReply convert(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::String;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::Status;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::Error;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::Integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::Array;
      out.elements.reserve(r->elements);
      for (std::size_t i = 0; i < r->elements; ++i) {
        out.elements.push_back(convert(r->element[i]));
      }
      break;
    default:
      out.type = RedisReply::Type::Nil;
  }
  return out;
}

Result<RedisReply> lost_reply() { return fail(Errc::StoreFailure, "redis: connection lost"); }

RedisConnection* self_of(const redisAsyncContext* ac) {
  return static_cast<RedisConnection*>(ac->data);
}

}  // namespace

RedisConnection::RedisConnection(asio::io_context& ioc, const RedisOptions& opts, int index,
                                 RedisClient::Counters& counters, std::optional<RedisUrl> url)
    : ioc_(ioc),
      opts_(opts),
      url_(url ? std::move(*url) : opts.url),
      index_(index),
      counters_(counters),
      backoff_(opts.backoff_min),
      retry_timer_(ioc),
      watchdog_(ioc) {}

RedisConnection::~RedisConnection() = default;

void RedisConnection::start() {
  connect();
  start_watchdog();
}

void RedisConnection::stop() {
  stopping_ = true;
  retry_timer_.cancel();
  watchdog_.cancel();
  if (ac_ != nullptr) {
    redisAsyncFree(ac_);  // queued callbacks get nullptr: "connection lost"
  }
  ac_ = nullptr;
  ready_ = false;
  state_ = State::Down;
}

void RedisConnection::connect() {
  ++gen_;
  want_read_ = want_write_ = read_armed_ = write_armed_ = in_write_ = false;
  state_ = State::Connecting;
  connect_started_ = Clock::now();
  const RedisUrl& u = url_;
  redisAsyncContext* ac = u.kind == RedisUrl::Kind::Unix
                              ? redisAsyncConnectUnix(u.path.c_str())
                              : redisAsyncConnect(u.host.c_str(), u.port);
  if (ac == nullptr) {
    lost("cannot allocate a connection");
    return;
  }
  if (ac->err != 0) {
    const std::string why = ac->errstr;
    redisAsyncFree(ac);
    lost(why);
    return;
  }
  ac_ = ac;
  ac->data = this;
  sd_.emplace(ioc_, ac->c.fd);
  ac->ev.data = this;
  ac->ev.addRead = &RedisConnection::ev_add_read;
  ac->ev.delRead = &RedisConnection::ev_del_read;
  ac->ev.addWrite = &RedisConnection::ev_add_write;
  ac->ev.delWrite = &RedisConnection::ev_del_write;
  ac->ev.cleanup = &RedisConnection::ev_cleanup;
  redisAsyncSetConnectCallback(ac, &RedisConnection::on_connect);
  redisAsyncSetDisconnectCallback(ac, &RedisConnection::on_disconnect);
  handshake();
}

// AUTH, SELECT and PING go out as one pipeline once the socket connects; the PING's answer
// makes the connection Ready. An error reply drops it (and the backoff retries).
void RedisConnection::handshake() {
  auto check = [this](const char* what) {
    return new Done([this, what, g = gen_](Result<RedisReply> r) {
      if (g != gen_ || !r) {
        return;  // the context went away; lost() handles it
      }
      if (r->type == RedisReply::Type::Error) {
        drop(fmt::format("{} failed: {}", what, r->str));
      }
    });
  };
  const RedisUrl& u = url_;
  if (u.has_password) {
    std::vector<std::string> auth{"AUTH"};
    if (!u.user.empty()) {
      auth.push_back(u.user);
    }
    auth.push_back(u.password);
    enqueue(auth, check("AUTH"));
  }
  if (u.db != 0) {
    enqueue({"SELECT", std::to_string(u.db)}, check("SELECT"));
  }
  enqueue({"PING"}, new Done([this, g = gen_](Result<RedisReply> r) {
            if (g != gen_ || !r || r->type == RedisReply::Type::Error) {
              return;
            }
            state_ = State::Ready;
            ready_.store(true, std::memory_order_release);
            backoff_ = opts_.backoff_min;
            ++counters_.connects;
            if (!last_error_.empty()) {
              spdlog::info("redis: connection {} to {} is back", index_, format_redis_url(url_));
              last_error_.clear();
            }
          }));
}

bool RedisConnection::enqueue(const std::vector<std::string>& args, Done* done) {
  if (ac_ == nullptr) {
    (*done)(lost_reply());
    delete done;
    return false;
  }
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  std::size_t bytes = 0;
  for (const std::string& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
    bytes += a.size();
  }
  if (redisAsyncCommandArgv(ac_, &RedisConnection::on_reply, done, static_cast<int>(args.size()),
                            argv.data(), lens.data()) != REDIS_OK) {
    (*done)(lost_reply());
    delete done;
    return false;
  }
  inflight_.push_back(Clock::now());
  ++counters_.commands;
  counters_.bytes_out += bytes;
  return true;
}

void RedisConnection::submit(const std::vector<std::string>& args, Done done) {
  if (state_ != State::Ready || ac_ == nullptr) {
    done(fail(Errc::StoreFailure, "redis: not connected"));
    return;
  }
  enqueue(args, new Done(std::move(done)));
}

void RedisConnection::flush() {
  if (state_ != State::Ready || ac_ == nullptr || !want_write_ || write_armed_) {
    return;  // nothing to write, or waiting for the socket to take more
  }
  in_write_ = true;
  redisAsyncHandleWrite(ac_);  // may free the context (a write error)
  in_write_ = false;
  if (ac_ != nullptr && want_write_) {
    arm_write();  // the socket is full: the rest when it is writable
  }
}

void RedisConnection::drain() {
  const std::uint64_t g = gen_;
  for (int i = 0; i < kDrainReads && g == gen_ && ac_ != nullptr; ++i) {
    int avail = 0;
    if (::ioctl(ac_->c.fd, FIONREAD, &avail) != 0 || avail <= 0) {
      return;  // nothing more now (an EOF is the read wait's to see)
    }
    redisAsyncHandleRead(ac_);  // may free the context
  }
}

void RedisConnection::on_reply(redisAsyncContext* ac, void* reply, void* privdata) {
  auto* done = static_cast<Done*>(privdata);
  RedisConnection* self = self_of(ac);
  if (!self->inflight_.empty()) {
    self->inflight_.pop_front();
  }
  if (reply != nullptr) {
    self->last_reply_ = Clock::now();
  }
  if (reply == nullptr) {
    (*done)(lost_reply());
  } else {
    (*done)(convert(static_cast<const redisReply*>(reply)));
  }
  delete done;
}

void RedisConnection::on_connect(const redisAsyncContext* ac, int status) {
  if (status != REDIS_OK) {
    self_of(ac)->lost(std::string("connect: ") + ac->errstr);  // hiredis frees the context
  }
}

void RedisConnection::on_disconnect(const redisAsyncContext* ac, int status) {
  RedisConnection* self = self_of(ac);
  std::string why = status == REDIS_OK ? "closed" : ac->errstr;
  self->lost(why);
}

void RedisConnection::ev_add_read(void* p) {
  auto* self = static_cast<RedisConnection*>(p);
  self->want_read_ = true;
  self->arm_read();
}

void RedisConnection::ev_del_read(void* p) { static_cast<RedisConnection*>(p)->want_read_ = false; }

void RedisConnection::ev_add_write(void* p) {
  auto* self = static_cast<RedisConnection*>(p);
  self->want_write_ = true;
  if (self->in_write_) {
    return;  // the socket took part of it: the writer waits for it (below)
  }
  if (self->state_ == State::Ready) {
    self->post_flush();
  } else {
    self->arm_write();  // connecting: hiredis learns the outcome when the socket is writable
  }
}

void RedisConnection::post_flush() {
  if (flush_posted_ || write_armed_) {
    return;  // a flush (or a wait for the socket) is on its way and takes this too
  }
  flush_posted_ = true;
  asio::post(ioc_, [this] {
    flush_posted_ = false;
    flush();
  });
}

void RedisConnection::ev_del_write(void* p) {
  static_cast<RedisConnection*>(p)->want_write_ = false;
}

// The context is being freed: give hiredis its fd back untouched (it closes it).
void RedisConnection::ev_cleanup(void* p) {
  auto* self = static_cast<RedisConnection*>(p);
  self->want_read_ = self->want_write_ = false;
  self->ac_ = nullptr;
  if (self->sd_) {
    self->sd_->release();  // cancels the pending waits (operation_aborted)
    self->sd_.reset();
  }
}

void RedisConnection::arm_read() {
  if (read_armed_ || !sd_) {
    return;
  }
  read_armed_ = true;
  sd_->async_wait(asio::posix::stream_descriptor::wait_read,
                  [this, g = gen_](boost::system::error_code ec) {
                    if (g != gen_) {
                      return;
                    }
                    read_armed_ = false;
                    if (ec || ac_ == nullptr || !want_read_) {
                      return;
                    }
                    redisAsyncHandleRead(ac_);  // may free the context (EOF)
                    drain();                    // the rest beyond hiredis's 16 KiB read
                    if (g == gen_ && ac_ != nullptr && want_read_) {
                      arm_read();
                    }
                  });
}

void RedisConnection::arm_write() {
  if (write_armed_ || !sd_) {
    return;
  }
  write_armed_ = true;
  sd_->async_wait(asio::posix::stream_descriptor::wait_write,
                  [this, g = gen_](boost::system::error_code ec) {
                    if (g != gen_) {
                      return;
                    }
                    write_armed_ = false;
                    if (ec || ac_ == nullptr || !want_write_) {
                      return;
                    }
                    in_write_ = true;
                    redisAsyncHandleWrite(ac_);  // connects, or flushes the output buffer
                    in_write_ = false;
                    if (g == gen_ && ac_ != nullptr && want_write_) {
                      arm_write();
                    }
                  });
}

void RedisConnection::drop(const std::string& why) {
  asio::post(ioc_, [this, g = gen_, why] {
    if (g != gen_ || ac_ == nullptr) {
      return;
    }
    drop_reason_ = why;
    redisAsyncFree(ac_);  // queued callbacks: "connection lost"; on_disconnect if connected
    drop_reason_.clear();
    lost(why);  // a connection still connecting gets no on_disconnect
  });
}

void RedisConnection::lost(const std::string& why) {
  ac_ = nullptr;
  inflight_.clear();
  if (state_ == State::Down) {
    return;  // already handled (on_disconnect during drop())
  }
  if (state_ == State::Ready) {
    ++counters_.disconnects;
  }
  state_ = State::Down;
  ready_.store(false, std::memory_order_release);
  if (stopping_) {
    return;
  }
  const std::string reason = drop_reason_.empty() ? why : drop_reason_;
  if (last_error_.empty()) {  // one line per outage, one when it ends
    spdlog::warn("redis: connection {} to {} down: {}; reconnecting with backoff", index_,
                 format_redis_url(url_), reason);
  }
  last_error_ = reason;
  schedule_reconnect();
}

void RedisConnection::schedule_reconnect() {
  if (stopping_ || reconnect_pending_) {
    return;
  }
  reconnect_pending_ = true;
  retry_timer_.expires_after(backoff_);
  backoff_ = std::min(backoff_ * 2, opts_.backoff_max);
  retry_timer_.async_wait([this](boost::system::error_code ec) {
    reconnect_pending_ = false;
    if (!ec && !stopping_) {
      connect();
    }
  });
}

void RedisConnection::start_watchdog() {
  watchdog_.expires_after(std::max(Millis(5), opts_.timeout / 2));
  watchdog_.async_wait([this](boost::system::error_code ec) {
    if (!ec && !stopping_) {
      on_watchdog();
      start_watchdog();
    }
  });
}

void RedisConnection::on_watchdog() {
  if (state_ == State::Ready) {
    drain();  // a busy loop may not have read what came: only a reply not there is late
  }
  const auto now = Clock::now();
  if (state_ == State::Connecting && now - connect_started_ > opts_.connect_timeout) {
    drop(fmt::format("no connection within {}ms", opts_.connect_timeout.count()));
  } else if (state_ == State::Ready && !inflight_.empty() &&
             now - std::max(inflight_.front(), last_reply_) > 2 * opts_.timeout) {
    // Hung: the oldest command is late AND nothing came back for as long. A server that keeps
    // answering a deep pipeline, only slowly, is not dropped: that would fail every command
    // queued behind it, background writes included.
    drop(fmt::format("no reply for {}ms", 2 * opts_.timeout.count()));
  }
}

}  // namespace gf::io
