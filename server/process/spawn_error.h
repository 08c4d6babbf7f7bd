// SpawnError is the status of a system call that failed while a child was
// being started: "spawn PROG: What (ENAME)", its code saying whose the
// condition is. A plain function; thread-safe.
#ifndef REXEC_SERVER_PROCESS_SPAWN_ERROR_H_
#define REXEC_SERVER_PROCESS_SPAWN_ERROR_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace rexec::process {

// Conditions of the machine, not of the request (EAGAIN, EMFILE, ENFILE,
// ENOMEM), are RESOURCE_EXHAUSTED: the caller may retry later.
absl::Status SpawnError(int error_number, absl::string_view program);

}  // namespace rexec::process

#endif  // REXEC_SERVER_PROCESS_SPAWN_ERROR_H_
