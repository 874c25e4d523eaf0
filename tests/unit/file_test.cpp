// io::read_file and io::write_file_atomic (src/io/sys/file.hpp) on a temporary directory.
#include "io/sys/file.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace gf::io {
namespace {

namespace fs = std::filesystem;

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gf_file_test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) {
      out.push_back(e.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::string dir_;
};

TEST_F(FileTest, WritesContentAndMode) {
  const std::string path = dir_ + "/model";
  ASSERT_TRUE(write_file_atomic(path, std::string("a\0b\n", 4), 0600));
  auto back = read_file(path);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, std::string("a\0b\n", 4));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);
  EXPECT_EQ(entries(), std::vector<std::string>{"model"});  // no temporary file left
}

TEST_F(FileTest, ReplacesAtomically) {
  const std::string path = dir_ + "/zone.rpz";
  ASSERT_TRUE(write_file_atomic(path, "old\n"));
  // A reader that opened the old file keeps reading the old content whole: the new one is a
  // different inode renamed over it, never the old one rewritten in place.
  const int old_fd = ::open(path.c_str(), O_RDONLY);
  ASSERT_GE(old_fd, 0);
  struct stat before {};
  ASSERT_EQ(::fstat(old_fd, &before), 0);
  ASSERT_TRUE(write_file_atomic(path, "new content\n"));
  char buf[32] = {};
  EXPECT_EQ(::pread(old_fd, buf, sizeof buf, 0), 4);
  EXPECT_EQ(std::string(buf, 4), "old\n");
  ::close(old_fd);
  struct stat after {};
  ASSERT_EQ(::stat(path.c_str(), &after), 0);
  EXPECT_NE(before.st_ino, after.st_ino);
  EXPECT_EQ(*read_file(path), "new content\n");
  EXPECT_EQ(entries(), std::vector<std::string>{"zone.rpz"});
}

TEST_F(FileTest, RelativePathFsyncsTheWorkingDirectory) {
  // A bare file name lives in "."; the directory fsync after the rename must open "." (the
  // same code path as any parent directory) and succeed.
  const fs::path saved = fs::current_path();
  fs::current_path(dir_);
  auto ok = write_file_atomic("bare.txt", "x");
  fs::current_path(saved);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(*read_file(dir_ + "/bare.txt"), "x");
}

TEST(FileParentDir, NamesTheDirectoryToFsync) {
  EXPECT_EQ(parent_dir("bare"), ".");
  EXPECT_EQ(parent_dir("/top"), "/");
  EXPECT_EQ(parent_dir("/var/lib/greyflux/mail.model"), "/var/lib/greyflux");
  EXPECT_EQ(parent_dir("var/x"), "var");
}

TEST_F(FileTest, MissingDirectoryFailsWithoutTouchingAnything) {
  auto ok = write_file_atomic(dir_ + "/no/such/dir/file", "y");
  ASSERT_FALSE(ok);
  EXPECT_NE(ok.error().message.find(dir_ + "/no/such/dir/file"), std::string::npos);
  EXPECT_TRUE(entries().empty());
}

TEST_F(FileTest, ReadMissingFileIsNotFoundNamingThePath) {
  auto r = read_file(dir_ + "/absent");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::NotFound);
  EXPECT_NE(r.error().message.find(dir_ + "/absent"), std::string::npos);
}

TEST_F(FileTest, ReadRefusesMoreThanTheLimit) {
  const std::string path = dir_ + "/big";
  ASSERT_TRUE(write_file_atomic(path, std::string(100, 'x')));
  EXPECT_TRUE(read_file(path, 100));
  auto r = read_file(path, 99);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::TooLarge);
  EXPECT_NE(r.error().message.find(path), std::string::npos);
}

TEST_F(FileTest, ReadOfADirectoryIsAnError) {
  auto r = read_file(dir_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Io);
}

TEST_F(FileTest, ReadEmptyFile) {
  const std::string path = dir_ + "/empty";
  ASSERT_TRUE(write_file_atomic(path, ""));
  auto r = read_file(path);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->empty());
}

}  // namespace
}  // namespace gf::io
