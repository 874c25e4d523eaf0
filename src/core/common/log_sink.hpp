#pragma once
// LogSink: how core services that have something to tell an operator (a model rebuilt from the
// log, a limit reached) say it without a logging library: the app passes an adapter over
// spdlog, tests a recorder or nothing. enabled() lets a caller skip formatting a line nobody
// will read (a debug line on every request).
//
// Threading: implementations are safe from any thread. Errors: none.
#include <string_view>

namespace gf {

enum class LogLevel { Debug, Info, Warn, Error };

class LogSink {
 public:
  virtual ~LogSink() = default;
  [[nodiscard]] virtual bool enabled(LogLevel level) const = 0;
  virtual void write(LogLevel level, std::string_view line) = 0;
};

// Drops everything (the default of a service given no sink).
class NullLog final : public LogSink {
 public:
  bool enabled(LogLevel) const override { return false; }
  void write(LogLevel, std::string_view) override {}
};

}  // namespace gf
