// Poller runs one thread around epoll and calls a watcher back when its fd is
// ready. A watch is one-shot unless made persistent: after its callback
// runs, the fd stays silent until Rearm(). That is what lets an owner stop
// reading a pipe while its consumer is slow: it simply does not rearm. A
// persistent watch (for an fd its callback always reads empty, such as a
// signalfd) stays armed.
//
// Callbacks run on the poller thread ("rexecd-poller") under the poller's lock,
// so they must be short and must not call back into the Poller. Once Unwatch()
// returns, the callback is not running and will not run again. Thread-safe.
#ifndef REXEC_SERVER_PROCESS_POLLER_H_
#define REXEC_SERVER_PROCESS_POLLER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/process/unique_fd.h"

namespace rexec::process {

class Poller {
 public:
  using WatchId = uint64_t;
  // Receives the epoll events that fired (EPOLLIN, EPOLLOUT, EPOLLHUP...).
  using Callback = std::function<void(uint32_t events)>;

  static absl::StatusOr<std::unique_ptr<Poller>> Create();
  ~Poller();

  enum class Arming { kOneShot, kPersistent };

  // Starts watching `fd` for `events` (EPOLLIN or EPOLLOUT), armed at once.
  absl::StatusOr<WatchId> Watch(int fd, uint32_t events, Callback callback,
                                Arming arming = Arming::kOneShot);
  // Arms a one-shot watch again after its callback ran (and leaves it
  // one-shot; a persistent watch needs no rearming).
  absl::Status Rearm(WatchId id, int fd, uint32_t events);
  // Stops a watch; `fd` must still be open.
  void Unwatch(WatchId id, int fd);

 private:
  Poller(UniqueFd epoll, UniqueFd wakeup);
  void Loop();

  const UniqueFd epoll_;
  const UniqueFd wakeup_;  // eventfd that ends Loop()
  absl::Mutex mu_;
  absl::flat_hash_map<WatchId, Callback> callbacks_ ABSL_GUARDED_BY(mu_);
  WatchId next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::thread thread_;
};

}  // namespace rexec::process

#endif  // REXEC_SERVER_PROCESS_POLLER_H_
