#include "server/process/launch_steps.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "server/process/seccomp_filter.h"
#include "server/process/user_lookup.h"

namespace rexec::process {
namespace {

[[noreturn]] void Fail(int report_fd, LaunchStep step, int error) {
  LaunchFailure failure{static_cast<int32_t>(step), error};
  (void)!write(report_fd, &failure, sizeof failure);
  _exit(127);
}

void CloseRangeExcept(unsigned first, int keep) {
  if (keep >= static_cast<int>(first)) {
    if (keep > static_cast<int>(first)) close_range(first, keep - 1, 0);
    close_range(keep + 1, ~0U, 0);
  } else {
    close_range(first, ~0U, 0);
  }
}

// PID 1 of the child's namespace: reaps whatever is re-parented to it, and
// when the program ends reports how and exits, which kills every process
// left in the namespace. Its default dispositions make it immune to every
// signal but SIGKILL (the kernel's rule for an init), so the program's
// descendants cannot stop it, and a stop from outside reaches the program.
[[noreturn]] void RunInit(pid_t program, int status_fd) {
  prctl(PR_SET_DUMPABLE, 0);
  CloseRangeExcept(0, status_fd);
  for (;;) {
    siginfo_t info{};
    if (waitid(P_ALL, 0, &info, WEXITED) != 0) {
      if (errno == EINTR) continue;
      _exit(127);
    }
    if (info.si_pid != program) continue;
    const bool exited = info.si_code == CLD_EXITED;
    InitReport report{exited ? 0 : 1, info.si_status,
                      info.si_code == CLD_DUMPED ? 1 : 0};
    (void)!write(status_fd, &report, sizeof report);
    _exit(exited ? info.si_status : 128 + info.si_status);
  }
}

void ResetSignals() {
  sigset_t empty;
  sigemptyset(&empty);
  sigprocmask(SIG_SETMASK, &empty, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    sigaction(sig, &dfl, nullptr);  // EINVAL for SIGKILL, SIGSTOP: fine
  }
}

// The passed fds onto their targets; everything else is closed at exec.
// Returns the report fd, moved above the targets so a dup2 cannot hit it.
int PlaceFds(PreparedLaunch& launch) {
  const LaunchSpec& spec = *launch.spec;
  const ChildFds& fds = launch.fds;
  int first_free = 3;
  for (int target : spec.fd_targets) {
    first_free = std::max(first_free, target + 1);
  }
  const int report = fcntl(fds.report, F_DUPFD_CLOEXEC, first_free);
  if (report < 0) Fail(fds.report, LaunchStep::kFds, errno);
  for (size_t i = 0; i < fds.passed.size(); ++i) {
    launch.scratch[i] = fcntl(fds.passed[i], F_DUPFD_CLOEXEC, first_free);
    if (launch.scratch[i] < 0) Fail(report, LaunchStep::kFds, errno);
  }
  for (size_t i = 0; i < fds.passed.size(); ++i) {
    // dup2 clears close-on-exec on the target only.
    if (dup2(launch.scratch[i], spec.fd_targets[i]) < 0) {
      Fail(report, LaunchStep::kFds, errno);
    }
  }
  // Every fd of ours is close-on-exec already; this is the second lock on
  // the door, for one opened without the flag.
  close_range(first_free, ~0U, CLOSE_RANGE_CLOEXEC);
  return report;
}

// Drops from the bounding set every capability not in `keep`, and clears
// the ambient set. Without CAP_SETPCAP (an unprivileged server) a drop is
// refused; under no_new_privs the bounding set only bounds what an execve
// could grant, which no_new_privs forbids anyway, so that is no loss.
void ApplyBoundingSet(uint64_t keep, bool no_new_privs, int report) {
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  for (int cap = 0; cap <= 63; ++cap) {
    const int has = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (has < 0) break;  // past the kernel's last capability
    if (has == 0 || (keep & (uint64_t{1} << cap)) != 0) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 &&
        !(errno == EPERM && no_new_privs)) {
      Fail(report, LaunchStep::kBoundingSet, errno);
    }
  }
}

void ApplyCapabilities(uint64_t keep, bool root, int report) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  for (int i = 0; i < 2; ++i) {
    const uint32_t bits = static_cast<uint32_t>(keep >> (32 * i));
    data[i].effective = data[i].permitted = data[i].inheritable = bits;
  }
  if (syscall(SYS_capset, &header, data) != 0) {
    Fail(report, LaunchStep::kCapabilities, errno);
  }
  if (root) return;  // uid 0 keeps its permitted set across execve
  // Another user loses them at execve, but for ambient ones.
  for (int cap = 0; cap <= 63; ++cap) {
    if ((keep & (uint64_t{1} << cap)) == 0) continue;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) {
      Fail(report, LaunchStep::kCapabilities, errno);
    }
  }
}

