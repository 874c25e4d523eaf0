#pragma once
// Result<T>: how every parser and store operation reports failure without throwing.
// Untrusted input (network bytes, stored records, config text) never throws across a parser;
// the caller decides what a failure costs (one protocol error reply, one log line).
#include <string>
#include <tl/expected.hpp>
#include <utility>

namespace gf {

enum class Errc {
  InvalidInput,  // malformed bytes or text from outside
  TooLarge,      // over a configured limit
  NotFound,
  StoreFailure,  // the backing store failed (map full, I/O error, connection lost)
  Config,        // a configuration value is wrong
  Io,            // an operating system call failed
};

struct Error {
  Errc code;
  std::string message;
};

template <class T>
using Result = tl::expected<T, Error>;

[[nodiscard]] inline tl::unexpected<Error> fail(Errc code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message)});
}

}  // namespace gf
