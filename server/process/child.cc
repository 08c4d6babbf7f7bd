#include "server/process/child.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "common/status_macros.h"
#include "server/process/child_registry.h"
#include "server/process/executable_lookup.h"

// glibc 2.36's <sys/pidfd.h> lacks extern "C".
extern "C" {
#include <sys/pidfd.h>
}

extern char** environ;

namespace rexec::process {
namespace {

constexpr int kPidTypePidfd = 3;  // P_PIDFD, from <linux/wait.h>

absl::Duration FromTimeval(const timeval& tv) {
  return absl::Seconds(tv.tv_sec) + absl::Microseconds(tv.tv_usec);
}

bool ValidEnvName(const std::string& name) {
  return !name.empty() && name.find('=') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

std::optional<absl::string_view> FindPath(const std::vector<std::string>& env) {
  for (const std::string& entry : env) {
    if (entry.rfind("PATH=", 0) == 0) return absl::string_view(entry).substr(5);
  }
  return std::nullopt;
}

// Conditions of the machine, not of the request: the caller may retry later.
absl::Status SpawnError(int error_number, absl::string_view program) {
  absl::Status status =
      ErrnoStatus(error_number, absl::StrCat("spawn ", program));
  switch (error_number) {
    case EAGAIN:
    case EMFILE:
    case ENFILE:
    case ENOMEM:
      return absl::ResourceExhaustedError(status.message());
    case ENOEXEC:  // not a format the kernel can run (no shell fallback here)
      return absl::FailedPreconditionError(status.message());
    default:
      return status;
  }
}

// RAII for the posix_spawn attribute objects.
struct SpawnAttributes {
  SpawnAttributes() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnAttributes() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
};

}  // namespace

std::vector<std::string> BuildEnvironment(const SpawnOptions& options) {
  std::vector<std::string> env;
  absl::flat_hash_map<std::string, size_t> index;
  auto put = [&](std::string name, std::string entry) {
    auto [it, inserted] = index.try_emplace(std::move(name), env.size());
    if (inserted) {
      env.push_back(std::move(entry));
    } else {
      env[it->second] = std::move(entry);
    }
  };
  if (!options.clear_env && options.base_env.has_value()) {
    for (const auto& [name, value] : *options.base_env) {
      put(name, absl::StrCat(name, "=", value));
    }
  } else if (!options.clear_env) {
    for (char** e = environ; *e != nullptr; ++e) {
      const char* eq = std::strchr(*e, '=');
      if (eq == nullptr) continue;
      put(std::string(*e, eq - *e), *e);
    }
  }
  for (const auto& [name, value] : options.env) {
    put(name, absl::StrCat(name, "=", value));
  }
  return env;
}

absl::StatusOr<std::string> ResolveExecutable(const SpawnOptions& options) {
  if (!options.executable.empty()) return options.executable;
  const std::vector<std::string> env = BuildEnvironment(options);
  return FindExecutable(options.argv[0], FindPath(env), options.cwd);
}

absl::StatusOr<std::vector<std::string>> CandidateExecutables(
    const SpawnOptions& options) {
  const std::vector<std::string> env = BuildEnvironment(options);
  return ExecutableCandidates(options.argv[0], FindPath(env), options.cwd);
}

absl::Status ValidateSpawnOptions(const SpawnOptions& options) {
  if (options.argv.empty() || options.argv[0].empty()) {
    return absl::InvalidArgumentError(
        "argv is empty: argv[0] must name the program");
  }
  for (size_t i = 0; i < options.argv.size(); ++i) {
    if (options.argv[i].find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("argv[", i, "] contains a NUL byte"));
    }
  }
  for (const auto& [name, value] : options.env) {
    if (!ValidEnvName(name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "env name \"", name,
          "\" is invalid: it must be non-empty without '=' or NUL"));
    }
    if (value.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("env ", name, " value contains a NUL byte"));
    }
  }
  if (options.cwd.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError("cwd contains a NUL byte");
  }
  return absl::OkStatus();
}