// Raw syscalls: glibc's wrappers would act for every thread of the
// launcher (setxid), and this child shares its memory, not its threads.
void ApplyCredentials(const PreparedLaunch& launch, bool keep_caps,
                      int report) {
  const Credentials& cred = *launch.spec->containment.credentials;
  if (keep_caps) prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
  if (launch.set_groups &&
      syscall(SYS_setgroups, cred.groups.size(), cred.groups.data()) != 0) {
    Fail(report, LaunchStep::kGroups, errno);
  }
  if (launch.set_gid &&
      syscall(SYS_setresgid, cred.gid, cred.gid, cred.gid) != 0) {
    Fail(report, LaunchStep::kGid, errno);
  }
  if (launch.set_uid &&
      syscall(SYS_setresuid, cred.uid, cred.uid, cred.uid) != 0) {
    Fail(report, LaunchStep::kUid, errno);
  }
}

// Where rexecd is not init of a PID namespace of its own (pid_namespace.h),
// nothing else ends its children if it is killed: they at least die with
// it (what they start may not). Once set, a parent that died before shows
// as another parent; a PID namespace's init, whose parent is outside it,
// sees none, and takes the small risk.
void DieWithRexecd(const PreparedLaunch& launch, int report) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
    Fail(report, LaunchStep::kSignals, errno);
  }
  if (!launch.spec->containment.pid_namespace && getppid() != launch.parent) {
    _exit(127);
  }
}

}  // namespace

absl::string_view LaunchStepName(LaunchStep step) {
  switch (step) {
    case LaunchStep::kProcessGroup:
      return "setpgid";
    case LaunchStep::kSession:
      return "setsid";
    case LaunchStep::kControllingTerminal:
      return "controlling terminal";
    case LaunchStep::kSignals:
      return "signals";
    case LaunchStep::kMounts:
      return "mount /proc";
    case LaunchStep::kInit:
      return "fork init";
    case LaunchStep::kFds:
      return "fds";
    case LaunchStep::kCwd:
      return "chdir";
    case LaunchStep::kLimits:
      return "setrlimit";
    case LaunchStep::kBoundingSet:
      return "capability bounding set";
    case LaunchStep::kGroups:
      return "setgroups";
    case LaunchStep::kGid:
      return "setgid";
    case LaunchStep::kUid:
      return "setuid";
    case LaunchStep::kCapabilities:
      return "capabilities";
    case LaunchStep::kNoNewPrivs:
      return "no_new_privs";
    case LaunchStep::kSeccomp:
      return "seccomp";
    case LaunchStep::kExec:
      return "exec";
  }
  return "unknown step";
}

