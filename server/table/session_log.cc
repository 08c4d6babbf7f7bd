#include "server/table/session_log.h"

#include <algorithm>

namespace rexec::table {

void SessionLog::Append(int stream, absl::string_view data) {
  {
    absl::MutexLock lock(&mu_);
    Ring& ring = rings_[stream];
    // Only the last capacity_ bytes of a larger chunk can stay.
    if (data.size() > capacity_) {
      ring.end += data.size() - capacity_;
      data.remove_prefix(data.size() - capacity_);
      ring.bytes.resize(capacity_);  // all of it is written below
    }
    if (ring.bytes.size() < capacity_) {  // then end == bytes.size()
      const size_t n = std::min(data.size(), capacity_ - ring.bytes.size());
      ring.bytes.append(data.data(), n);
      ring.end += n;
      data.remove_prefix(n);
    }
    while (!data.empty()) {
      const size_t at = ring.end % capacity_;
      const size_t n = std::min(data.size(), capacity_ - at);
      ring.bytes.replace(at, n, data.data(), n);
      ring.end += n;
      data.remove_prefix(n);
    }
  }
  Notify();
}

size_t SessionLog::held() const {
  absl::MutexLock lock(&mu_);
  return rings_[0].bytes.capacity() + rings_[1].bytes.capacity();
}

void SessionLog::SetExit(ExitReport exit) {
  {
    absl::MutexLock lock(&mu_);
    exit_ = std::move(exit);
  }
  Notify();
}

SessionLog::Chunk SessionLog::Read(int stream, uint64_t offset,
                                   size_t max) const {
  absl::MutexLock lock(&mu_);
  const Ring& ring = rings_[stream];
  const uint64_t oldest = ring.end > capacity_ ? ring.end - capacity_ : 0;
  Chunk chunk;
  chunk.offset = std::max(offset, oldest);
  chunk.lost = chunk.offset - offset;
  if (chunk.offset >= ring.end) return chunk;
  size_t left = std::min<uint64_t>(max, ring.end - chunk.offset);
  chunk.data.reserve(left);
  for (uint64_t o = chunk.offset; left > 0;) {
    const size_t at = o % capacity_;
    const size_t n = std::min(left, capacity_ - at);
    chunk.data.append(ring.bytes, at, n);
    o += n;
    left -= n;
  }
  return chunk;
}

uint64_t SessionLog::end(int stream) const {
  absl::MutexLock lock(&mu_);
  return rings_[stream].end;
}

uint64_t SessionLog::oldest(int stream) const {
  absl::MutexLock lock(&mu_);
  const uint64_t end = rings_[stream].end;
  return end > capacity_ ? end - capacity_ : 0;
}

void SessionLog::Revoke(absl::Status why) {
  {
    absl::MutexLock lock(&mu_);
    revoked_ = std::move(why);
  }
  Notify();
}

std::optional<absl::Status> SessionLog::revoked() const {
  absl::MutexLock lock(&mu_);
  return revoked_;
}

std::optional<ExitReport> SessionLog::exit() const {
  absl::MutexLock lock(&mu_);
  return exit_;
}

int SessionLog::AddWatcher(std::function<void()> notify) {
  absl::MutexLock lock(&watchers_mu_);
  if (watchers_.size() >= kMaxWatchers) return 0;
  const int id = next_watcher_++;
  watchers_.emplace(id, std::move(notify));
  return id;
}

void SessionLog::RemoveWatcher(int id) {
  absl::MutexLock lock(&watchers_mu_);
  watchers_.erase(id);
}

int SessionLog::watchers() const {
  absl::MutexLock lock(&watchers_mu_);
  return static_cast<int>(watchers_.size());
}

void SessionLog::Notify() {
  absl::MutexLock lock(&watchers_mu_);
  for (auto& [id, notify] : watchers_) notify();
}

}  // namespace rexec::table
