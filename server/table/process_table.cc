#include "server/table/process_table.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace rexec::table {
namespace {

constexpr size_t kMaxNameLength = 64;

// Names and ids share one lookup: a name may not look like an id ("s"
// and digits), and is letters, digits and ._- starting with a letter.
absl::Status CheckName(const std::string& name) {
  const bool id_like =
      name.size() > 1 && name[0] == 's' &&
      std::all_of(name.begin() + 1, name.end(), absl::ascii_isdigit);
  if (name.size() > kMaxNameLength || !absl::ascii_isalpha(name[0]) ||
      id_like ||
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW"
                             "XYZ0123456789._-") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "options.name \"", absl::CHexEscape(name.substr(0, 80)),
        "\" is not a session name: a letter, then letters, digits and ._-, "
        "at most ",
        kMaxNameLength, " bytes, and not of an id's form (s and digits)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ProcessTable::Admit(absl::string_view program,
                                 absl::string_view identity,
                                 uint32_t identity_cap,
                                 absl::string_view rule, int fds) {
  absl::MutexLock lock(&mu_);
  if (children_ >= config_.max_processes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("spawn ", program, ": the server runs its limit of ",
                     config_.max_processes, " processes (--max-processes)"));
  }
  // A Fork holds more than the start-up check counted on: past its room,
  // the next would take an fd the connections need (EMFILE for all).
  if (config_.max_child_fds > 0 &&
      child_fds_ + fds > config_.max_child_fds) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "spawn ", program, ": the server's children hold ", child_fds_,
        " of the ", config_.max_child_fds,
        " file descriptors its open-file limit (RLIMIT_NOFILE) leaves them, "
        "and this one needs ",
        fds));
  }
  uint32_t& mine = children_of_[identity];
  if (identity_cap > 0 && mine >= identity_cap) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "spawn ", program, ": identity \"", identity, "\" runs its limit of ",
        identity_cap, " processes (rule \"", rule, "\": max_processes)"));
  }
  ++mine;
  ++children_;
  child_fds_ += fds;
  return absl::OkStatus();
}

void ProcessTable::Leave(absl::string_view identity, int fds) {
  absl::MutexLock lock(&mu_);
  --children_;
  child_fds_ -= fds;
  auto it = children_of_.find(identity);
  if (it != children_of_.end() && --it->second == 0) children_of_.erase(it);
}

int ProcessTable::running_children() {
  absl::MutexLock lock(&mu_);
  return children_;
}

absl::StatusOr<Session> ProcessTable::Reserve(const std::string& identity,
                                              const std::string& name,
                                              std::vector<std::string> argv,
                                              bool terminal, std::any launch) {
  if (!name.empty()) {
    if (absl::Status status = CheckName(name); !status.ok()) return status;
  }
  absl::MutexLock lock(&mu_);
  ExpireLocked(absl::Now());
  const SessionLimits& limits = config_.sessions;
  int mine = 0;
  for (const auto& [id, entry] : entries_) {
    if (!entry.session || entry.identity != identity) continue;
    ++mine;
    if (!name.empty() && entry.session->name == name) {
      return absl::AlreadyExistsError(absl::StrCat(
          "a session named \"", name, "\" exists (", entry.session->id,
          entry.session->ended ? ", ended" : ", running",
          "): names are unique per identity until the session is removed"));
    }
  }
  if (mine >= limits.max_per_identity) {
    return absl::ResourceExhaustedError(
        absl::StrCat(identity, " has ", mine,
                     " sessions, its limit (--max-detached); ended ones count "
                     "until --keep-ended passes or they are collected"));
  }
  const int total = sessions_;
  if (total >= limits.max_total) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the server has ", total,
                     " sessions, its limit (--max-detached-total)"));
  }
  // Past its first few, an identity takes only from the shared part of the
  // total: the rest is kept for identities that have fewer, so that a few
  // identities cannot take every session there is.
  if (mine >= kReservedPerIdentity &&
      total >= limits.max_total - limits.max_total / kKeptFraction) {
    return absl::ResourceExhaustedError(absl::StrCat(
        identity, " has ", mine, " sessions, and the server ", total,
        ": the last ", limits.max_total / kKeptFraction, " of the ",
        limits.max_total,
        " (--max-detached-total) are kept for identities with fewer than ",
        kReservedPerIdentity));
  }
  // Last: a refusal above takes nothing.
  absl::StatusOr<MemoryBudget::Hold> rings = budget_.Reserve(
      2 * uint64_t{limits.replay_buffer},
      "a session's replay rings (2 x --replay-buffer)");
  if (!rings.ok()) return rings.status();
  Session session;
  session.process = next_process_++;
  session.id = absl::StrCat("s", next_session_++);
  session.name = name;
  session.identity = identity;
  session.argv = std::move(argv);
  session.terminal = terminal;
  session.launch = std::move(launch);
  session.log = std::make_shared<SessionLog>(limits.replay_buffer,
                                             *std::move(rings));
  session.control = std::make_shared<SessionControl>();
  Entry& entry = entries_[session.process];
  entry.identity = identity;
  entry.session = session;
  ++sessions_;
  return session;
}