PreparedLaunch PrepareLaunch(const LaunchSpec& spec, ChildFds fds) {
  PreparedLaunch launch;
  launch.spec = &spec;
  for (const std::string& arg : spec.argv) {
    launch.argv.push_back(const_cast<char*>(arg.c_str()));
  }
  launch.argv.push_back(nullptr);
  for (const std::string& entry : spec.envp) {
    launch.envp.push_back(const_cast<char*>(entry.c_str()));
  }
  launch.envp.push_back(nullptr);
  if (const auto& cred = spec.containment.credentials) {
    launch.set_groups = !AreCurrentGroups(cred->groups);
    launch.set_gid = getgid() != cred->gid || getegid() != cred->gid;
    launch.set_uid = getuid() != cred->uid || geteuid() != cred->uid;
  }
  for (size_t i = 0; i < spec.fd_targets.size() && i < fds.passed.size(); ++i) {
    if (spec.fd_targets[i] == spec.controlling_tty) launch.tty = fds.passed[i];
  }
  launch.parent = getppid();
  launch.scratch.resize(fds.passed.size());
  launch.fds = std::move(fds);
  if (spec.containment.seccomp) {
    absl::StatusOr<const sock_fprog*> filter = DefaultSeccompFilter();
    launch.seccomp = filter.ok() ? *filter : nullptr;
    launch.seccomp_error = filter.ok() ? 0 : ENOSYS;
  }
  return launch;
}

void RunLaunchSteps(PreparedLaunch& launch) {
  const LaunchSpec& spec = *launch.spec;
  const Containment& c = spec.containment;
  const int first_report = launch.fds.report;
  if (launch.tty >= 0) {
    // Before the fork of a PID namespace's init: the init leads the
    // session, and the program, in it, keeps the terminal.
    if (setsid() < 0) Fail(first_report, LaunchStep::kSession, errno);
    if (ioctl(launch.tty, TIOCSCTTY, 0) != 0) {
      Fail(first_report, LaunchStep::kControllingTerminal, errno);
    }
  } else if (spec.new_session) {
    // A session leader leads its own process group too: the stop's group
    // signal still reaches it.
    if (setsid() < 0) Fail(first_report, LaunchStep::kSession, errno);
  } else if (setpgid(0, 0) != 0) {
    Fail(first_report, LaunchStep::kProcessGroup, errno);
  }
  ResetSignals();
  DieWithRexecd(launch, first_report);
  if (c.pid_namespace) {
    // Our mounts must not propagate out of the new mount namespace.
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              nullptr) != 0) {
      Fail(first_report, LaunchStep::kMounts, errno);
    }
    // Named before the fork: the program, which may run first, must not
    // see PID 1 under the launcher's name (its own exec renames it).
    prctl(PR_SET_NAME, "rexec-init");
    const pid_t program = fork();
    if (program < 0) Fail(first_report, LaunchStep::kInit, errno);
    if (program > 0) RunInit(program, launch.fds.status);
  }
  const int report = PlaceFds(launch);
  if (!spec.cwd.empty() && chdir(spec.cwd.c_str()) != 0) {
    Fail(report, LaunchStep::kCwd, errno);
  }
  if (spec.umask) umask(*spec.umask);  // cannot fail
  for (const ResourceLimit& limit : c.limits) {
    const rlimit value{limit.soft, limit.hard};
    if (setrlimit(limit.resource, &value) != 0) {
      Fail(report, LaunchStep::kLimits, errno);
    }
  }
  const bool root = c.credentials ? c.credentials->uid == 0 : getuid() == 0;
  if (c.capabilities) ApplyBoundingSet(*c.capabilities, c.no_new_privs, report);
  if (c.credentials) {
    ApplyCredentials(launch, c.capabilities.has_value() && *c.capabilities != 0,
                     report);
  }
  // A change of credentials cleared it.
  if (c.credentials) DieWithRexecd(launch, report);
  if (c.capabilities) ApplyCapabilities(*c.capabilities, root, report);
  if (c.no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    Fail(report, LaunchStep::kNoNewPrivs, errno);
  }
  // Last: from here on the filter holds, and it allows execve.
  if (c.seccomp) {
    if (launch.seccomp == nullptr) {
      Fail(report, LaunchStep::kSeccomp, launch.seccomp_error);
    }
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, launch.seccomp) != 0) {
      Fail(report, LaunchStep::kSeccomp, errno);
    }
  }
  execve(spec.path.c_str(), launch.argv.data(), launch.envp.data());
  Fail(report, LaunchStep::kExec, errno);
}

}  // namespace rexec::process
