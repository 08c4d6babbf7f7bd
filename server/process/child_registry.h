// ChildRegistry is the set of this process's own children: the ones a Child
// object spawned and has not reaped yet. The orphan reaper consults it so that
// it never reaps a child from under its owner, which would lose the exit
// status and free the pid for reuse while the owner still signals it.
//
// One per process (children are a process-wide fact). Thread-safe.
#ifndef REXEC_SERVER_PROCESS_CHILD_REGISTRY_H_
#define REXEC_SERVER_PROCESS_CHILD_REGISTRY_H_

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "absl/container/flat_hash_set.h"

namespace rexec::process {

class ChildRegistry {
 public:
  static ChildRegistry& Global();

  // Brackets a spawn: between the two calls a new zombie may be ours even
  // though its pid is not registered yet. `pid` is -1 when the spawn failed.
  void BeginSpawn();
  void EndSpawn(pid_t pid);
  // Called by the owner right after it reaped `pid`.
  void Reaped(pid_t pid);

  // Blocks until `pid` (a zombie child of ours) is known not to belong to an
  // owner; returns false if the registry changed meanwhile, so the caller
  // should look again at which child is a zombie.
  bool WaitUntilOrphan(pid_t pid);
  // The registry's version, and a wait for it to move on from `seen` (used
  // while we have no child at all).
  uint64_t Generation();
  void WaitForChange(uint64_t seen);

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  absl::flat_hash_set<pid_t> owned_;
  int spawns_in_flight_ = 0;
  uint64_t generation_ = 0;
};

// Makes this process a child subreaper (PR_SET_CHILD_SUBREAPER), so that
// orphaned descendants of our children are re-parented to us instead of init,
// and starts a thread that reaps them as they exit, leaving registered
// children to their owners. Idempotent; the thread lives until exit.
void StartOrphanReaper();

}  // namespace rexec::process

#endif  // REXEC_SERVER_PROCESS_CHILD_REGISTRY_H_
