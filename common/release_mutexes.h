// ReleaseMutexes() turns off Abseil's mutex deadlock detection for the
// whole process. Debian builds Abseil without NDEBUG, where detection is
// on by default: every absl::Mutex lock, gRPC's included, then updates a
// graph of lock order (GraphCycles), which perf finds in rexecd's profile
// of the spawn-rate benchmark. A release build of Abseil would not do it.
// Call it first thing in main(), before any other thread starts.
#ifndef REXEC_COMMON_RELEASE_MUTEXES_H_
#define REXEC_COMMON_RELEASE_MUTEXES_H_

#include "absl/synchronization/mutex.h"

namespace rexec {

inline void ReleaseMutexes() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

}  // namespace rexec

#endif  // REXEC_COMMON_RELEASE_MUTEXES_H_
