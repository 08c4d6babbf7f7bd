#include "server/rpc/process_table.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace rexec::rpc {
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

absl::StatusOr<Session> ProcessTable::Reserve(const std::string& identity,
                                              const std::string& name,
                                              std::vector<std::string> argv,
                                              bool terminal,
                                              std::shared_ptr<const LaunchRequest> launch) {
  if (!name.empty()) {
    if (absl::Status status = CheckName(name); !status.ok()) return status;
  }
  absl::MutexLock lock(&mu_);
  ExpireLocked(absl::Now());
  int mine = 0;
  for (const auto& [id, session] : sessions_) {
    if (session.identity != identity) continue;
    ++mine;
    if (!name.empty() && session.name == name) {
      return absl::AlreadyExistsError(absl::StrCat(
          "a session named \"", name, "\" exists (", session.id,
          session.ended ? ", ended" : ", running",
          "): names are unique per identity until the session is removed"));
    }
  }
  if (mine >= limits_.max_per_identity) {
    return absl::ResourceExhaustedError(
        absl::StrCat(identity, " has ", mine,
                     " sessions, its limit (--max-detached); ended ones count "
                     "until --keep-ended passes or they are collected"));
  }
  const int total = static_cast<int>(sessions_.size());
  if (total >= limits_.max_total) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the server has ", total,
                     " sessions, its limit (--max-detached-total)"));
  }
  // Past its first few, an identity takes only from the shared part of the
  // total: the rest is kept for identities that have fewer, so that a few
  // identities cannot take every session there is.
  if (mine >= kReservedPerIdentity &&
      total >= limits_.max_total - limits_.max_total / kKeptFraction) {
    return absl::ResourceExhaustedError(absl::StrCat(
        identity, " has ", mine, " sessions, and the server ", total,
        ": the last ", limits_.max_total / kKeptFraction, " of the ",
        limits_.max_total,
        " (--max-detached-total) are kept for identities with fewer than ",
        kReservedPerIdentity));
  }
  Session session;
  session.id = absl::StrCat("s", next_id_++);
  session.name = name;
  session.identity = identity;
  session.argv = std::move(argv);
  session.terminal = terminal;
  session.launch = std::move(launch);
  session.log = std::make_shared<SessionLog>(limits_.replay_buffer);
  session.control = std::make_shared<SessionControl>();
  sessions_.emplace(session.id, session);
  return session;
}

void ProcessTable::Started(const std::string& id, pid_t pid, absl::Time at) {
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  it->second.pid = pid;
  it->second.started = at;
}

void ProcessTable::Ended(const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(id);
  if (it != sessions_.end()) it->second.ended = absl::Now();
}

void ProcessTable::Remove(const std::string& id) {
  absl::MutexLock lock(&mu_);
  sessions_.erase(id);
}

std::vector<Session> ProcessTable::List(const std::string& identity) {
  absl::MutexLock lock(&mu_);
  ExpireLocked(absl::Now());
  std::vector<Session> mine;
  for (const auto& [id, session] : sessions_) {
    // pid 0: reserved, its child not started yet.
    if (session.identity == identity && session.pid != 0) {
      mine.push_back(session);
    }
  }
  std::sort(mine.begin(), mine.end(), [](const Session& a, const Session& b) {
    return a.started < b.started;
  });
  return mine;
}

absl::StatusOr<Session> ProcessTable::Find(const std::string& identity,
                                           const std::string& id_or_name) {
  absl::MutexLock lock(&mu_);
  ExpireLocked(absl::Now());
  auto it = sessions_.find(id_or_name);
  if (it != sessions_.end() && it->second.identity == identity &&
      it->second.pid != 0) {
    return it->second;
  }
  for (const auto& [id, session] : sessions_) {
    if (session.identity == identity && session.pid != 0 &&
        !session.name.empty() && session.name == id_or_name) {
      return session;
    }
  }
  return absl::NotFoundError(absl::StrCat(
      "no session \"", absl::CHexEscape(id_or_name.substr(0, 80)),
      "\" of yours (rexec ps lists them; an ended one is kept for "
      "--keep-ended)"));
}

std::vector<Session> ProcessTable::Running() {
  absl::MutexLock lock(&mu_);
  std::vector<Session> running;
  for (const auto& [id, session] : sessions_) {
    if (!session.ended) running.push_back(session);
  }
  return running;
}

void ProcessTable::PostToAll(const SessionMail& mail) {
  absl::MutexLock lock(&mu_);
  for (const auto& [id, session] : sessions_) {
    if (!session.ended) session.control->Post(mail).IgnoreError();
  }
}

int ProcessTable::size() {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(sessions_.size());
}

void ProcessTable::ExpireLocked(absl::Time now) {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (it->second.ended && now - *it->second.ended >= limits_.keep_ended) {
      it = sessions_.erase(it);  // a btree's erase moves the others
    } else {
      ++it;
    }
  }
}

}  // namespace rexec::rpc
