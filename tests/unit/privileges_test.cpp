#include "core/common/privileges.hpp"

#include <gtest/gtest.h>

namespace gf {
namespace {

TEST(Privileges, RootWithoutUserRefusesWithOneLineNamingTheSetting) {
  auto r = decide_privileges({0, "", ""});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Config);
  EXPECT_NE(r.error().message.find("daemon.user"), std::string::npos);
  EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
}

TEST(Privileges, RootWithUserDrops) {
  EXPECT_EQ(decide_privileges({0, "greyflux", ""}).value(), PrivilegeAction::Drop);
  EXPECT_EQ(decide_privileges({0, "greyflux", "mail"}).value(), PrivilegeAction::Drop);
}

TEST(Privileges, RootNamedExplicitlyKeepsRoot) {
  EXPECT_EQ(decide_privileges({0, "root", ""}).value(), PrivilegeAction::KeepRoot);
  EXPECT_EQ(decide_privileges({0, "root", "root"}).value(), PrivilegeAction::KeepRoot);
  auto r = decide_privileges({0, "root", "mail"});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("daemon.group"), std::string::npos);
}

TEST(Privileges, AnotherUserHasNothingToDropWhateverIsConfigured) {
  for (const char* user : {"", "root", "greyflux"}) {
    EXPECT_EQ(decide_privileges({1000, user, ""}).value(), PrivilegeAction::Unprivileged) << user;
  }
}

TEST(Privileges, DropTargetMustNotBeRootUnderAnotherName) {
  EXPECT_TRUE(check_drop_target("greyflux", 105, 110));
  auto uid0 = check_drop_target("toor", 0, 110);
  ASSERT_FALSE(uid0);
  EXPECT_NE(uid0.error().message.find("\"toor\" has uid 0"), std::string::npos);
  auto gid0 = check_drop_target("greyflux", 105, 0);
  ASSERT_FALSE(gid0);
  EXPECT_NE(gid0.error().message.find("daemon.group"), std::string::npos);
}

}  // namespace
}  // namespace gf
