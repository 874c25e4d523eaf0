#include "io/mail/model_file.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "core/spamd/tell_journal.hpp"
#include "io/sys/file.hpp"

namespace gf::io {

namespace fs = std::filesystem;

Result<spamd::Scanner> load_mail_model(const std::string& path,
                                       const spamd::ScannerOptions& options,
                                       std::uint64_t* blob_hash) {
  if (blob_hash != nullptr) {
    *blob_hash = 0;
  }
  if (path.empty()) {
    return spamd::Scanner(options);
  }
  auto bytes = read_file(path);
  if (!bytes && bytes.error().code == Errc::NotFound) {
    return spamd::Scanner(options);
  }
  if (!bytes) {
    return tl::unexpected(bytes.error());
  }
  if (blob_hash != nullptr) {
    *blob_hash = spamd::model_hash(*bytes);
  }
  auto loaded = spamd::Scanner::deserialize(*bytes, options);
  if (!loaded) {
    return fail(Errc::Config, fmt::format("mail model {}: {}", path, loaded.error().message));
  }
  return std::move(*loaded);
}

Result<void> save_mail_model(const std::string& path, std::string_view blob) {
  if (path.empty()) {
    return {};
  }
  const fs::path target(path);
  if (target.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);  // a failure shows in the write below
  }
  return write_file_atomic(path, blob);
}

}  // namespace gf::io
