#include "server/process/child.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "common/signal_name.h"
#include "common/status_macros.h"
#include "server/process/child_registry.h"
#include "server/process/launch_steps.h"
#include "server/process/launcher.h"
#include "server/process/resource_usage.h"
#include "server/process/spawn_error.h"

// glibc 2.36's <sys/pidfd.h> lacks extern "C".
extern "C" {
#include <sys/pidfd.h>
}

namespace rexec::process {
namespace {

constexpr int kPidTypePidfd = 3;  // P_PIDFD, from <linux/wait.h>

absl::Status CheckCwd(const std::string& cwd, absl::string_view program) {
  if (cwd.empty()) return absl::OkStatus();
  struct stat st;
  if (stat(cwd.c_str(), &st) != 0) {
    return ErrnoStatus(errno, absl::StrCat("spawn ", program, ": cwd ", cwd));
  }
  if (!S_ISDIR(st.st_mode)) {
    return ErrnoStatus(ENOTDIR, absl::StrCat("spawn ", program, ": cwd ", cwd));
  }
  return absl::OkStatus();
}

// The error of a launch step that failed: an exec error reads as
// posix_spawn's did ("spawn PROG: No such file..."), others name the step.
absl::Status StepError(const LaunchFailure& failure,
                       absl::string_view program) {
  const auto step = static_cast<LaunchStep>(failure.step);
  if (step == LaunchStep::kExec) return SpawnError(failure.error, program);
  return SpawnError(failure.error,
                    absl::StrCat(program, ": ", LaunchStepName(step)));
}

// How often a child that has neither exec'd nor failed is checked for
// being stopped.
constexpr int kStopCheckMs = 100;

}  // namespace

absl::StatusOr<std::optional<LaunchFailure>> Child::AwaitExec(
    int report_fd, absl::string_view program) {
  for (;;) {
    pollfd ready{report_fd, POLLIN, 0};
    const int n = poll(&ready, 1, kStopCheckMs);
    if (n < 0 && errno == EINTR) continue;
    if (n > 0) {
      LaunchFailure failure{};
      ssize_t got;
      do {
        got = read(report_fd, &failure, sizeof failure);
      } while (got < 0 && errno == EINTR);
      if (got == sizeof failure) return failure;
      return std::nullopt;  // EOF: its exec closed the pipe
    }
    // Between its switch to another user and its exec, any process of that
    // user may stop the child (SIGSTOP), and would hold this thread for
    // ever: such a child is killed.
    siginfo_t info{};
    if (syscall(SYS_waitid, kPidTypePidfd, pidfd_.Get(), &info,
                WSTOPPED | WNOHANG | WNOWAIT, nullptr) == 0 &&
        info.si_pid != 0 && info.si_code == CLD_STOPPED) {
      SignalGroup(SIGKILL).IgnoreError();
      Wait().IgnoreError();
      return absl::UnavailableError(absl::StrCat(
          "spawn ", program, ": the child was stopped by ",
          SignalName(info.si_status),
          " before its exec, and was killed (a process of its user may have "
          "stopped it)"));
    }
  }
}

absl::StatusOr<Child> Child::Spawn(const SpawnOptions& options) {
  REXEC_RETURN_IF_ERROR(ValidateSpawnOptions(options));
  const std::string& program = options.argv[0];
  Launcher* launcher = Launcher::Global();
  if (launcher == nullptr) {
    return absl::FailedPreconditionError(
        "no launcher: Launcher::Start() must run before the first thread");
  }
  REXEC_RETURN_IF_ERROR(CheckCwd(options.cwd, program));

  LaunchSpec spec;
  spec.envp = BuildEnvironment(options);
  REXEC_ASSIGN_OR_RETURN(spec.path, ResolveExecutable(options, spec.envp));
  spec.argv = options.argv;
  spec.cwd = options.cwd;
  spec.containment = options.containment;
  spec.new_session = options.new_session;
  spec.umask = options.umask;

  // The report pipe: a failed launch step, or EOF once exec succeeded.
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) return SpawnError(errno, program);
  UniqueFd report_read(report[0]), report_write(report[1]);
  REXEC_ASSIGN_OR_RETURN(StdioEnds stdio,
                         MakeStdio(options.stdio, options.terminal,
                                   options.containment.credentials, program));
  std::vector<int> fds = {report_write.Get()};
  for (const UniqueFd& fd : stdio.child) fds.push_back(fd.Get());
  spec.fd_targets = stdio.targets;
  spec.controlling_tty = stdio.controlling_tty;
  std::optional<Cgroup> cgroup;
  UniqueFd cgroup_dir;  // closed once the child is in it
  if (options.cgroup) {
    const CgroupPlacement& place = *options.cgroup;
    REXEC_ASSIGN_OR_RETURN(
        Cgroup made,
        place.root->Create(place.group, place.group_pids_max, place.limits));
    cgroup.emplace(std::move(made));
    REXEC_ASSIGN_OR_RETURN(cgroup_dir, cgroup->OpenDir());
    spec.into_cgroup = true;
    fds.push_back(cgroup_dir.Get());
  }
  // The init of a PID namespace reports how the program ended here.
  UniqueFd status_read, status_write;
  if (spec.containment.pid_namespace) {
    int status[2];
    if (pipe2(status, O_CLOEXEC | O_NONBLOCK) != 0) {
      return SpawnError(errno, program);
    }
    status_read.Reset(status[0]);
    status_write.Reset(status[1]);
    fds.push_back(status_write.Get());
  }

