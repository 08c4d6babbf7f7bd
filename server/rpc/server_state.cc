#include "server/rpc/server_state.h"

#include "absl/strings/str_cat.h"
#include "server/ops/logging.h"

namespace rexec::rpc {

void ServerState::AddCall() {
  absl::MutexLock lock(&mu_);
  ++calls_;
}

void ServerState::RemoveCall() {
  absl::MutexLock lock(&mu_);
  --calls_;
}

absl::Status ServerState::AuditRefusal() const {
  if (!config_.refuse_without_audit || ops::AuditWritable()) {
    return absl::OkStatus();
  }
  return absl::UnavailableError(
      "audit log unavailable: rexecd takes no call it cannot record "
      "(--audit-on-failure refuse) until its log takes records again; retry "
      "later or on another server");
}

void ServerState::CallStarted() {
  absl::MutexLock lock(&mu_);
  ++started_calls_;
}

void ServerState::CallEnded() {
  absl::MutexLock lock(&mu_);
  --started_calls_;
}

void ServerState::BeginStop() {
  table_.BeginStop();
  // Under the lock: a drain waiting in WaitForNoStartedCalls wakes up.
  absl::MutexLock lock(&mu_);
}

bool ServerState::WaitForNoStartedCalls(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  auto none = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return started_calls_ == 0 || table_.phase() == Phase::kStopping;
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
