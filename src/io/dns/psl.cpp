#include "io/dns/psl.hpp"

#include <libpsl.h>

namespace gf::io {

PublicSuffixList::PublicSuffixList() {
  psl_ctx_t* latest = psl_latest(nullptr);
  if (latest != nullptr) {
    ctx_ = latest;
    owned_ = true;
  } else {
    ctx_ = psl_builtin();
  }
}

PublicSuffixList::~PublicSuffixList() {
  if (owned_) {
    psl_free(static_cast<psl_ctx_t*>(const_cast<void*>(ctx_)));
  }
}

std::string PublicSuffixList::lookup(const std::string& host) const {
  const char* rd = psl_registrable_domain(static_cast<const psl_ctx_t*>(ctx_), host.c_str());
  return rd != nullptr ? std::string(rd) : std::string();
}

std::string PublicSuffixList::registrable_domain(std::string_view host) const {
  if (ctx_ == nullptr || host.empty() || host.size() > 253) {
    return {};
  }
  std::string h(host);
  while (!h.empty() && h.back() == '.') {
    h.pop_back();
  }
  const std::size_t dot = h.find('.');
  if (dot == std::string::npos) {
    return lookup(h);
  }
  // For host = label.parent: if regdom(host) is shorter than host, it is a suffix of parent and
  // equals regdom(parent)'s answer for every child of parent; if it is host itself, parent is a
  // public suffix and every child is its own registrable domain. Either way parent decides.
  const std::string parent = h.substr(dot + 1);
  {
    std::lock_guard lock(mu_);
    if (auto it = by_parent_.find(parent); it != by_parent_.end()) {
      return it->second.empty() ? h : it->second;
    }
  }
  std::string rd = lookup(h);
  if (!rd.empty()) {
    std::lock_guard lock(mu_);
    if (by_parent_.size() >= kMaxCached) {
      by_parent_.clear();
    }
    by_parent_.emplace(parent, rd == h ? std::string() : rd);
  }
  return rd;
}

}  // namespace gf::io