  ChildRegistry& registry = ChildRegistry::Global();
  registry.BeginSpawn();
  absl::StatusOr<Launched> launched = launcher->Launch(spec, fds);
  registry.EndSpawn(launched.ok() ? launched->pid : -1);
  if (!launched.ok()) return launched.status();
  if (launched->pid < 0) return SpawnError(launched->error, program);

  // The child is alive: from here on nothing may fail without reaping it,
  // which ~Child does.
  Child child;
  child.pid_ = launched->pid;
  child.pidfd_ = std::move(launched->pidfd);
  child.init_status_ = std::move(status_read);
  if (cgroup) child.cgroup_.emplace(std::move(*cgroup));
  report_write.Reset();
  status_write.Reset();
  cgroup_dir.Reset();
  REXEC_ASSIGN_OR_RETURN(std::optional<LaunchFailure> failure,
                         child.AwaitExec(report_read.Get(), program));
  if (failure) {
    child.Wait().IgnoreError();  // it exits 127 right after its report
    return StepError(*failure, program);
  }
  for (int i = 0; i < kStdioTargets; ++i) {
    child.ends_[i] = std::move(stdio.ours[i]);
  }
  child.terminal_ = std::move(stdio.terminal);
  return child;
}

Child::Child(Child&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      reaped_(other.reaped_),
      pidfd_(std::move(other.pidfd_)),
      init_status_(std::move(other.init_status_)),
      cgroup_(std::move(other.cgroup_)),
      terminal_(std::move(other.terminal_)) {
  for (int i = 0; i < kStdioTargets; ++i) {
    ends_[i] = std::move(other.ends_[i]);
  }
}

Child::~Child() {
  if (pid_ <= 0) return;
  if (!reaped_) {
    SignalGroup(SIGKILL).IgnoreError();
    if (pidfd_.Valid()) {
      Wait().IgnoreError();
    } else {
      // Only when pidfd_open failed: the pid is ours since it is unreaped.
      waitpid(pid_, nullptr, 0);
      ChildRegistry::Global().Reaped(pid_);
    }
  }
  ChildRegistry::Global().ReleaseGroup(pid_);
}

absl::Status Child::SignalGroup(int signal_number) const {
  if (cgroup_ && signal_number == SIGKILL) cgroup_->Kill().IgnoreError();
  if (reaped_) {
    // The leader no longer pins the group's id: see SignalReapedGroup.
    ChildRegistry::Global().SignalReapedGroup(pid_, signal_number);
    return absl::OkStatus();
  }
  if (killpg(pid_, signal_number) != 0 && errno != ESRCH) {
    return ErrnoStatus(errno, absl::StrCat("signal process group ", pid_));
  }
  return absl::OkStatus();
}

bool Child::GroupAlive() const {
  if (cgroup_) return cgroup_->Populated();
  if (reaped_) return ChildRegistry::Global().SignalReapedGroup(pid_, 0);
  return killpg(pid_, 0) == 0;
}

absl::StatusOr<std::optional<ExitStatus>> Child::TryReap() {
  return Reap(WNOHANG);
}

absl::StatusOr<ExitStatus> Child::Wait() {
  REXEC_ASSIGN_OR_RETURN(std::optional<ExitStatus> status, Reap(0));
  return *status;
}

absl::StatusOr<std::optional<ExitStatus>> Child::Reap(int options) {
  if (reaped_) return absl::FailedPreconditionError("child already reaped");
  siginfo_t info{};
  struct rusage usage {};
  // The raw syscall: glibc's waitid() has no rusage argument.
  for (;;) {
    long r = syscall(SYS_waitid, kPidTypePidfd, pidfd_.Get(), &info,
                     WEXITED | options, &usage);
    if (r == 0) break;
    if (errno != EINTR)
      return ErrnoStatus(errno, absl::StrCat("waitid ", pid_));
  }
  if (info.si_pid == 0) return std::nullopt;
  reaped_ = true;
  ChildRegistry::Global().Reaped(pid_);
  ExitStatus status = ExitStatus::FromSiginfo(info);
  InitReport report{};
  if (init_status_.Valid() &&
      read(init_status_.Get(), &report, sizeof report) == sizeof report) {
    // The program's own end, which its init's exit status cannot carry.
    status = report.signaled != 0
                 ? ExitStatus::Killed(report.value, report.core_dumped != 0)
                 : ExitStatus::Exited(report.value);
  }
  status.usage = ResourceUsageOf(usage);
  if (cgroup_) {
    // The cgroup's peak is the child's and its descendants' own; the
    // rusage peak starts from the launcher's.
    if (std::optional<int64_t> peak = cgroup_->MemoryPeak()) {
      status.usage.max_rss_bytes = *peak;
    }
    status.oom_killed = status.killed() && status.signal_number() == SIGKILL &&
                        cgroup_->OomKills() > 0;
  }
  return status;
}

}  // namespace rexec::process
