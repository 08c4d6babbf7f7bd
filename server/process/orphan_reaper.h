// OrphanReaper makes this process a child subreaper (PR_SET_CHILD_SUBREAPER),
// so that orphaned descendants of our children are re-parented to us instead
// of init, and reaps them as they exit, leaving registered children
// (child_registry.h) to their owners.
//
// It hears of exits through SIGCHLD, which the process must block in every
// thread (main() does, before any thread starts), as a signalfd watched on
// the server's poller: that thread wakes at every child's exit anyway, for
// the child's pidfd, where a thread of our own would wake once more per
// spawn for nothing. There it reaps the child a signal names if that child
// is surely an orphan, without waiting. It never waits in waitid(P_ALL),
// whose every wake-up scans all our children (with 4,500 running, each
// spawn's exit cost two such scans, and the round trip's p99 went from 2.4
// to 7 ms).
//
// A zombie that appeared while a spawn was in flight may be that spawn's
// child (a short one exits before its spawn registers it): the registry
// keeps it until the spawns end, then hands what was not registered to a
// thread of the reaper's own, which reaps it. The same thread sweeps once a
// second for what signals missed (those that arrive while one is pending
// are merged): it scans our zombies once. In between it sleeps.
//
// One per process; thread-safe. Destroy it before its poller.
#ifndef REXEC_SERVER_PROCESS_ORPHAN_REAPER_H_
#define REXEC_SERVER_PROCESS_ORPHAN_REAPER_H_

#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/process/poller.h"
#include "server/process/unique_fd.h"

namespace rexec::process {

class OrphanReaper {
 public:
  // Sweeps every `sweep_every` (tests give a long one, to see the signals'
  // part alone), on a thread named "orphan-sweeper". FAILED_PRECONDITION if
  // one is running already.
  static absl::StatusOr<std::unique_ptr<OrphanReaper>> Start(
      Poller* poller, absl::Duration sweep_every = absl::Seconds(1));
  // Stops watching and sweeping; orphans are left to the next reaper (or
  // init, once we exit).
  ~OrphanReaper();

 private:
  OrphanReaper(Poller* poller, UniqueFd sigchld, absl::Duration sweep_every);
  // On the poller's thread: reaps the orphans the pending signals name.
  void OnSignals();
  // The sweeper's thread: the zombies handed over, and the sweeps.
  void SweepUntilStopped();

  Poller* const poller_;
  const UniqueFd sigchld_;
  const absl::Duration sweep_every_;
  Poller::WatchId watch_ = 0;
  absl::Mutex mu_;
  // Zombies that appeared while a spawn was in flight and are nobody's.
  std::vector<pid_t> undecided_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread sweeper_;
};

}  // namespace rexec::process

#endif  // REXEC_SERVER_PROCESS_ORPHAN_REAPER_H_
