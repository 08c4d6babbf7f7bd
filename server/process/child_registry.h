// ChildRegistry is the set of this process's own children: the ones a Child
// object spawned and has not reaped yet, and the process groups they lead.
// The orphan reaper (orphan_reaper.h) consults it so that it never reaps a
// child from under its owner, which would lose the exit status and free the
// pid for reuse while the owner still signals it. It also tells a group's
// owner when an orphan of that group was reaped (so that a stop can end as
// soon as the group is empty), and can kill every group at once (a forced
// shutdown).
//
// One per process (children are a process-wide fact). Thread-safe.
#ifndef REXEC_SERVER_PROCESS_CHILD_REGISTRY_H_
#define REXEC_SERVER_PROCESS_CHILD_REGISTRY_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"

namespace rexec::process {

class ChildRegistry {
 public:
  static ChildRegistry& Global();

  // Brackets a spawn: between the two calls a new zombie may be ours even
  // though its pid is not registered yet. `pid` is -1 when the spawn failed;
  // otherwise it is registered, and so is the group it leads.
  void BeginSpawn();
  void EndSpawn(pid_t pid);
  // `pid` is a child of ours that its owner reaps, but leads no group of
  // ours (the launcher).
  void Adopt(pid_t pid);
  // Called by the owner right after it reaped `pid`.
  void Reaped(pid_t pid);
  // The owner is done with the group `pgid` (it is empty or was killed).
  void ReleaseGroup(pid_t pgid);

  // Calls `on_orphan_reaped` (on the reaper's thread, the poller's or the
  // sweeps', under the registry's lock: it must be short and must not call
  // back in) each time an orphan of group `pgid` is reaped, until
  // UnwatchGroup(), after which it is not running and will not run again.
  void WatchGroup(pid_t pgid, std::function<void()> on_orphan_reaped);
  void UnwatchGroup(pid_t pgid);
  // Called by the reaper after it reaped an orphan that was in `pgid`.
  void OrphanReaped(pid_t pgid);

  // SIGKILL to every registered group; returns how many there were. A group
  // stays registered until its owner released it, so that stragglers of a
  // reaped leader are killed too.
  int KillAllGroups();

  // For a group whose leader was reaped. Once its last member is gone, its
  // id is free, and a new child of ours may get it and lead a group of the
  // same id: then the old group's owner must leave it alone, or one call
  // could signal another call's processes. Signals `pgid` unless the id is
  // now another child's (a spawn in flight is waited for, since its child
  // may be the one); true when the group was there to signal.
  bool SignalReapedGroup(pid_t pgid, int signal_number);

  // Whether `pid` (a zombie child of ours) belongs to nobody: not
  // registered, and no spawn in flight whose child it may be (waited for).
  bool IsOrphan(pid_t pid);
  // The same without waiting: nullopt while a spawn is in flight and `pid`
  // is not registered (it may be that spawn's child). Such a pid is kept:
  // registered by its spawn (EndSpawn or Adopt), it is forgotten; once no spawn
  // is in flight, the ones left are orphans, handed to `SetUndecidedHandoff`'s
  // callee.
  std::optional<bool> IsOrphanNow(pid_t pid);
  // Who takes the orphans IsOrphanNow() could not tell, once it can (the
  // orphan reaper); called under the registry's lock, so it must be short
  // and must not call back in. Null: nobody, they are left to a sweep.
  void SetUndecidedHandoff(std::function<void(std::vector<pid_t>)> handoff);

 private:
  absl::Mutex mu_;
  absl::flat_hash_set<pid_t> owned_ ABSL_GUARDED_BY(mu_);
  // Groups by id, with how many owners hold that id: two when a reaped
  // leader's id was reused by a new child.
  absl::flat_hash_map<pid_t, int> groups_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<pid_t, std::function<void()>> group_watchers_
      ABSL_GUARDED_BY(mu_);
  int spawns_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  // IsOrphanNow()'s undecided zombies, bounded: past that, a sweep finds
  // them.
  static constexpr size_t kMaxUndecided = 1024;
  absl::flat_hash_set<pid_t> undecided_ ABSL_GUARDED_BY(mu_);
  std::function<void(std::vector<pid_t>)> handoff_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rexec::process

#endif  // REXEC_SERVER_PROCESS_CHILD_REGISTRY_H_
