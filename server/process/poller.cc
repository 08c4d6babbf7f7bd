#include "server/process/poller.h"

#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"

namespace rexec::process {
namespace {
constexpr Poller::WatchId kWakeupId = 0;
}  // namespace

absl::StatusOr<std::unique_ptr<Poller>> Poller::Create() {
  UniqueFd epoll(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll.Valid()) return ErrnoStatus(errno, "epoll_create1");
  UniqueFd wakeup(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wakeup.Valid()) return ErrnoStatus(errno, "eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeupId;
  if (epoll_ctl(epoll.Get(), EPOLL_CTL_ADD, wakeup.Get(), &ev) != 0) {
    return ErrnoStatus(errno, "epoll_ctl add eventfd");
  }
  return std::unique_ptr<Poller>(
      new Poller(std::move(epoll), std::move(wakeup)));
}

Poller::Poller(UniqueFd epoll, UniqueFd wakeup)
    : epoll_(std::move(epoll)), wakeup_(std::move(wakeup)) {
  thread_ = std::thread([this] { Loop(); });
}

Poller::~Poller() {
  uint64_t one = 1;
  (void)!write(wakeup_.Get(), &one, sizeof one);
  thread_.join();
}

absl::StatusOr<Poller::WatchId> Poller::Watch(int fd, uint32_t events,
                                              Callback callback,
                                              Arming arming) {
  WatchId id;
  {
    absl::MutexLock lock(&mu_);
    id = next_id_++;
    callbacks_.emplace(id, std::move(callback));
  }
  // Added outside the lock: an fd that is ready at once (a child that has
  // already exited) wakes the loop, which would otherwise block on the lock
  // still held here, and wake once more when it is let go.
  epoll_event ev{};
  ev.events = events | (arming == Arming::kOneShot ? EPOLLONESHOT : 0u);
  ev.data.u64 = id;
  if (epoll_ctl(epoll_.Get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
    const int error = errno;
    absl::MutexLock lock(&mu_);
    callbacks_.erase(id);
    return ErrnoStatus(error, absl::StrCat("epoll_ctl add fd ", fd));
  }
  return id;
}

absl::Status Poller::Rearm(WatchId id, int fd, uint32_t events) {
  epoll_event ev{};
  ev.events = events | EPOLLONESHOT;
  ev.data.u64 = id;
  if (epoll_ctl(epoll_.Get(), EPOLL_CTL_MOD, fd, &ev) != 0) {
    return ErrnoStatus(errno, absl::StrCat("epoll_ctl rearm fd ", fd));
  }
  return absl::OkStatus();
}

void Poller::Unwatch(WatchId id, int fd) {
  absl::MutexLock lock(&mu_);
  epoll_ctl(epoll_.Get(), EPOLL_CTL_DEL, fd, nullptr);
  callbacks_.erase(id);
}

void Poller::Loop() {
  pthread_setname_np(pthread_self(), "rexecd-poller");
  epoll_event events[64];
  for (;;) {
    int n = epoll_wait(epoll_.Get(), events, 64, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // EBADF/EINVAL: broken invariant, nothing left to serve
    }
    absl::MutexLock lock(&mu_);
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 == kWakeupId) return;
      // The watch may be gone: Unwatch() raced with this epoll_wait().
      auto it = callbacks_.find(events[i].data.u64);
      if (it != callbacks_.end()) it->second(events[i].events);
    }
  }
}

}  // namespace rexec::process
