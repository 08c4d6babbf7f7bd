#include "server/process/child_registry.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <mutex>
#include <thread>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace rexec::process {

ChildRegistry& ChildRegistry::Global() {
  static auto* registry = new ChildRegistry;
  return *registry;
}

void ChildRegistry::BeginSpawn() {
  absl::MutexLock lock(&mu_);
  ++spawns_in_flight_;
}

void ChildRegistry::EndSpawn(pid_t pid) {
  absl::MutexLock lock(&mu_);
  --spawns_in_flight_;
  if (pid > 0) {
    owned_.insert(pid);
    ++groups_[pid];  // every child leads a group of its own
  }
}

void ChildRegistry::Adopt(pid_t pid) {
  absl::MutexLock lock(&mu_);
  owned_.insert(pid);
}

void ChildRegistry::Reaped(pid_t pid) {
  absl::MutexLock lock(&mu_);
  owned_.erase(pid);
}

void ChildRegistry::ReleaseGroup(pid_t pgid) {
  absl::MutexLock lock(&mu_);
  auto it = groups_.find(pgid);
  if (it != groups_.end() && --it->second == 0) groups_.erase(it);
}

void ChildRegistry::WatchGroup(pid_t pgid,
                               std::function<void()> on_orphan_reaped) {
  absl::MutexLock lock(&mu_);
  group_watchers_[pgid] = std::move(on_orphan_reaped);
}

void ChildRegistry::UnwatchGroup(pid_t pgid) {
  absl::MutexLock lock(&mu_);
  group_watchers_.erase(pgid);
}

void ChildRegistry::OrphanReaped(pid_t pgid) {
  absl::MutexLock lock(&mu_);
  auto it = group_watchers_.find(pgid);
  if (it != group_watchers_.end()) it->second();
}

int ChildRegistry::KillAllGroups() {
  absl::MutexLock lock(&mu_);
  for (const auto& [pgid, owners] : groups_) killpg(pgid, SIGKILL);
  return static_cast<int>(groups_.size());
}

bool ChildRegistry::SignalReapedGroup(pid_t pgid, int signal_number) {
  // Nobody in the group: the common case, at a child's exit, which must not
  // wait for spawns in flight on other threads (that cost a busy server
  // a tenth of its rate).
  if (killpg(pgid, 0) != 0) return false;
  absl::MutexLock lock(&mu_);
  auto settled = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return spawns_in_flight_ == 0;
  };
  mu_.Await(absl::Condition(&settled));
  auto it = groups_.find(pgid);
  if (it != groups_.end() && it->second > 1) return false;  // reused
  return killpg(pgid, signal_number) == 0;
}

bool ChildRegistry::IsOrphan(pid_t pid) {
  absl::MutexLock lock(&mu_);
  if (owned_.contains(pid)) return false;  // every child's exit: no wait
  // A zombie that appeared while a spawn was in flight may be that spawn's
  // child, whose pid is not registered yet.
  auto settled = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return spawns_in_flight_ == 0;
  };
  mu_.Await(absl::Condition(&settled));
  return !owned_.contains(pid);
}

namespace {

// Reaps `pid` if it is a zombie that nobody owns.
bool ReapIfOrphan(ChildRegistry& registry, pid_t pid) {
  if (!registry.IsOrphan(pid)) return false;
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
        info.si_pid == 0 || !ReapIfOrphan(registry, info.si_pid)) {
      return;
    }
  }
}

void ReapOrphansForever(int sigchld) {
  ChildRegistry& registry = ChildRegistry::Global();
  constexpr absl::Duration kSweepEvery = absl::Seconds(1);
  absl::Time next_sweep = absl::Now() + kSweepEvery;
  for (;;) {
    pollfd ready{sigchld, POLLIN, 0};
    const int timeout = static_cast<int>(std::max<int64_t>(
        0, absl::ToInt64Milliseconds(next_sweep - absl::Now()) + 1));
    if (poll(&ready, 1, timeout) > 0) {
      signalfd_siginfo signals[16];
      const ssize_t n = read(sigchld, signals, sizeof signals);
      for (ssize_t i = 0; i < n / static_cast<ssize_t>(sizeof signals[0]);
           ++i) {
        ReapIfOrphan(registry, static_cast<pid_t>(signals[i].ssi_pid));
      }
    }
    if (absl::Now() >= next_sweep) {
      Sweep(registry);
      next_sweep = absl::Now() + kSweepEvery;
    }
  }
}

}  // namespace

void StartOrphanReaper() {
  static std::once_flag once;
  std::call_once(once, [] {
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    sigset_t sigchld;
    sigemptyset(&sigchld);
    sigaddset(&sigchld, SIGCHLD);
    // Where main() did not block it, SIGCHLD is lost to another thread,
    // and the sweeps reap what it would have.
    pthread_sigmask(SIG_BLOCK, &sigchld, nullptr);
    const int fd = signalfd(-1, &sigchld, SFD_CLOEXEC | SFD_NONBLOCK);
    std::thread(ReapOrphansForever, fd).detach();
  });
}

}  // namespace rexec::process
