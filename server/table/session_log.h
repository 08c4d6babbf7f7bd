// SessionLog is what a detached process (a session) wrote and how it
// ended: a ring per stream (stdout, stderr) of the last `capacity` bytes,
// counted in absolute byte offsets from the process's start, and its exit
// once reported. Attachments read it at their own offsets, each on its own
// executor thread; a watcher is told (its bell rung) when
// there is more. Memory per session stays within 2 x capacity, however
// much the child writes.
//
// Thread-safe: the supervisor appends on its thread, readers read on
// theirs. Watchers are called outside the lock.
#ifndef REXEC_SERVER_TABLE_SESSION_LOG_H_
#define REXEC_SERVER_TABLE_SESSION_LOG_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "server/table/exit_report.h"
#include "server/table/memory_budget.h"

namespace rexec::table {

class SessionLog {
 public:
  static constexpr int kStdout = 0;
  static constexpr int kStderr = 1;

  // `hold` is its share of the memory budget (2 x capacity), given back
  // when the last reader lets go of it.
  explicit SessionLog(size_t capacity, MemoryBudget::Hold hold = {})
      : capacity_(capacity), hold_(std::move(hold)) {}

  void Append(int stream, absl::string_view data);
  // After the last Append: the exit as reported.
  void SetExit(ExitReport exit);
  // The session is out of its caller's reach (a policy reload with
  // --on-policy-revoke keep): every attachment ends with `why`.
  void Revoke(absl::Status why);
  std::optional<absl::Status> revoked() const;

  struct Chunk {
    std::string data;
    uint64_t offset = 0;  // of data's first byte
    uint64_t lost = 0;    // bytes between the asked offset and `offset`
  };
  // Up to `max` bytes of `stream` from `offset`: from the oldest byte kept
  // when `offset` is older (`lost` says how many are gone), nothing when
  // it is at or past the end.
  Chunk Read(int stream, uint64_t offset, size_t max) const;
  // The offset after the last byte written, and of the oldest kept.
  uint64_t end(int stream) const;
  uint64_t oldest(int stream) const;
  std::optional<ExitReport> exit() const;
  // The memory its rings hold now (at most 2 x capacity, grown as bytes
  // came).
  size_t held() const;

  // Attachments one session may have at once: each may hold an outbox of
  // a few MiB.
  static constexpr int kMaxWatchers = 16;

  // `notify` is called (from the appending thread) after each Append and
  // SetExit until RemoveWatcher(id) returned. 0 (and no watch) at
  // kMaxWatchers.
  int AddWatcher(std::function<void()> notify);
  void RemoveWatcher(int id);
  int watchers() const;

 private:
  struct Ring {
    // Grows to capacity_ as bytes come (a quiet session holds little);
    // offset o is at bytes[o % capacity_].
    std::string bytes;
    uint64_t end = 0;
  };
  void Notify();

  const size_t capacity_;
  const MemoryBudget::Hold hold_;
  mutable absl::Mutex mu_;
  Ring rings_[2] ABSL_GUARDED_BY(mu_);
  std::optional<ExitReport> exit_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::Status> revoked_ ABSL_GUARDED_BY(mu_);
  // Watchers are called under their own lock, so that RemoveWatcher()
  // returning means no call is running or will come.
  mutable absl::Mutex watchers_mu_ ABSL_ACQUIRED_AFTER(mu_);
  absl::flat_hash_map<int, std::function<void()>> watchers_
      ABSL_GUARDED_BY(watchers_mu_);
  int next_watcher_ ABSL_GUARDED_BY(watchers_mu_) = 1;
};

}  // namespace rexec::table

#endif  // REXEC_SERVER_TABLE_SESSION_LOG_H_
