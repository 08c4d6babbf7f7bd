#include "server/process/pid_namespace.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/errno_status.h"

namespace rexec::process {
namespace {

// Relays what rexecd wrote for the service manager: messages that end in
// '\0', `pending` holding a part of one not yet ended.
void Relay(int fd, const ServiceNotifier& notifier, std::string* pending) {
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof buffer)) > 0 ||
         (n < 0 && errno == EINTR)) {
    if (n > 0) pending->append(buffer, n);
  }
  for (size_t end; (end = pending->find('\0')) != std::string::npos;) {
    // Nothing to do about a manager that does not hear: it acts on that.
    notifier.Notify(pending->substr(0, end)).IgnoreError();
    pending->erase(0, end + 1);
  }
}

// The keeper's life after the fork: forward, relay, then leave as rexecd
// left. Every signal is blocked (since before the fork), so none is lost.
[[noreturn]] void Keep(pid_t server, int relay_fd,
                       const ServiceNotifier& notifier) {
  prctl(PR_SET_DUMPABLE, 0);  // as rexecd: a root process nobody traces
  std::string pending;
  if (relay_fd >= 0) {
    // SIGIO when rexecd writes: read with the other signals below.
    fcntl(relay_fd, F_SETOWN, getpid());
    fcntl(relay_fd, F_SETFL, O_ASYNC | O_NONBLOCK);
  }
  sigset_t all;
  sigfillset(&all);
  for (;;) {
    siginfo_t info;
    const int sig = sigwaitinfo(&all, &info);
    if (sig < 0) continue;
    if (sig == SIGIO || sig == SIGCHLD) {
      if (relay_fd >= 0) Relay(relay_fd, notifier, &pending);
    }
    if (sig != SIGCHLD) {
      if (std::find(std::begin(kServerSignals), std::end(kServerSignals),
                    sig) != std::end(kServerSignals)) {
        sigval carried{};
        carried.sival_int = sig;
        sigqueue(server, ForwardingSignal(), carried);
      }
      continue;
    }
    int status = 0;
    if (waitpid(server, &status, WNOHANG) != server) continue;
    if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
    const int signal_number = WTERMSIG(status);
    signal(signal_number, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, signal_number);
    sigprocmask(SIG_UNBLOCK, &one, nullptr);
    raise(signal_number);
    _exit(128 + signal_number);  // a signal whose default is not to end
  }
}

// In the namespace's init, before anything else: die with the keeper, and
// see this namespace's pids in /proc. Returns 0 or the errno of what failed.
int BecomeInit(int keeper_alive, pid_t* outer_pid) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return errno;
  // The keeper may have died before the line above: then the pipe whose
  // write end only it holds has hung up.
  pollfd alive{keeper_alive, POLLIN, 0};
  if (poll(&alive, 1, 0) != 0) _exit(1);
  // Still the starter's /proc here: its "self" is our pid there.
  char self[32] = {};
  if (readlink("/proc/self", self, sizeof self - 1) < 0 ||
      !absl::SimpleAtoi(self, outer_pid)) {
    return errno != 0 ? errno : EINVAL;
  }
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
            nullptr) != 0) {
    return errno;
  }
  return 0;
}

// A mount on a path under /proc that is not the kernel's own automount
// (binfmt_misc): a container's masks (/dev/null on /proc/kcore, a
// read-only /proc/sys...), which a /proc of rexecd's own would undo. "" if
// none.
std::string MaskUnderProc() {
  std::ifstream mounts("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mounts, line)) {
    // "ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - FSTYPE ..."
    std::vector<std::string> fields = absl::StrSplit(line, ' ');
    const auto dash = std::find(fields.begin(), fields.end(), "-");
    if (fields.size() < 5 || dash == fields.end() || dash + 1 == fields.end()) {
      continue;
    }
    const std::string& point = fields[4];
    const std::string& type = *(dash + 1);
    if (absl::StartsWith(point, "/proc/") && type != "binfmt_misc" &&
        type != "autofs") {
      return point;
    }
  }
  return "";
}

// Whether a PID namespace with a /proc of its own can be made here: the
// steps, tried in a throwaway child (whose namespace ends with it), so
// that a step that fails leaves rexecd free to go on without. 0 or errno.
int TryOwnNamespace() {
  const pid_t tried = fork();
  if (tried < 0) return errno;
  if (tried == 0) {
    if (unshare(CLONE_NEWPID | CLONE_NEWNS) != 0) _exit(errno);
    if (mount(nullptr, "/proc", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      _exit(errno);
    }
    const pid_t init = fork();
    if (init < 0) _exit(errno);
    if (init == 0) {
      _exit(mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  nullptr) != 0
                ? errno
                : 0);
    }
    int status = 0;
    if (waitpid(init, &status, 0) != init || !WIFEXITED(status)) _exit(EIO);
    _exit(WEXITSTATUS(status));
  }
  int status = 0;
  if (waitpid(tried, &status, 0) != tried || !WIFEXITED(status)) return EIO;
  return WEXITSTATUS(status);
}

}  // namespace

