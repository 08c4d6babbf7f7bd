#include "server/process/seccomp_filter.h"

#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "common/errno_status.h"

namespace rexec::process {
namespace {

// Denied outright, with EPERM.
constexpr const char* kDenied[] = {
    "init_module",     "finit_module",  "delete_module",  "kexec_load",
    "kexec_file_load", "keyctl",        "add_key",        "request_key",
    "bpf",             "perf_event_open", "mount",        "umount2",
    "pivot_root",      "move_mount",    "open_tree",      "fsopen",
    "fsconfig",        "fsmount",       "fspick",         "mount_setattr",
    "process_vm_readv", "process_vm_writev", "reboot",    "swapon",
    "swapoff",         "acct",          "settimeofday",   "clock_settime",
    "clock_adjtime",   "adjtimex",      "iopl",           "ioperm",
    "quotactl",        "userfaultfd",   "open_by_handle_at", "syslog",
    "uselib",          "vhangup",       "lookup_dcookie",
    // Joining another process's namespaces (a user namespace another
    // process of the same user made), and taking its fds.
    "setns",           "pidfd_getfd",
};

absl::Status Refused(int rc, absl::string_view what) {
  return ErrnoStatus(-rc, absl::StrCat("seccomp: ", what));
}

absl::StatusOr<std::vector<sock_filter>> Build() {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (ctx == nullptr) return absl::InternalError("seccomp: seccomp_init");
  absl::Cleanup release = [ctx] { seccomp_release(ctx); };
  // The same rules for the other tables a 64-bit process may call through;
  // a kernel built without one refuses to add it, which is no loss.
  for (uint32_t arch : {SCMP_ARCH_X86, SCMP_ARCH_X32}) {
    if (arch != seccomp_arch_native()) seccomp_arch_add(ctx, arch);
  }
  const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
  for (const char* name : kDenied) {
    const int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue;  // not in these headers' kernel
    if (int rc = seccomp_rule_add(ctx, eperm, nr, 0); rc != 0) {
      return Refused(rc, name);
    }
  }
  struct Masked {
    int nr;
    unsigned arg;
  };
  for (const Masked& m : {Masked{SCMP_SYS(unshare), 0},
                          Masked{SCMP_SYS(clone), 0}}) {
    if (int rc = seccomp_rule_add(
            ctx, eperm, m.nr, 1,
            SCMP_CMP(m.arg, SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
        rc != 0) {
      return Refused(rc, "clone/unshare CLONE_NEWUSER");
    }
  }
  if (int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
                                SCMP_SYS(clone3), 0);
      rc != 0) {
    return Refused(rc, "clone3");
  }
  for (scmp_datum_t request : {scmp_datum_t{PTRACE_ATTACH},
                                scmp_datum_t{PTRACE_SEIZE}}) {
    if (int rc = seccomp_rule_add(ctx, eperm, SCMP_SYS(ptrace), 1,
                                  SCMP_A0(SCMP_CMP_EQ, request, 0));
        rc != 0) {
      return Refused(rc, "ptrace");
    }
  }
  // libseccomp 2.5 exports to an fd only.
  const int fd = memfd_create("seccomp", MFD_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "seccomp: memfd_create");
  absl::Cleanup close_fd = [fd] { close(fd); };
  if (int rc = seccomp_export_bpf(ctx, fd); rc != 0) {
    return Refused(rc, "export");
  }
  const off_t size = lseek(fd, 0, SEEK_END);
  if (size <= 0 || size % sizeof(sock_filter) != 0) {
    return absl::InternalError("seccomp: the exported filter is malformed");
  }
  std::vector<sock_filter> program(size / sizeof(sock_filter));
  if (pread(fd, program.data(), size, 0) != size) {
    return ErrnoStatus(errno, "seccomp: reading the exported filter");
  }
  return program;
}

}  // namespace

absl::StatusOr<const sock_fprog*> DefaultSeccompFilter() {
  static const absl::StatusOr<std::vector<sock_filter>>* const built =
      new absl::StatusOr<std::vector<sock_filter>>(Build());
  static const sock_fprog* const program =
      built->ok() ? new sock_fprog{static_cast<unsigned short>((*built)->size()),
                                   const_cast<sock_filter*>((*built)->data())}
                  : nullptr;
  if (!built->ok()) return built->status();
  return program;
}

}  // namespace rexec::process