absl::StatusOr<Child> Child::Spawn(const SpawnOptions& options) {
  REXEC_RETURN_IF_ERROR(ValidateSpawnOptions(options));
  const std::string& program = options.argv[0];

  if (!options.cwd.empty()) {
    struct stat st;
    if (stat(options.cwd.c_str(), &st) != 0) {
      return ErrnoStatus(
          errno, absl::StrCat("spawn ", program, ": cwd ", options.cwd));
    }
    if (!S_ISDIR(st.st_mode)) {
      return ErrnoStatus(
          ENOTDIR, absl::StrCat("spawn ", program, ": cwd ", options.cwd));
    }
  }

  std::vector<std::string> env = BuildEnvironment(options);
  REXEC_ASSIGN_OR_RETURN(
      std::string path,
      options.executable.empty()
          ? FindExecutable(program, FindPath(env), options.cwd)
          : options.executable);

  // pipes[i][0] is the read end. Child ends are dup2-ed onto 0, 1, 2, which
  // clears their close-on-exec flag in the child only.
  UniqueFd ends[3][2];
  for (auto& pipe_ends : ends) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return SpawnError(errno, program);
    pipe_ends[0].Reset(fds[0]);
    pipe_ends[1].Reset(fds[1]);
  }
  const int child_ends[3] = {ends[0][0].Get(), ends[1][1].Get(),
                             ends[2][1].Get()};

  SpawnAttributes sa;
  for (int target = 0; target < 3; ++target) {
    posix_spawn_file_actions_adddup2(&sa.actions, child_ends[target], target);
  }
  for (const auto& [ours, theirs] : options.extra_fds) {
    posix_spawn_file_actions_adddup2(&sa.actions, ours, theirs);
  }
  // Every fd of ours is close-on-exec already; this is the second lock on
  // the door, for fds a library opened without the flag.
  int first_closed = 3;
  for (const auto& [ours, theirs] : options.extra_fds) {
    first_closed = std::max(first_closed, theirs + 1);
  }
  posix_spawn_file_actions_addclosefrom_np(&sa.actions, first_closed);
  if (!options.cwd.empty()) {
    posix_spawn_file_actions_addchdir_np(&sa.actions, options.cwd.c_str());
  }
  sigset_t empty, all;
  sigemptyset(&empty);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&sa.attr, &empty);
  posix_spawnattr_setsigdefault(&sa.attr, &all);
  posix_spawnattr_setpgroup(&sa.attr, 0);
  posix_spawnattr_setflags(&sa.attr, POSIX_SPAWN_SETPGROUP |
                                         POSIX_SPAWN_SETSIGMASK |
                                         POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> argv;
  for (const std::string& arg : options.argv)
    argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (std::string& entry : env) envp.push_back(entry.data());
  envp.push_back(nullptr);

  Child child;
  ChildRegistry& registry = ChildRegistry::Global();
  registry.BeginSpawn();
  int error = posix_spawn(&child.pid_, path.c_str(), &sa.actions, &sa.attr,
                          argv.data(), envp.data());
  registry.EndSpawn(error == 0 ? child.pid_ : -1);
  if (error != 0) {
    child.pid_ = -1;
    return SpawnError(error, program);
  }
  // The child is alive: from here on nothing may fail without reaping it,
  // which ~Child does.
  child.pidfd_.Reset(pidfd_open(child.pid_, 0));
  if (!child.pidfd_.Valid()) {
    return ErrnoStatus(errno, absl::StrCat("pidfd_open ", child.pid_));
  }
  child.stdin_ = std::move(ends[0][1]);
  child.stdout_ = std::move(ends[1][0]);
  child.stderr_ = std::move(ends[2][0]);
  for (UniqueFd* fd : {&child.stdin_, &child.stdout_, &child.stderr_}) {
    fcntl(fd->Get(), F_SETFL, fcntl(fd->Get(), F_GETFL) | O_NONBLOCK);
  }
  return child;
}

Child::Child(Child&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      reaped_(other.reaped_),
      pidfd_(std::move(other.pidfd_)),
      stdin_(std::move(other.stdin_)),
      stdout_(std::move(other.stdout_)),
      stderr_(std::move(other.stderr_)) {}

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
  status.usage.user_cpu = FromTimeval(usage.ru_utime);
  status.usage.system_cpu = FromTimeval(usage.ru_stime);
  status.usage.max_rss_bytes = int64_t{usage.ru_maxrss} * 1024;
  return status;
}

}  // namespace rexec::process
