#include "core/greylist/slot_tag.hpp"

#include "core/greylist/greylist.hpp"

namespace gf::greylist::key {
namespace {

enum class NetAt { None, First, Last };

// Where the network field sits in a key of `kind` (the letter before ':').
NetAt net_field(std::string_view key) {
  if (key.size() < 2 || key[1] != ':') {
    return NetAt::None;
  }
  switch (key[0]) {
    case 't':
    case 'c':
      return NetAt::First;
    case 'd':
    case 's':
      return NetAt::Last;
    default:
      return NetAt::None;
  }
}

bool usable_tag(std::string_view net) {
  return !net.empty() && net.find_first_of("{}") == std::string_view::npos;
}

}  // namespace

std::string with_slot_tag(std::string_view key) {
  const NetAt at = net_field(key);
  if (at == NetAt::None) {
    return std::string(key);
  }
  const std::string_view kind = key.substr(0, 2);
  const std::string_view rest = key.substr(2);
  if (at == NetAt::First) {
    const std::size_t sep = rest.find(kKeySep);
    const std::string_view net = rest.substr(0, sep);
    if (usable_tag(net)) {
      return std::string(kind) + "{" + std::string(net) + "}" +
             std::string(rest.substr(net.size()));
    }
  } else {
    const std::size_t sep = rest.rfind(kKeySep);
    if (sep != std::string_view::npos && usable_tag(rest.substr(sep + 1))) {
      return std::string(kind) + "{" + std::string(rest.substr(sep + 1)) + "}" +
             std::string(rest.substr(0, sep));
    }
  }
  return std::string(kind) + "{}" + std::string(rest);
}

std::optional<std::string> without_slot_tag(std::string_view stored) {
  const NetAt at = net_field(stored);
  if (at == NetAt::None) {
    return std::string(stored);
  }
  const std::string_view kind = stored.substr(0, 2);
  const std::string_view rest = stored.substr(2);
  const std::size_t close = rest.find('}');
  if (!rest.starts_with('{') || close == std::string_view::npos) {
    return std::nullopt;
  }
  const std::string_view net = rest.substr(1, close - 1);
  const std::string_view tail = rest.substr(close + 1);
  if (net.empty()) {
    return std::string(kind) + std::string(tail);
  }
  if (at == NetAt::First) {
    return std::string(kind) + std::string(net) + std::string(tail);
  }
  return std::string(kind) + std::string(tail) + kKeySep + std::string(net);
}

std::string stored_scan_prefix(std::string_view prefix) {
  if (net_field(prefix) == NetAt::None || prefix.size() == 2) {
    return std::string(prefix);
  }
  return std::string(prefix.substr(0, 2));
}

}  // namespace gf::greylist::key
