// ProcessTable holds every process the server runs, by id: the calls' own
// children and the sessions (processes started with options.detach, which
// outlive their call), detached being a property of an entry, not a second
// list. It admits children within the server's and each identity's caps,
// keeps what a session's attachments need (its log, and the control that
// reaches its supervisor) and what List shows, and owns the server's phase:
// serving, draining until a deadline (each running process is told, see
// Member), stopping.
//
// A session belongs to the identity that started it: every lookup is by
// identity, and another identity's session is NOT_FOUND, as one that never
// existed (its existence is not told). An ended session is kept with its
// exit for --keep-ended, or until an attachment (not output-only) delivered
// its exit; expired ones are removed lazily, at each use of the table.
// Bounded: --max-processes running children, an identity's rule's
// max_processes, --max-detached sessions per identity and
// --max-detached-total in all (ended ones count until removed).
//
// Thread-safe: calls on every executor use it.
#ifndef REXEC_SERVER_TABLE_PROCESS_TABLE_H_
#define REXEC_SERVER_TABLE_PROCESS_TABLE_H_

#include <any>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/process/poller.h"
#include "server/table/memory_budget.h"
#include "server/table/session_log.h"
#include "server/table/session_mail.h"
#include "server/table/process_events.h"

namespace rexec::table {

struct SessionLimits {
  size_t replay_buffer = 1 << 20;  // bytes kept per stream
  absl::Duration keep_ended = absl::Minutes(10);
  int max_per_identity = 32;
  int max_total = 256;
  // Bytes a second of a session's output read while no call watches it
  // (--detached-read-rate): see read_rate.h.
  uint64_t detached_read_rate = 16 << 20;
};

struct TableConfig {
  int max_processes = 1024;
  // The fds running children may hold in rexecd together (each its
  // process::HeldFds): what the open-file limit leaves after connections'
  // and rexecd's own. 0: no limit.
  uint64_t max_child_fds = 0;
  // What the calls may hold in all (--memory-budget): see memory_budget.h.
  uint64_t memory_budget = uint64_t{1} << 30;
  // How long output may stay open after the child was reaped (a
  // descendant holding the pipes) before the exit is reported.
  absl::Duration drain_timeout = absl::Seconds(2);
  SessionLimits sessions;
};

// An identity's first sessions are its own: see Reserve().
inline constexpr int kReservedPerIdentity = 4;
// The part of --max-detached-total kept for identities with fewer sessions
// than that: one quarter.
inline constexpr int kKeptFraction = 4;

using ProcessId = uint64_t;

struct Session {
  ProcessId process = 0;  // its entry in the table
  std::string id;         // "s" and a number: what clients name it by
  std::string name;       // "" when the caller gave none
  std::string identity;
  std::vector<std::string> argv;
  pid_t pid = 0;
  absl::Time started;
  bool terminal = false;
  // What its call asked for, opaque to the table (the rpc room keeps its
  // launch request there), to be judged again when the policy changes;
  // empty for a session of a server without a policy.
  std::any launch;
  std::shared_ptr<SessionLog> log;
  std::shared_ptr<SessionControl> control;
  // Set when its process ended (the exit is in the log).
  std::optional<absl::Time> ended;
};

class ProcessTable {
 public:
  // What the table reaches of a running process: told when a drain begins.
  class Member {
   public:
    virtual ~Member() = default;
    // From any thread, under the table's lock: only ring a bell.
    virtual void OnDrainBegun() = 0;
  };

  // Serving, then (on the first SIGTERM) draining: no new call is taken,
  // running ones go on until the drain's deadline. Then stopping: what is
  // left is stopped. Phases only move forward.
  enum class Phase { kServing, kDraining, kStopping };

  ProcessTable(TableConfig config, process::Poller* poller,
               ProcessEvents* events)
      : config_(std::move(config)), poller_(poller), events_(events) {}

  const TableConfig& config() const { return config_; }
  MemoryBudget& memory_budget() { return budget_; }
  process::Poller& poller() { return *poller_; }
  ProcessEvents& events() { return *events_; }

