#include "io/sys/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gf::io {
namespace {

Error os_error(const std::string& path, std::string_view step, int err) {
  return Error{err == ENOENT ? Errc::NotFound : Errc::Io,
               path + ": " + std::string(step) + ": " + std::strerror(err)};
}

// Closes the descriptor on every path out of a function.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  int get() const { return fd_; }
  // Closes now and reports close(2)'s error (a write error NFS reports late).
  int close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

Result<void> write_all(int fd, std::string_view content, const std::string& path) {
  std::size_t off = 0;
  while (off < content.size()) {
    const ssize_t w = ::write(fd, content.data() + off, content.size() - off);
    if (w < 0) {
      if (errno == EINTR) {
        continue;
      }
      return tl::unexpected(os_error(path, "write", errno));
    }
    off += static_cast<std::size_t>(w);
  }
  return {};
}

}  // namespace

std::string parent_dir(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) {
    return ".";
  }
  return slash == 0 ? "/" : path.substr(0, slash);
}

Result<std::string> read_file(const std::string& path, std::size_t max_bytes) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    return tl::unexpected(os_error(path, "cannot open", errno));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return tl::unexpected(os_error(path, "cannot stat", errno));
  }
  if (S_ISDIR(st.st_mode)) {
    return fail(Errc::Io, path + ": is a directory");
  }
  const auto too_large = [&] {
    return fail(Errc::TooLarge, path + ": larger than " + std::to_string(max_bytes) + " bytes");
  };
  if (S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    return too_large();
  }
  std::string out;
  if (S_ISREG(st.st_mode)) {
    out.reserve(static_cast<std::size_t>(st.st_size));
  }
  char buf[65536];
  while (true) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return tl::unexpected(os_error(path, "read", errno));
    }
    if (n == 0) {
      break;
    }
    if (out.size() + static_cast<std::size_t>(n) > max_bytes) {
      return too_large();  // a file that grew, or a pipe
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

Result<void> write_file_atomic(const std::string& path, std::string_view content, mode_t mode) {
  std::string tmp = path + ".tmp.XXXXXX";
  Fd fd(::mkstemp(tmp.data()));
  if (fd.get() < 0) {
    return tl::unexpected(os_error(path, "cannot create a temporary file", errno));
  }
  auto abandon = [&](Error e) -> Result<void> {
    ::unlink(tmp.c_str());
    return tl::unexpected(std::move(e));
  };
  if (auto ok = write_all(fd.get(), content, path); !ok) {
    return abandon(ok.error());
  }
  if (::fchmod(fd.get(), mode) != 0) {
    return abandon(os_error(path, "fchmod", errno));
  }
  if (::fsync(fd.get()) != 0) {
    return abandon(os_error(path, "fsync", errno));
  }
  if (fd.close() != 0) {
    return abandon(os_error(path, "close", errno));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return abandon(os_error(path, "rename", errno));
  }
  // The rename is in the directory: without this fsync a power loss can bring the old file back
  // (or, for a new file, none at all) although the data itself reached the disk.
  const std::string dir = parent_dir(path);
  Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.get() < 0) {
    return tl::unexpected(os_error(dir, "cannot open the directory to fsync it", errno));
  }
  if (::fsync(dfd.get()) != 0) {
    return tl::unexpected(os_error(dir, "fsync of the directory", errno));
  }
  return {};
}

}  // namespace gf::io
