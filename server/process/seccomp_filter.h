// The default seccomp filter of a child under a policy, after container
// runtimes' default profiles (Docker's, containerd's): every system call is
// allowed but those that reach past the child's own processes into the
// kernel or other processes, which fail with EPERM:
//   - user namespaces, the way to capabilities an unprivileged process has:
//     making one (clone and unshare with CLONE_NEWUSER; clone3, whose flags
//     a filter cannot read, fails with ENOSYS so that libc falls back to
//     clone) or joining one (setns);
//   - kernel modules and kexec; keyrings (keyctl, add_key, request_key);
//     bpf and perf_event_open; mounts (mount, umount2, pivot_root and the
//     new mount API); and the clock, swap, reboot, quota, acct, syslog,
//     iopl/ioperm, userfaultfd and open_by_handle_at;
//   - ptrace that attaches to a running process (PTRACE_ATTACH,
//     PTRACE_SEIZE), process_vm_readv/writev and pidfd_getfd: a child may
//     trace what it starts and asks to be traced (PTRACE_TRACEME, as gdb's
//     `run` does), not a process it did not start.
// The same filter covers the i386 and x32 system call tables.
//
// Built once with libseccomp, in the launcher; thread-compatible.
#ifndef REXEC_SERVER_PROCESS_SECCOMP_FILTER_H_
#define REXEC_SERVER_PROCESS_SECCOMP_FILTER_H_

#include <linux/filter.h>

#include "absl/status/statusor.h"

namespace rexec::process {

// The filter as a BPF program for prctl(PR_SET_SECCOMP), built on the first
// call and kept for the process's life. The error says what libseccomp
// refused.
absl::StatusOr<const sock_fprog*> DefaultSeccompFilter();

}  // namespace rexec::process

#endif  // REXEC_SERVER_PROCESS_SECCOMP_FILTER_H_
