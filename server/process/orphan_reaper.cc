#include "server/process/orphan_reaper.h"

#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <optional>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/errno_status.h"
#include "server/process/child_registry.h"

namespace rexec::process {
namespace {

std::atomic<bool> running{false};

// Reaps `pid`, a zombie that nobody owns.
bool Reap(ChildRegistry& registry, pid_t pid) {
  // A zombie still has its group; once reaped, it leaves it.
  const pid_t pgid = getpgid(pid);
  if (waitpid(pid, nullptr, WNOHANG) != pid) return false;
  if (pgid > 0) registry.OrphanReaped(pgid);
  return true;
}

// Whether `pid` is a child of ours that exited and was not reaped yet.
bool IsOurZombie(pid_t pid) {
  siginfo_t info{};
  return waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == pid;
}

// Reaps `pid` if it is a zombie that nobody owns, once no spawn is in flight
// whose child it may be (waited for).
bool ReapIfOrphan(ChildRegistry& registry, pid_t pid) {
  return registry.IsOrphan(pid) && Reap(registry, pid);
}

// Reaps the orphans among our zombies, as far as the first owned one (its
// owner reaps it soon; the next sweep goes on).
void Sweep(ChildRegistry& registry) {
  for (;;) {
    // WNOWAIT: look at a zombie without reaping it, since it may be a child
    // whose owner must reap it through its pidfd.
    siginfo_t info{};
    if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 ||
        info.si_pid == 0 || !ReapIfOrphan(registry, info.si_pid)) {
      return;
    }
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<OrphanReaper>> OrphanReaper::Start(
    Poller* poller, absl::Duration sweep_every) {
  if (running.exchange(true)) {
    return absl::FailedPreconditionError("an orphan reaper is running already");
  }
  sigset_t sigchld;
  sigemptyset(&sigchld);
  sigaddset(&sigchld, SIGCHLD);
  // The caller's thread, at least. In a thread that does not block it
  // (main() blocks it before any thread starts), SIGCHLD is lost, and the
  // sweeps reap what it would have.
  pthread_sigmask(SIG_BLOCK, &sigchld, nullptr);
  UniqueFd fd(signalfd(-1, &sigchld, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd.Valid()) {
    running = false;
    return ErrnoStatus(errno, "signalfd for SIGCHLD");
  }
  std::unique_ptr<OrphanReaper> reaper(
      new OrphanReaper(poller, std::move(fd), sweep_every));
  absl::StatusOr<Poller::WatchId> watch = poller->Watch(
      reaper->sigchld_.Get(), EPOLLIN,
      [reaper = reaper.get()](uint32_t) { reaper->OnSignals(); },
      Poller::Arming::kPersistent);
  if (!watch.ok()) return watch.status();  // ~OrphanReaper lets go
  reaper->watch_ = *watch;
  // Last: a reaper that failed to start leaves orphans to init.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  ChildRegistry::Global().SetUndecidedHandoff(
      [reaper = reaper.get()](std::vector<pid_t> pids) {
        absl::MutexLock lock(&reaper->mu_);
        reaper->undecided_.insert(reaper->undecided_.end(), pids.begin(),
                                  pids.end());
      });
  reaper->sweeper_ = std::thread([reaper = reaper.get()] {
    pthread_setname_np(pthread_self(), "orphan-sweeper");
    reaper->SweepUntilStopped();
  });
  return reaper;
}

OrphanReaper::OrphanReaper(Poller* poller, UniqueFd sigchld,
                           absl::Duration sweep_every)
    : poller_(poller),
      sigchld_(std::move(sigchld)),
      sweep_every_(sweep_every) {}

OrphanReaper::~OrphanReaper() {
  if (watch_ != 0) {
    poller_->Unwatch(watch_, sigchld_.Get());
    ChildRegistry::Global().SetUndecidedHandoff(nullptr);
  }
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (sweeper_.joinable()) sweeper_.join();
  running = false;
}

void OrphanReaper::OnSignals() {
  ChildRegistry& registry = ChildRegistry::Global();
  // SIGCHLD is a standard signal: one is pending at most, and a read takes
  // it. One read per turn: the watch is level-triggered, so a signal that
  // came since fires it again, after the other watches' turns (a process
  // sending us SIGCHLD without end cannot hold the poller's thread here).
  signalfd_siginfo signals[4];
  const ssize_t n = read(sigchld_.Get(), signals, sizeof signals);
  if (n > 0) {
    for (ssize_t i = 0; i < n / static_cast<ssize_t>(sizeof signals[0]); ++i) {
      const auto pid = static_cast<pid_t>(signals[i].ssi_pid);
      // Most often an owned child whose owner reaped it already.
      if (!IsOurZombie(pid)) continue;
      const std::optional<bool> orphan = registry.IsOrphanNow(pid);
      // Undecided: the registry hands it over once no spawn is in flight,
      // unless its spawn registers it.
      if (orphan.value_or(false)) Reap(registry, pid);
    }
  }
}

void OrphanReaper::SweepUntilStopped() {
  ChildRegistry& registry = ChildRegistry::Global();
  absl::Time next_sweep = absl::Now() + sweep_every_;
  for (;;) {
    std::vector<pid_t> undecided;
    {
      absl::MutexLock lock(&mu_);
      auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stop_ || !undecided_.empty();
      };
      mu_.AwaitWithDeadline(absl::Condition(&woken), next_sweep);
      if (stop_) return;
      undecided.swap(undecided_);
    }
    for (pid_t pid : undecided) ReapIfOrphan(registry, pid);
    if (absl::Now() >= next_sweep) {
      Sweep(registry);
      next_sweep = absl::Now() + sweep_every_;
    }
  }
}

}  // namespace rexec::process
