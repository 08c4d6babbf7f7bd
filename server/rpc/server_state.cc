#include "server/rpc/server_state.h"

#include "absl/strings/str_cat.h"
#include "server/rpc/supervisor.h"

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

void ServerState::CallStarted() {
  absl::MutexLock lock(&mu_);
  ++started_calls_;
}

void ServerState::CallEnded() {
  absl::MutexLock lock(&mu_);
  --started_calls_;
}

int ServerState::running_children() {
  absl::MutexLock lock(&mu_);
  return children_;
}

void ServerState::BeginDrain(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  if (phase_ != Phase::kServing) return;
  drain_deadline_ = deadline;
  phase_ = Phase::kDraining;
  for (Supervisor* supervisor : supervisors_) supervisor->NotifyDrain();
}

void ServerState::BeginStop() {
  // Under the lock: a drain waiting in WaitForNoStartedCalls wakes up.
  absl::MutexLock lock(&mu_);
  phase_ = Phase::kStopping;
}

absl::Time ServerState::drain_deadline() const {
  absl::MutexLock lock(&mu_);
  return drain_deadline_;
}

void ServerState::AddSupervisor(Supervisor* supervisor) {
  absl::MutexLock lock(&mu_);
  supervisors_.insert(supervisor);
  if (phase_ != Phase::kServing) supervisor->NotifyDrain();
}

void ServerState::RemoveSupervisor(Supervisor* supervisor) {
  absl::MutexLock lock(&mu_);
  supervisors_.erase(supervisor);
}

bool ServerState::WaitForNoStartedCalls(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  auto none = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return started_calls_ == 0 || phase_ == Phase::kStopping;
  };
  return mu_.AwaitWithDeadline(absl::Condition(&none), deadline);
}

void ServerState::WaitForLastCalls(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  auto none = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return started_calls_ == 0;
  };
  mu_.AwaitWithDeadline(absl::Condition(&none), deadline);
}

void ServerState::WaitForNoCalls() {
  absl::MutexLock lock(&mu_);
  auto none = [this]()
                  ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return calls_ == 0; };
  mu_.Await(absl::Condition(&none));
}

}  // namespace rexec::rpc
