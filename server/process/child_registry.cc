#include "server/process/child_registry.h"

#include <signal.h>

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
    undecided_.erase(pid);  // it exited before we knew it was ours
  }
  if (spawns_in_flight_ == 0 && !undecided_.empty() && handoff_) {
    handoff_(std::vector<pid_t>(undecided_.begin(), undecided_.end()));
    undecided_.clear();
  }
}

void ChildRegistry::SetUndecidedHandoff(
    std::function<void(std::vector<pid_t>)> handoff) {
  absl::MutexLock lock(&mu_);
  handoff_ = std::move(handoff);
}

void ChildRegistry::Adopt(pid_t pid) {
  absl::MutexLock lock(&mu_);
  owned_.insert(pid);
  undecided_.erase(pid);
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

std::optional<bool> ChildRegistry::IsOrphanNow(pid_t pid) {
  absl::MutexLock lock(&mu_);
  if (owned_.contains(pid)) return false;
  if (spawns_in_flight_ == 0) return true;
  if (undecided_.size() < kMaxUndecided) undecided_.insert(pid);
  return std::nullopt;
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

}  // namespace rexec::process
