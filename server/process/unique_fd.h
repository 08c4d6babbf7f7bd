// UniqueFd owns one file descriptor and closes it when destroyed (Android's
// unique_fd). Move-only; no implicit conversion to int. Not thread-safe: one
// owner at a time.
#ifndef REXEC_SERVER_PROCESS_UNIQUE_FD_H_
#define REXEC_SERVER_PROCESS_UNIQUE_FD_H_

#include <utility>

namespace rexec::process {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    Reset(other.Release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int Get() const { return fd_; }
  bool Valid() const { return fd_ >= 0; }

  // Closes the current fd (if any) and takes ownership of `fd`. close() is
  // never retried on EINTR: on Linux the fd is gone either way, and a retry
  // could close a descriptor another thread has just been given.
  void Reset(int fd = -1);

  [[nodiscard]] int Release() { return std::exchange(fd_, -1); }

 private:
  int fd_ = -1;
};

}  // namespace rexec::process

#endif  // REXEC_SERVER_PROCESS_UNIQUE_FD_H_