  // --- Admission.
  // A slot for a child of `identity` that will hold `fds` fds, which may
  // run at most `identity_cap` at once (0: no cap of its own; `rule` names
  // where the cap comes from). RESOURCE_EXHAUSTED naming the limit
  // otherwise. Leave() gives both back.
  absl::Status Admit(absl::string_view program, absl::string_view identity,
                     uint32_t identity_cap, absl::string_view rule, int fds);
  void Leave(absl::string_view identity, int fds);
  int running_children();

  // --- Processes.
  // A place for a new session of `identity`, before its child starts:
  // INVALID_ARGUMENT for a bad name, ALREADY_EXISTS for a name the identity
  // uses, RESOURCE_EXHAUSTED at a cap: --max-detached for the identity,
  // --max-detached-total in all, and past its first kReservedPerIdentity,
  // the last 1/kKeptFraction of the total, which is kept for identities
  // with fewer; RESOURCE_EXHAUSTED when the memory budget has no room for
  // its rings (2 x --replay-buffer). Returns the session with its process id, log and control;
  // Add() completes it, Remove() gives the place back.
  absl::StatusOr<Session> Reserve(const std::string& identity,
                                  const std::string& name,
                                  std::vector<std::string> argv, bool terminal,
                                  std::any launch = {});
  // A process started: its entry (a new one, or the session `reserved`
  // names), reached by the drain until Reported(). During a drain `member`
  // is told at once.
  ProcessId Add(Member* member, const std::string& identity, pid_t pid,
                absl::Time started, ProcessId reserved = 0);
  // Its exit was reported. A session whose call heard the exit (`collected`)
  // goes, as a call's own process does; one nobody heard is kept, ended,
  // for its attachments.
  void Reported(ProcessId id, bool collected);
  void Remove(ProcessId id);

  // A process whose call went: the table owns its supervisor until it is
  // done (AdoptedDone()), and the drain and the shutdown wait for it.
  void Adopt();
  void AdoptedDone();
  // Until no adopted process is left, or `deadline` passed, or (with
  // `until_stop`) the stop began; false unless none is left.
  bool WaitForNoAdopted(absl::Time deadline, bool until_stop);

  // --- Sessions.
  // The identity's sessions, oldest first.
  std::vector<Session> List(const std::string& identity);
  // By id, else by name; NOT_FOUND (naming what was asked) otherwise, and
  // for another identity's.
  absl::StatusOr<Session> Find(const std::string& identity,
                               const std::string& id_or_name);
  // Every identity's sessions that are still running.
  std::vector<Session> Running();
  int sessions();
  // For the metrics: sessions by state, and what their logs hold.
  struct SessionCounts {
    int running = 0;
    int ended = 0;  // kept until they expire or are collected
    uint64_t log_bytes = 0;
  };
  SessionCounts CountSessions();

  // --- Phases.
  Phase phase() const { return phase_.load(std::memory_order_acquire); }
  // Draining until `deadline`: every running process is told.
  void BeginDrain(absl::Time deadline);
  void BeginStop();
  // The drain's deadline; absl::InfiniteFuture() before a drain.
  absl::Time drain_deadline() const;
  // Every session still running is stopped with its own policy, with
  // `reason` (the shutdown: sessions do not survive rexecd).
  void StopAll(TerminationReason reason);

 private:
  struct Entry {
    Member* member = nullptr;  // while it runs, until its exit is reported
    std::string identity;
    std::optional<Session> session;  // detached
  };
  void ExpireLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A session's entry by its id or name.
  const Session* FindLocked(const std::string& identity,
                            const std::string& id_or_name) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const TableConfig config_;
  MemoryBudget budget_{config_.memory_budget, "rexecd's memory budget",
                      "--memory-budget"};
  process::Poller* const poller_;
  ProcessEvents* const events_;
  std::atomic<Phase> phase_{Phase::kServing};

  mutable absl::Mutex mu_;
  absl::btree_map<ProcessId, Entry> entries_ ABSL_GUARDED_BY(mu_);
  ProcessId next_process_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t next_session_ ABSL_GUARDED_BY(mu_) = 1;
  int sessions_ ABSL_GUARDED_BY(mu_) = 0;
  int children_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t child_fds_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, uint32_t> children_of_ ABSL_GUARDED_BY(mu_);
  int adopted_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time drain_deadline_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
};

}  // namespace rexec::table

#endif  // REXEC_SERVER_TABLE_PROCESS_TABLE_H_
