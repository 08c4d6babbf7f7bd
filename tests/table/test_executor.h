// TestExecutor is the table's Executor as a plain loop that a test turns on
// its own thread: posted work and due timers run only inside Run*(), so a
// test sees each turn's effects in order, with no gRPC and no threads of
// its own. Post() is thread-safe (the poller rings bells from its thread);
// the rest is for the test's thread.
#ifndef REXEC_TESTS_TABLE_TEST_EXECUTOR_H_
#define REXEC_TESTS_TABLE_TEST_EXECUTOR_H_

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <utility>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "server/table/executor.h"
#include "server/table/process_events.h"

namespace rexec::table {

class TestExecutor final : public Executor {
 public:
  void Post(absl::AnyInvocable<void()> fn) override {
    absl::MutexLock lock(&mu_);
    posted_.push_back(std::move(fn));
  }
  TimerId After(absl::Duration delay, absl::AnyInvocable<void()> fn) override {
    const TimerId id = next_++;
    timers_.emplace(id, Timer{absl::Now() + delay, std::move(fn)});
    return id;
  }
  void Cancel(TimerId id) override { timers_.erase(id); }

  int timers() const { return static_cast<int>(timers_.size()); }

  // Waits up to `wait` for work, then runs what was posted and the timers
  // that are due. Returns how many functions ran.
  int RunOnce(absl::Duration wait = absl::Milliseconds(20)) {
    absl::Time until = absl::Now() + wait;
    for (const auto& [id, timer] : timers_) until = std::min(until, timer.due);
    std::vector<absl::AnyInvocable<void()>> posted;
    {
      absl::MutexLock lock(&mu_);
      auto any = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return !posted_.empty();
      };
      mu_.AwaitWithDeadline(absl::Condition(&any), until);
      posted.swap(posted_);
    }
    int ran = 0;
    for (auto& fn : posted) {
      fn();
      ++ran;
    }
    const absl::Time now = absl::Now();
    for (auto it = timers_.begin(); it != timers_.end();) {
      if (it->second.due > now) {
        ++it;
        continue;
      }
      // Out of the map first: the function may set or cancel timers.
      absl::AnyInvocable<void()> fn = std::move(it->second.fn);
      timers_.erase(it);
      fn();
      ++ran;
      it = timers_.begin();
    }
    return ran;
  }
  // Turns until `until` holds; false when `limit` passed first.
  bool RunUntil(const std::function<bool()>& until,
                absl::Duration limit = absl::Seconds(20)) {
    const absl::Time deadline = absl::Now() + limit;
    while (!until()) {
      if (absl::Now() > deadline) return false;
      RunOnce();
    }
    return true;
  }
  // Turns for `d`, whatever happens.
  void RunFor(absl::Duration d) {
    const absl::Time deadline = absl::Now() + d;
    while (absl::Now() < deadline) RunOnce();
  }

 private:
  struct Timer {
    absl::Time due;
    absl::AnyInvocable<void()> fn;
  };
  absl::Mutex mu_;
  std::vector<absl::AnyInvocable<void()>> posted_ ABSL_GUARDED_BY(mu_);
  std::map<TimerId, Timer> timers_;
  TimerId next_ = 1;
};

// ProcessEvents that count what a test asks about.
class CountingEvents final : public ProcessEvents {
 public:
  void ChildSpawned(pid_t, const std::vector<std::string>&,
                    absl::Duration) override {
    ++spawned;
  }
  void ChildExited(pid_t, const ExitReport&) override { ++exited; }
  void Transferred(Bytes stream, uint64_t n) override {
    bytes[static_cast<int>(stream)] += n;
  }
  void Trouble(pid_t, absl::string_view what) override {
    troubles.emplace_back(what);
  }

  std::atomic<int> spawned{0};
  std::atomic<int> exited{0};
  std::atomic<uint64_t> bytes[5] = {};
  std::vector<std::string> troubles;
};

}  // namespace rexec::table

#endif  // REXEC_TESTS_TABLE_TEST_EXECUTOR_H_
