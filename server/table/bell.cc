#include "server/table/bell.h"

#include <utility>

namespace rexec::table {

Bell::Bell(Executor* executor, std::function<void(uint32_t)> on_ring)
    : state_(std::make_shared<State>(executor)) {
  state_->on_ring = std::move(on_ring);
}

std::function<void()> Bell::Ringer(uint32_t events) const {
  return [state = state_, events] { Ring(state, events); };
}

void Bell::Close() {
  absl::MutexLock lock(&state_->mu);
  state_->closed = true;
}

void Bell::Ring(const std::shared_ptr<State>& state, uint32_t events) {
  absl::MutexLock lock(&state->mu);
  state->events |= events;
  if (state->posted || state->closed) return;
  state->posted = true;
  // The turn holds the state, not the bell: the bell may be gone by then.
  state->executor->Post([state] { Turn(state); });
}

void Bell::Turn(const std::shared_ptr<State>& state) {
  uint32_t events;
  {
    absl::MutexLock lock(&state->mu);
    state->posted = false;
    if (state->closed) return;
    events = std::exchange(state->events, 0);
  }
  // Closed only on this thread: it cannot close between the check and here.
  state->on_ring(events);
}

}  // namespace rexec::table
