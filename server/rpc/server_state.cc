#include "server/rpc/server_state.h"

namespace rexec::rpc {

bool ServerState::TryAddChild() {
  int n = children_.load(std::memory_order_relaxed);
  do {
    if (n >= config_.max_processes) return false;
  } while (
      !children_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed));
  return true;
}

void ServerState::RemoveChild() {
  children_.fetch_sub(1, std::memory_order_relaxed);
}

void ServerState::AddCall() {
  std::lock_guard lock(mu_);
  ++calls_;
}

void ServerState::RemoveCall() {
  std::lock_guard lock(mu_);
  if (--calls_ == 0) no_calls_.notify_all();
}

void ServerState::WaitForNoCalls() {
  std::unique_lock lock(mu_);
  no_calls_.wait(lock, [&] { return calls_ == 0; });
}

}  // namespace rexec::rpc
