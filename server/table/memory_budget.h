// MemoryBudget is a limit on bytes held, counted with one atomic. rexecd's
// memory budget is what it may hold for its calls in all (--memory-budget): requests held for children's inputs, outboxes, what
// Fork's decoders hold, Exec buffers, session rings, and gRPC's own
// buffers (its resource quota, held from the start).
//
// (--max-exec-memory is a budget of its own, for Exec buffers alone.)
//
// Three ways to count against it, by what the user can do when it is spent:
// - Wait: a user that can stop taking (a stream not read, a child's pipe
//   not read: back-pressure) asks HasRoom() first and waits while there is
//   none.
// - Take: bytes already in hand (a request read, a chunk read) are counted
//   whether they fit or not. Users that wait take at most one unit past the
//   budget each, so it is passed by at most that.
// - Reserve: what must fit whole before it starts (an Exec's buffers, a
//   session's rings) is reserved, or refused RESOURCE_EXHAUSTED naming the
//   budget; the call starts nothing.
//
// Thread-safe: the count is one atomic.
#ifndef REXEC_SERVER_TABLE_MEMORY_BUDGET_H_
#define REXEC_SERVER_TABLE_MEMORY_BUDGET_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rexec::table {

class MemoryBudget {
 public:
  // Bytes reserved until it goes (or is moved from). Move-only.
  class Hold {
   public:
    Hold() = default;
    Hold(Hold&& other) noexcept
        : budget_(std::exchange(other.budget_, nullptr)),
          bytes_(std::exchange(other.bytes_, 0)) {}
    Hold& operator=(Hold&& other) noexcept {
      if (this != &other) {
        Release();
        budget_ = std::exchange(other.budget_, nullptr);
        bytes_ = std::exchange(other.bytes_, 0);
      }
      return *this;
    }
    ~Hold() { Release(); }
    uint64_t bytes() const { return bytes_; }

   private:
    friend class MemoryBudget;
    Hold(MemoryBudget* budget, uint64_t bytes)
        : budget_(budget), bytes_(bytes) {}
    void Release() {
      if (budget_ != nullptr) budget_->Give(bytes_);
      budget_ = nullptr;
      bytes_ = 0;
    }
    MemoryBudget* budget_ = nullptr;
    uint64_t bytes_ = 0;
  };

  // `name` and `flag` say which limit a refusal met ("rexecd's memory
  // budget", "--memory-budget").
  MemoryBudget(uint64_t limit, std::string name, std::string flag)
      : limit_(limit), name_(std::move(name)), flag_(std::move(flag)) {}
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  uint64_t limit() const { return limit_; }
  uint64_t used() const { return used_.load(std::memory_order_relaxed); }
  // Whether `bytes` more would still be within the budget.
  bool HasRoom(uint64_t bytes) const {
    const uint64_t now = used();
    return now <= limit_ && bytes <= limit_ - now;
  }

  void Take(uint64_t bytes) {
    used_.fetch_add(bytes, std::memory_order_relaxed);
  }
  void Give(uint64_t bytes) {
    used_.fetch_sub(bytes, std::memory_order_relaxed);
  }
  // `bytes` for `what` (e.g. "an Exec's buffers (2 x max_buffer)"), or
  // RESOURCE_EXHAUSTED naming the limit, what is held of it and what
  // `what` needs.
  absl::StatusOr<Hold> Reserve(uint64_t bytes, absl::string_view what);

 private:
  const uint64_t limit_;
  const std::string name_;
  const std::string flag_;
  std::atomic<uint64_t> used_{0};
};

// "3 MiB", "512 KiB", "100 bytes": sizes in the budget's messages.
std::string SizeText(uint64_t bytes);

}  // namespace rexec::table

#endif  // REXEC_SERVER_TABLE_MEMORY_BUDGET_H_
