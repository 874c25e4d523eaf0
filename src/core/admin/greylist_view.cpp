#include "core/admin/greylist_view.hpp"

#include <vector>

#include "core/common/ip.hpp"
#include "core/common/strings.hpp"
#include "core/greylist/greylist.hpp"

namespace gf::admin {
namespace {

std::vector<std::string> split_fields(std::string_view s) {
  std::vector<std::string> out;
  while (true) {
    const std::size_t at = s.find(greylist::kKeySep);
    out.emplace_back(s.substr(0, at));
    if (at == std::string_view::npos) {
      return out;
    }
    s.remove_prefix(at + 1);
  }
}

bool contains_ci(std::string_view haystack, std::string_view needle) {
  return ascii_lower(haystack).find(ascii_lower(needle)) != std::string::npos;
}

bool client_matches(std::string_view network, std::string_view filter) {
  if (network.empty()) {
    return false;
  }
  if (auto ip = parse_ip(filter)) {
    auto net = parse_cidr(network);
    return net && net->contains(*ip);
  }
  return contains_ci(network, filter);
}

}  // namespace

std::string_view kind_name(char kind) {
  switch (kind) {
    case 't':
      return "triplet";
    case 'c':
      return "client-awl";
    case 'd':
      return "domain-awl";
    case 's':
      return "sender-seen";
    case 'p':
      return "pooled";
    case 'w':
      return "whitelist";
    default:
      return "other";
  }
}

bool is_greylist_key(std::string_view key) {
  return key.size() > 2 && key[1] == ':' &&
         std::string_view("tcdsp").find(key[0]) != std::string_view::npos;
}

std::optional<GreylistEntry> describe_entry(std::string_view key, const greylist::Record& rec) {
  if (!is_greylist_key(key)) {
    return std::nullopt;
  }
  const std::vector<std::string> f = split_fields(key.substr(2));
  GreylistEntry e;
  e.key = std::string(key);
  e.kind = kind_name(key[0]);
  e.record = rec;
  auto field = [&](std::size_t i) { return i < f.size() ? f[i] : std::string(); };
  switch (key[0]) {
    case 't':
      e.network = field(0), e.sender = field(1), e.recipient = field(2);
      break;
    case 'c':
      e.network = field(0);
      break;
    case 'd':
      e.domain = field(0), e.network = field(1);
      break;
    case 's':
      e.sender = field(0), e.network = field(1);
      break;
    case 'p':
      e.sender = field(0), e.recipient = field(1), e.domain = field(2);
      break;
    default:
      return std::nullopt;
  }
  return e;
}

bool matches(const GreylistEntry& e, const GreylistFilter& f) {
  if (!f.client.empty() && !client_matches(e.network, f.client)) {
    return false;
  }
  if (!f.sender.empty()) {
    const bool by_domain = e.kind == "domain-awl";
    const std::string_view want = f.sender;
    const std::size_t at = want.rfind('@');
    const bool ok = by_domain
                        ? (contains_ci(e.domain, want) ||
                           (at != std::string_view::npos && iequals(e.domain, want.substr(at + 1))))
                        : (!e.sender.empty() && contains_ci(e.sender, want));
    if (!ok) {
      return false;
    }
  }
  if (!f.recipient.empty() && (e.recipient.empty() || !contains_ci(e.recipient, f.recipient))) {
    return false;
  }
  return true;
}

Result<GreylistPage> search_greylist(greylist::Store& store, const GreylistFilter& f) {
  GreylistPage page;
  auto ok = store.scan("", [&](std::string_view key, const greylist::Record& rec) {
    auto e = describe_entry(key, rec);
    if (!e || !matches(*e, f)) {
      return true;
    }
    if (page.entries.size() >= f.limit) {
      page.truncated = true;
      return false;
    }
    page.entries.push_back(std::move(*e));
    return true;
  });
  if (!ok) {
    return tl::unexpected(ok.error());
  }
  return page;
}

}  // namespace gf::admin
