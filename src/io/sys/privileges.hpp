#pragma once
// The system calls of the privilege drop (the decision is core/common/privileges.hpp).
//
// Flow in `greyflux serve`: lookup_identity() resolves daemon.user/group before anything is
// opened (a missing user is a start-up error); give_to() hands greyflux's own state files to
// that user; once every listener and file is open, drop_to() leaves root for good, or, started
// unprivileged, drop_capabilities() gives up the capabilities systemd granted (port 783).
// Either way every thread of the process ends with no capabilities and no_new_privs, and the
// result is verified from /proc/self/task/*/status before the daemon serves.
//
// Errors: Result values naming the call that failed; a failed drop is fatal at start-up (the
// caller exits), so a half-dropped process never serves. Call from the main thread while the
// other threads are running ordinary code (each gets a signal, see privileges.cpp).
#include <sys/types.h>

#include <string>
#include <string_view>

#include "core/common/result.hpp"

namespace gf::io {

struct Identity {
  std::string user;
  uid_t uid = 0;
  gid_t gid = 0;
};

// daemon.user / daemon.group to ids; group "" = the user's primary group.
[[nodiscard]] Result<Identity> lookup_identity(std::string_view user, std::string_view group);

// lchown `path` (and, for a directory, the entries directly in it) to `who` when owned by
// someone else. A missing path is fine (nothing to give).
[[nodiscard]] Result<void> give_to(const std::string& path, const Identity& who, bool children);

// Root -> `who`: bounding set emptied, supplementary groups of `who` (initgroups), setresgid,
// setresuid, no capabilities in any thread, no_new_privs; then verify() must pass.
[[nodiscard]] Result<void> drop_to(const Identity& who);

// Whether the calling thread holds any capability (permitted or ambient): an unprivileged start
// that was granted some (systemd's AmbientCapabilities=) has something to drop.
[[nodiscard]] bool has_capabilities();

// Unprivileged start: every capability (effective, permitted, inheritable, ambient) of every
// thread is dropped and no_new_privs set; then verify() must pass.
[[nodiscard]] Result<void> drop_capabilities();

// What the kernel says about every thread: real, effective and saved uid (and gid) equal to
// `uid` (`gid`), no effective or permitted capability, no_new_privs; and setuid(0) fails.
[[nodiscard]] Result<void> verify_dropped(uid_t uid, gid_t gid);

}  // namespace gf::io
