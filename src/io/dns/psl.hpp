#pragma once
// Registrable domains ("eTLD+1") from Debian's public suffix list through libpsl.
#include <string>
#include <string_view>

namespace gf::io {

class PublicSuffixList {
 public:
  PublicSuffixList();  // the newest of the built-in and the system list (package publicsuffix)
  ~PublicSuffixList();
  PublicSuffixList(const PublicSuffixList&) = delete;
  PublicSuffixList& operator=(const PublicSuffixList&) = delete;

  // "mail-oi1-f170.google.com" -> "google.com"; "" when the name has no registrable domain.
  std::string registrable_domain(std::string_view host) const;
  bool loaded() const { return ctx_ != nullptr; }

 private:
  const void* ctx_ = nullptr;
  bool owned_ = false;
};

}  // namespace gf::io
