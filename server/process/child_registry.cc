#include "server/process/child_registry.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <thread>

namespace rexec::process {

ChildRegistry& ChildRegistry::Global() {
  static auto* registry = new ChildRegistry;
  return *registry;
}

void ChildRegistry::BeginSpawn() {
  absl::MutexLock lock(&mu_);
  ++spawns_in_flight_;
  Changed();
}

void ChildRegistry::EndSpawn(pid_t pid) {
  absl::MutexLock lock(&mu_);
  --spawns_in_flight_;
  if (pid > 0) {
    owned_.insert(pid);
    ++groups_[pid];  // every child leads a group of its own
  }
  Changed();
}

void ChildRegistry::Adopt(pid_t pid) {
  absl::MutexLock lock(&mu_);
  owned_.insert(pid);
  Changed();
}

void ChildRegistry::Reaped(pid_t pid) {
  absl::MutexLock lock(&mu_);
  owned_.erase(pid);
  Changed();
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

bool ChildRegistry::WaitUntilOrphan(pid_t pid) {
  absl::MutexLock lock(&mu_);
  // A zombie that appeared while a spawn was in flight may be that spawn's
  // child, whose pid is not registered yet.
  if (!owned_.contains(pid) && spawns_in_flight_ == 0) return true;
  const uint64_t seen = generation_;
  auto moved_on = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return generation_ != seen;
  };
  mu_.Await(absl::Condition(&moved_on));
  return false;
}

uint64_t ChildRegistry::Generation() {
  absl::MutexLock lock(&mu_);
  return generation_;
}

void ChildRegistry::WaitForChange(uint64_t seen) {
  absl::MutexLock lock(&mu_);
  auto moved_on = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return generation_ != seen;
  };
  mu_.Await(absl::Condition(&moved_on));
}

int ChildRegistry::OwnedCount() {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(owned_.size());
}

namespace {

void ReapOrphansForever() {
  ChildRegistry& registry = ChildRegistry::Global();
  for (;;) {
    // WNOWAIT: look at a zombie without reaping it, since it may be a child
    // whose owner must reap it through its pidfd.
    uint64_t generation = registry.Generation();
    siginfo_t info{};
    if (waitid(P_ALL, 0, &info, WEXITED | WNOWAIT) != 0) {
      if (errno == ECHILD) registry.WaitForChange(generation);
      continue;
    }
    if (!registry.WaitUntilOrphan(info.si_pid)) continue;
    // A zombie still has its group; once reaped, it leaves it.
    const pid_t pgid = getpgid(info.si_pid);
    if (waitpid(info.si_pid, nullptr, WNOHANG) == info.si_pid && pgid > 0) {
      registry.OrphanReaped(pgid);
    }
  }
}

}  // namespace

void StartOrphanReaper() {
  static std::once_flag once;
  std::call_once(once, [] {
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    std::thread(ReapOrphansForever).detach();
  });
}

}  // namespace rexec::process
