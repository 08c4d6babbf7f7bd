// GrpcMemory is gRPC's part of rexecd's memory budget: gRPC's resource
// quota, a share of the budget held from the start, grown by one stream
// window for each call that leaves its requests unread in gRPC.
//
// Why the windows: a call whose child does not take its input (stdin, Fork
// messages) stops reading requests, and the client may still send as much as
// the stream's HTTP/2 window, which gRPC holds: up to kStreamWindow. When
// gRPC's quota is full, gRPC 1.51 frees memory by cancelling a stream picked
// at random (RST_STREAM 11, "Buffers full"), on any connection: an innocent
// call would pay for the flood. So the quota grows by a window for each
// such call while the budget has room for it, and when it has none, the call
// that needs it is the one that ends, RESOURCE_EXHAUSTED naming the budget.
//
// Thread-safe.
#ifndef REXEC_SERVER_RPC_GRPC_MEMORY_H_
#define REXEC_SERVER_RPC_GRPC_MEMORY_H_

#include <grpcpp/resource_quota.h>

#include <cstdint>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/table/memory_budget.h"

namespace rexec::rpc {

class GrpcMemory {
 public:
  // What gRPC may hold for a stream rexecd does not read. gRPC 1.51 sizes
  // every stream's window from its estimate of the link's bandwidth-delay
  // product, up to 2^25 bytes (the PID controller's bound in chttp2's
  // flow_control.cc), plus up to 1 MiB announced for the read in progress
  // (kMaxWindowDelta). Measured on loopback: 7-15 MiB per stalled stream,
  // more with more streams on one connection.
  static constexpr uint64_t kStreamWindow = (32 << 20) + (1 << 20);

  // One stream window in gRPC's quota and the budget, until it goes.
  // Move-only; the GrpcMemory must outlive it.
  class Window {
   public:
    Window() = default;
    Window(Window&& other) noexcept
        : owner_(std::exchange(other.owner_, nullptr)),
          hold_(std::move(other.hold_)) {}
    Window& operator=(Window&& other) noexcept;
    ~Window();
    explicit operator bool() const { return owner_ != nullptr; }

   private:
    friend class GrpcMemory;
    Window(GrpcMemory* owner, table::MemoryBudget::Hold hold)
        : owner_(owner), hold_(std::move(hold)) {}
    void Release();
    GrpcMemory* owner_ = nullptr;
    table::MemoryBudget::Hold hold_;
  };

  explicit GrpcMemory(table::MemoryBudget* budget) : budget_(budget) {}
  GrpcMemory(const GrpcMemory&) = delete;
  GrpcMemory& operator=(const GrpcMemory&) = delete;

  // Reserves gRPC's `share` of the budget and sizes the quota to it; once,
  // before the server is built.
  absl::Status Start(uint64_t share);
  // The quota the server is built with.
  const grpc::ResourceQuota& quota() const { return quota_; }
  // A window for a call whose requests wait unread, or RESOURCE_EXHAUSTED
  // naming the budget.
  absl::StatusOr<Window> HoldWindow();

  // Windows held now: the calls that stall.
  int windows() const;

 private:
  void Resize() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Drop();

  table::MemoryBudget* const budget_;
  table::MemoryBudget::Hold share_;
  grpc::ResourceQuota quota_{"rexecd"};
  mutable absl::Mutex mu_;
  int windows_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace rexec::rpc

#endif  // REXEC_SERVER_RPC_GRPC_MEMORY_H_
