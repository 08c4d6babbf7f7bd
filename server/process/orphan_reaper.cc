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

#include "absl/time/time.h"
#include "common/errno_status.h"
#include "server/process/child_registry.h"

namespace rexec::process {
namespace {

std::atomic<bool> running{false};

// Reaps `pid` if it is a zombie that nobody owns. While a spawn is in
// flight, the zombie may be that spawn's child: `may_wait` waits for the
// spawn to end; without it, the zombie is left for the next sweep.
bool ReapIfOrphan(ChildRegistry& registry, pid_t pid, bool may_wait) {
  const bool orphan =
      may_wait ? registry.IsOrphan(pid) : registry.IsSurelyOrphan(pid);
  if (!orphan) return false;
  // A zombie still has its group; once reaped, it leaves it.
  const pid_t pgid = getpgid(pid);
  if (waitpid(pid, nullptr, WNOHANG) != pid) return false;
  if (pgid > 0) registry.OrphanReaped(pgid);
  return true;
}

// Reaps the orphans among our zombies, as far as the first owned one (its
// owner reaps it soon; the next sweep goes on).
void Sweep(ChildRegistry& registry) {
  for (;;) {
    // WNOWAIT: look at a zombie without reaping it, since it may be a child
    // whose owner must reap it through its pidfd.
    siginfo_t info{};
    if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 ||
        info.si_pid == 0 || !ReapIfOrphan(registry, info.si_pid, true)) {
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
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  sigset_t sigchld;
  sigemptyset(&sigchld);
  sigaddset(&sigchld, SIGCHLD);
  // Where main() did not block it, SIGCHLD is lost to another thread, and
  // the sweeps reap what it would have.
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
  if (watch_ != 0) poller_->Unwatch(watch_, sigchld_.Get());
  stop_.Notify();
  if (sweeper_.joinable()) sweeper_.join();
  running = false;
}

void OrphanReaper::OnSignals() {
  ChildRegistry& registry = ChildRegistry::Global();
  // SIGCHLD is a standard signal: one is pending at most, and a read takes
  // it. Read until none is, so that the level-triggered watch is quiet.
  signalfd_siginfo signals[4];
  ssize_t n;
  while ((n = read(sigchld_.Get(), signals, sizeof signals)) > 0) {
    for (ssize_t i = 0; i < n / static_cast<ssize_t>(sizeof signals[0]); ++i) {
      ReapIfOrphan(registry, static_cast<pid_t>(signals[i].ssi_pid),
                   /*may_wait=*/false);
    }
  }
}

void OrphanReaper::SweepUntilStopped() {
  while (!stop_.WaitForNotificationWithTimeout(sweep_every_)) {
    Sweep(ChildRegistry::Global());
  }
}

}  // namespace rexec::process
