#include "server/rpc/server_state.h"

#include "absl/strings/str_cat.h"

namespace rexec::rpc {

absl::Status ServerState::TryAddChild(absl::string_view program,
                                      absl::string_view identity,
                                      uint32_t identity_cap,
                                      absl::string_view rule) {
  absl::MutexLock lock(&mu_);
  if (children_ >= config_.max_processes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("spawn ", program, ": the server runs its limit of ",
                     config_.max_processes, " processes (--max-processes)"));
  }
  uint32_t& mine = children_of_[identity];
  if (identity_cap > 0 && mine >= identity_cap) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "spawn ", program, ": identity \"", identity, "\" runs its limit of ",
        identity_cap, " processes (rule \"", rule, "\": max_processes)"));
  }
  ++mine;
  ++children_;
  return absl::OkStatus();
}

void ServerState::RemoveChild(absl::string_view identity) {
  absl::MutexLock lock(&mu_);
  --children_;
  auto it = children_of_.find(identity);
  if (it != children_of_.end() && --it->second == 0) children_of_.erase(it);
}

bool ServerState::TryReserveExecMemory(uint64_t bytes) {
  absl::MutexLock lock(&mu_);
  if (bytes > config_.max_exec_memory - exec_memory_) return false;
  exec_memory_ += bytes;
  return true;
}

void ServerState::ReleaseExecMemory(uint64_t bytes) {
  absl::MutexLock lock(&mu_);
  exec_memory_ -= bytes;
}

void ServerState::AddCall() {
  absl::MutexLock lock(&mu_);
  ++calls_;
}

void ServerState::RemoveCall() {
  absl::MutexLock lock(&mu_);
  --calls_;
}

void ServerState::WaitForNoCalls() {
  absl::MutexLock lock(&mu_);
  auto none = [this]()
                  ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return calls_ == 0; };
  mu_.Await(absl::Condition(&none));
}

}  // namespace rexec::rpc
