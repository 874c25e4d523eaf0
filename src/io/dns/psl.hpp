#pragma once
// Registrable domains ("eTLD+1") from Debian's public suffix list through libpsl.
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace gf::io {

class PublicSuffixList {
 public:
  PublicSuffixList();  // the newest of the built-in and the system list (package publicsuffix)
  ~PublicSuffixList();
  PublicSuffixList(const PublicSuffixList&) = delete;
  PublicSuffixList& operator=(const PublicSuffixList&) = delete;

  // "mail-oi1-f170.google.com" -> "google.com"; "" when the name has no registrable domain.
  // Results are cached by parent domain (exactly: see the .cpp), since libpsl costs about
  // 10,000 instructions a call and mail servers of one provider share their parent domain.
  std::string registrable_domain(std::string_view host) const;
  bool loaded() const { return ctx_ != nullptr; }

 private:
  std::string lookup(const std::string& host) const;

  const void* ctx_ = nullptr;
  static constexpr std::size_t kMaxCached = 65536;
  mutable std::mutex mu_;
  // parent domain -> registrable domain of its children, or "" when the parent is itself a
  // public suffix (then a child's registrable domain is the child).
  mutable std::unordered_map<std::string, std::string> by_parent_;
  bool owned_ = false;
};

}  // namespace gf::io
