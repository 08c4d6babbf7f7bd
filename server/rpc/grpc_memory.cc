#include "server/rpc/grpc_memory.h"

#include <utility>

namespace rexec::rpc {

GrpcMemory::Window& GrpcMemory::Window::operator=(Window&& other) noexcept {
  if (this != &other) {
    Release();
    owner_ = std::exchange(other.owner_, nullptr);
    hold_ = std::move(other.hold_);
  }
  return *this;
}

GrpcMemory::Window::~Window() { Release(); }

void GrpcMemory::Window::Release() {
  // The quota shrinks before the budget takes the bytes back, so that the
  // two never promise the same bytes twice.
  if (GrpcMemory* owner = std::exchange(owner_, nullptr)) owner->Drop();
  hold_ = table::MemoryBudget::Hold();
}

absl::Status GrpcMemory::Start(uint64_t share) {
  absl::StatusOr<table::MemoryBudget::Hold> hold =
      budget_->Reserve(share, "gRPC's buffers");
  if (!hold.ok()) return hold.status();
  share_ = *std::move(hold);
  absl::MutexLock lock(&mu_);
  Resize();
  return absl::OkStatus();
}

absl::StatusOr<GrpcMemory::Window> GrpcMemory::HoldWindow() {
  absl::StatusOr<table::MemoryBudget::Hold> hold = budget_->Reserve(
      kStreamWindow,
      "the stream window gRPC holds for a call whose child does not take "
      "its input as fast as it is sent");
  if (!hold.ok()) return hold.status();
  absl::MutexLock lock(&mu_);
  ++windows_;
  Resize();
  return Window(this, *std::move(hold));
}

void GrpcMemory::Drop() {
  absl::MutexLock lock(&mu_);
  --windows_;
  Resize();
}

void GrpcMemory::Resize() {
  quota_.Resize(
      static_cast<size_t>(share_.bytes() + uint64_t(windows_) * kStreamWindow));
}

int GrpcMemory::windows() const {
  absl::MutexLock lock(&mu_);
  return windows_;
}

}  // namespace rexec::rpc
