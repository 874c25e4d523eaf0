#pragma once
// Who `greyflux serve` runs as: the pure decision behind the privilege drop (the system calls
// are in io/sys/privileges.hpp).
//
// Flow: the daemon, before it opens anything, asks decide_privileges() with its effective uid
// and the configured [daemon] user/group. Started as root it must have a user to drop to: it
// opens its listeners and files as root, then drops to that user (Drop). daemon.user = "root"
// keeps root on purpose (KeepRoot, said in one info line). Started as any other user there is
// nothing to drop to (Unprivileged: systemd's User= or the shell already chose the user); only
// capabilities, if it has any (AmbientCapabilities=CAP_NET_BIND_SERVICE for port 783), are
// dropped once the listeners are open.
//
// Errors: started as root with no user, the one clear start-up line says what to set.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/common/result.hpp"

namespace gf {

enum class PrivilegeAction { Unprivileged, Drop, KeepRoot };

struct PrivilegeRequest {
  std::uint32_t euid = 0;  // the effective uid greyflux started with
  std::string user;        // daemon.user: "" none, "root" keep root, else a user name
  std::string group;       // daemon.group: "" the user's primary group
};

[[nodiscard]] Result<PrivilegeAction> decide_privileges(const PrivilegeRequest& request);

// The ids that `user`/`group` resolved to. Dropping to uid 0 or gid 0 under another name (an
// alias of root such as "toor") would drop nothing: an error naming the setting.
[[nodiscard]] Result<void> check_drop_target(std::string_view user, std::uint32_t uid,
                                             std::uint32_t gid);

}  // namespace gf
