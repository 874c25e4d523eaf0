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

std::string PublicSuffixList::registrable_domain(std::string_view host) const {
  if (ctx_ == nullptr || host.empty() || host.size() > 253) {
    return {};
  }
  std::string h(host);
  while (!h.empty() && h.back() == '.') {
    h.pop_back();
  }
  const char* rd = psl_registrable_domain(static_cast<const psl_ctx_t*>(ctx_), h.c_str());
  return rd != nullptr ? std::string(rd) : std::string();
}

}  // namespace gf::io