bool ParsePidNamespaceMode(absl::string_view text, PidNamespaceMode* mode) {
  if (text == "auto") {
    *mode = PidNamespaceMode::kAuto;
  } else if (text == "own") {
    *mode = PidNamespaceMode::kOwn;
  } else if (text == "host") {
    *mode = PidNamespaceMode::kHost;
  } else {
    return false;
  }
  return true;
}

absl::StatusOr<PidNamespace> EnterOwnPidNamespace(
    PidNamespaceMode mode, const ServiceNotifier& notifier) {
  PidNamespace ns;
  ns.outer_pid = getpid();
  if (getpid() == 1) {
    ns.kind = PidNamespace::Kind::kContainer;
    return ns;
  }
  if (mode == PidNamespaceMode::kHost) {
    ns.why = "--pid-namespace=host";
    return ns;
  }
  if (const std::string mask = MaskUnderProc(); !mask.empty()) {
    const std::string why = absl::StrCat(
        "its /proc has a mount on ", mask,
        " (a container's masks), which a /proc of its own would undo");
    if (mode == PidNamespaceMode::kOwn) {
      return absl::FailedPreconditionError(
          absl::StrCat("--pid-namespace=own: ", why));
    }
    ns.why = why;
    return ns;
  }
  if (const int error = TryOwnNamespace(); error != 0) {
    if (mode == PidNamespaceMode::kOwn) {
      return ErrnoStatus(error, "--pid-namespace=own: making one");
    }
    ns.why = absl::StrCat("it may not make one: ", strerror(error));
    return ns;
  }
  if (unshare(CLONE_NEWPID | CLONE_NEWNS) != 0) {
    return ErrnoStatus(errno, "--pid-namespace: unshare");
  }
  // Our /proc must not cover the host's: its mount (and what is under it)
  // is made private here before ours goes on it. The rest stays as it was,
  // so that what a child mounts reaches the host as it did without the
  // namespace (a shared mount stays shared).
  if (mount(nullptr, "/proc", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return ErrnoStatus(errno, "--pid-namespace: making /proc private");
  }
  int alive[2], ready[2], relay[2] = {-1, -1};
  if (pipe2(alive, O_CLOEXEC) != 0 || pipe2(ready, O_CLOEXEC) != 0 ||
      (notifier.active() && pipe2(relay, O_CLOEXEC) != 0)) {
    return ErrnoStatus(errno, "--pid-namespace: pipe");
  }
  sigset_t all, before;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &before);
  const pid_t server = fork();
  if (server < 0) {
    return ErrnoStatus(errno, "--pid-namespace: fork");
  }
  if (server == 0) {
    // Blocked from here on: one forwarded before rexecd reads its signals
    // waits for it (an init drops a signal it has no handler for).
    sigaddset(&before, ForwardingSignal());
    sigprocmask(SIG_SETMASK, &before, nullptr);
    close(alive[1]);
    close(ready[0]);
    if (relay[0] >= 0) close(relay[0]);
    ns.notify_fd = relay[1];
    const int error = BecomeInit(alive[0], &ns.outer_pid);
    close(alive[0]);
    (void)!write(ready[1], &error, sizeof error);
    close(ready[1]);
    if (error != 0) _exit(1);
    ns.kind = PidNamespace::Kind::kOwn;
    return ns;
  }
  close(alive[0]);
  close(ready[1]);
  if (relay[1] >= 0) close(relay[1]);
  int error = -1;
  const ssize_t got = read(ready[0], &error, sizeof error);
  close(ready[0]);
  if (got != sizeof error || error != 0) {
    waitpid(server, nullptr, 0);
    const std::string what = absl::StrCat(
        "--pid-namespace: the namespace's init could not mount its /proc: ",
        got == sizeof error ? strerror(error) : "it died",
        mode == PidNamespaceMode::kAuto
            ? " (--pid-namespace=host starts rexecd without one)"
            : "");
    std::fprintf(stderr, "rexecd: %s\n", what.c_str());
    _exit(1);
  }
  Keep(server, relay[0], notifier);
}

int ForwardingSignal() { return SIGRTMIN + 4; }

int HeededSignal(const PidNamespace& ns, const signalfd_siginfo& signal) {
  const int number = static_cast<int>(signal.ssi_signo);
  if (number == ForwardingSignal()) {
    // Only the keeper, outside, may forward (ssi_pid is 0 for a sender
    // outside the namespace).
    const int carried = signal.ssi_int;
    const bool ours =
        std::find(std::begin(kServerSignals), std::end(kServerSignals),
                  carried) != std::end(kServerSignals);
    return ns.kind == PidNamespace::Kind::kOwn && signal.ssi_pid == 0 && ours
               ? carried
               : 0;
  }
  if (ns.kind != PidNamespace::Kind::kOwn) return number;
  return signal.ssi_pid != 0 ? number : 0;
}

}  // namespace rexec::process