ProcessId ProcessTable::Add(Member* member, const std::string& identity,
                            pid_t pid, absl::Time started,
                            ProcessId reserved) {
  absl::MutexLock lock(&mu_);
  const ProcessId id = reserved != 0 ? reserved : next_process_++;
  Entry& entry = entries_[id];
  entry.member = member;
  entry.identity = identity;
  if (entry.session) {
    entry.session->pid = pid;
    entry.session->started = started;
  }
  if (phase_.load(std::memory_order_relaxed) != Phase::kServing) {
    member->OnDrainBegun();
  }
  return id;
}

void ProcessTable::Reported(ProcessId id, bool collected) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  if (!it->second.session || collected) {
    if (it->second.session) --sessions_;
    entries_.erase(it);
    return;
  }
  it->second.member = nullptr;
  it->second.session->ended = absl::Now();
}

void ProcessTable::Remove(ProcessId id) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  if (it->second.session) --sessions_;
  entries_.erase(it);
}

void ProcessTable::Adopt() {
  absl::MutexLock lock(&mu_);
  ++adopted_;
}

void ProcessTable::AdoptedDone() {
  absl::MutexLock lock(&mu_);
  --adopted_;
}

bool ProcessTable::WaitForNoAdopted(absl::Time deadline, bool until_stop) {
  absl::MutexLock lock(&mu_);
  auto none = [this, until_stop]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return adopted_ == 0 ||
           (until_stop && phase_.load(std::memory_order_relaxed) ==
                              Phase::kStopping);
  };
  mu_.AwaitWithDeadline(absl::Condition(&none), deadline);
  return adopted_ == 0;
}

std::vector<Session> ProcessTable::List(const std::string& identity) {
  absl::MutexLock lock(&mu_);
  ExpireLocked(absl::Now());
  std::vector<Session> mine;
  for (const auto& [id, entry] : entries_) {
    // pid 0: reserved, its child not started yet.
    if (entry.session && entry.identity == identity &&
        entry.session->pid != 0) {
      mine.push_back(*entry.session);
    }
  }
  std::sort(mine.begin(), mine.end(), [](const Session& a, const Session& b) {
    return a.started < b.started;
  });
  return mine;
}

const Session* ProcessTable::FindLocked(const std::string& identity,
                                        const std::string& id_or_name) const {
  const Session* by_name = nullptr;
  for (const auto& [id, entry] : entries_) {
    const std::optional<Session>& session = entry.session;
    if (!session || entry.identity != identity || session->pid == 0) continue;
    if (session->id == id_or_name) return &*session;
    if (!session->name.empty() && session->name == id_or_name) {
      by_name = &*session;
    }
  }
  return by_name;
}

absl::StatusOr<Session> ProcessTable::Find(const std::string& identity,
                                           const std::string& id_or_name) {
  absl::MutexLock lock(&mu_);
  ExpireLocked(absl::Now());
  if (const Session* session = FindLocked(identity, id_or_name)) {
    return *session;
  }
  return absl::NotFoundError(absl::StrCat(
      "no session \"", absl::CHexEscape(id_or_name.substr(0, 80)),
      "\" of yours (rexec ps lists them; an ended one is kept for "
      "--keep-ended)"));
}

std::vector<Session> ProcessTable::Running() {
  absl::MutexLock lock(&mu_);
  std::vector<Session> running;
  for (const auto& [id, entry] : entries_) {
    if (entry.session && !entry.session->ended) {
      running.push_back(*entry.session);
    }
  }
  return running;
}

int ProcessTable::sessions() {
  absl::MutexLock lock(&mu_);
  return sessions_;
}

ProcessTable::SessionCounts ProcessTable::CountSessions() {
  SessionCounts counts;
  std::vector<std::shared_ptr<SessionLog>> logs;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, entry] : entries_) {
      if (!entry.session) continue;
      ++(entry.session->ended ? counts.ended : counts.running);
      if (entry.session->log) logs.push_back(entry.session->log);
    }
  }
  // Each log's lock, not under the table's.
  for (const std::shared_ptr<SessionLog>& log : logs) {
    counts.log_bytes += log->held();
  }
  return counts;
}

void ProcessTable::BeginDrain(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  if (phase_.load(std::memory_order_relaxed) != Phase::kServing) return;
  drain_deadline_ = deadline;
  phase_.store(Phase::kDraining, std::memory_order_release);
  for (auto& [id, entry] : entries_) {
    if (entry.member != nullptr) entry.member->OnDrainBegun();
  }
}

void ProcessTable::BeginStop() {
  // Under the lock: a drain waiting in WaitForNoAdopted wakes up.
  absl::MutexLock lock(&mu_);
  phase_.store(Phase::kStopping, std::memory_order_release);
}

absl::Time ProcessTable::drain_deadline() const {
  absl::MutexLock lock(&mu_);
  return drain_deadline_;
}

void ProcessTable::StopAll(TerminationReason reason) {
  SessionMail stop;
  stop.kind = SessionMail::Kind::kStop;
  stop.reason = reason;
  absl::MutexLock lock(&mu_);
  for (const auto& [id, entry] : entries_) {
    if (entry.session && !entry.session->ended) {
      entry.session->control->Post(stop).IgnoreError();
    }
  }
}

void ProcessTable::ExpireLocked(absl::Time now) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    const std::optional<Session>& session = it->second.session;
    if (session && session->ended &&
        now - *session->ended >= config_.sessions.keep_ended) {
      --sessions_;
      it = entries_.erase(it);  // a btree's erase moves the others
    } else {
      ++it;
    }
  }
}

}  // namespace rexec::table
