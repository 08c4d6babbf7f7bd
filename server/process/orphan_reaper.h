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
// What that leaves (signals that arrive while one is pending are merged, and
// a zombie that appeared while a spawn was in flight may be that spawn's
// child) a thread of its own reaps once a second: it scans our zombies once,
// and may wait for spawns in flight. Between sweeps it sleeps.
//
// One per process; thread-safe. Destroy it before its poller.
#ifndef REXEC_SERVER_PROCESS_ORPHAN_REAPER_H_
#define REXEC_SERVER_PROCESS_ORPHAN_REAPER_H_

#include <memory>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
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
  void SweepUntilStopped();

  Poller* const poller_;
  const UniqueFd sigchld_;
  const absl::Duration sweep_every_;
  Poller::WatchId watch_ = 0;
  absl::Notification stop_;
  std::thread sweeper_;
};

}  // namespace rexec::process

#endif  // REXEC_SERVER_PROCESS_ORPHAN_REAPER_H_
