#include "core/common/privileges.hpp"

#include <fmt/format.h>

namespace gf {

Result<PrivilegeAction> decide_privileges(const PrivilegeRequest& request) {
  if (request.euid != 0) {
    return PrivilegeAction::Unprivileged;
  }
  if (request.user.empty()) {
    return fail(Errc::Config,
                "started as root with no user to drop to: set daemon.user (the package uses "
                "\"greyflux\"), or daemon.user = \"root\" to keep root");
  }
  if (request.user == "root") {
    if (!request.group.empty() && request.group != "root") {
      return fail(Errc::Config,
                  fmt::format("daemon.group: \"{}\" with daemon.user = \"root\" would drop "
                              "only the group; set daemon.user to a user",
                              request.group));
    }
    return PrivilegeAction::KeepRoot;
  }
  return PrivilegeAction::Drop;
}

Result<void> check_drop_target(std::string_view user, std::uint32_t uid, std::uint32_t gid) {
  if (uid == 0) {
    return fail(Errc::Config, fmt::format("daemon.user: \"{}\" has uid 0, which drops nothing; "
                                          "name an unprivileged user, or \"root\" to keep root",
                                          user));
  }
  if (gid == 0) {
    return fail(Errc::Config, fmt::format("daemon.group: dropping \"{}\" to gid 0 would keep "
                                          "root's group; name another group",
                                          user));
  }
  return {};
}

}  // namespace gf
