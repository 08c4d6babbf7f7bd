// ProcessTable holds the server's sessions: processes started with
// options.detach, by id, each with what its attachments need (its log and
// the control that reaches its supervisor) and what List shows. A session
// belongs to the identity that started it: every lookup is by identity,
// and another identity's session is NOT_FOUND, as one that never existed
// (its existence is not told).
//
// An ended session is kept with its exit for --keep-ended, or until an
// attachment (not output-only) delivered its exit; expired ones are removed
// lazily, at each use of the table. Bounded: --max-detached per identity,
// --max-detached-total in all (ended ones count until removed).
//
// Thread-safe: calls on every completion queue use it.
#ifndef REXEC_SERVER_RPC_PROCESS_TABLE_H_
#define REXEC_SERVER_RPC_PROCESS_TABLE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/rpc/launch_plan.h"
#include "server/rpc/session_control.h"
#include "server/rpc/session_log.h"

namespace rexec::rpc {

struct SessionLimits {
  size_t replay_buffer = 1 << 20;  // bytes kept per stream
  absl::Duration keep_ended = absl::Minutes(10);
  int max_per_identity = 32;
  int max_total = 256;
};

// An identity's first sessions are its own: see Reserve().
inline constexpr int kReservedPerIdentity = 4;
// The part of --max-detached-total kept for identities with fewer sessions
// than that: one quarter.
inline constexpr int kKeptFraction = 4;

struct Session {
  std::string id;
  std::string name;  // "" when the caller gave none
  std::string identity;
  std::vector<std::string> argv;
  pid_t pid = 0;
  absl::Time started;
  bool terminal = false;
  // What its call asked for, to be judged again when the policy changes;
  // null for a session of a server without a policy.
  std::shared_ptr<const LaunchRequest> launch;
  std::shared_ptr<SessionLog> log;
  std::shared_ptr<SessionControl> control;
  // Set when the supervisor ended (the exit is in the log).
  std::optional<absl::Time> ended;
};

class ProcessTable {
 public:
  explicit ProcessTable(SessionLimits limits) : limits_(limits) {}

  const SessionLimits& limits() const { return limits_; }

  // A place for a new session of `identity`, before its child starts:
  // INVALID_ARGUMENT for a bad name, ALREADY_EXISTS for a name the identity
  // uses, RESOURCE_EXHAUSTED at a cap: --max-detached for the identity,
  // --max-detached-total in all, and past its first kReservedPerIdentity,
  // the last 1/kKeptFraction of the total, which is kept for identities
  // with fewer. Returns the session with its id, log and control; Started()
  // completes it, Remove() gives the place back.
  absl::StatusOr<Session> Reserve(
      const std::string& identity, const std::string& name,
      std::vector<std::string> argv, bool terminal,
      std::shared_ptr<const LaunchRequest> launch = nullptr);
  void Started(const std::string& id, pid_t pid, absl::Time at);
  void Ended(const std::string& id);
  void Remove(const std::string& id);

  // The identity's sessions, oldest first.
  std::vector<Session> List(const std::string& identity);
  // By id, else by name; NOT_FOUND (naming what was asked) otherwise, and
  // for another identity's.
  absl::StatusOr<Session> Find(const std::string& identity,
                               const std::string& id_or_name);
  // Every identity's sessions that are still running.
  std::vector<Session> Running();
  // Every session still running gets `mail` (a stop, at shutdown).
  void PostToAll(const SessionMail& mail);
  int size();

 private:
  void ExpireLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const SessionLimits limits_;
  absl::Mutex mu_;
  // By id; ids are "s" and a counter, so the map's order is start order
  // only within one length: List() sorts.
  absl::btree_map<std::string, Session> sessions_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace rexec::rpc

#endif  // REXEC_SERVER_RPC_PROCESS_TABLE_H_
