#include "server/auth/file_watcher.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"

namespace rexec::auth {

absl::StatusOr<FileWatcher> FileWatcher::Create(
    const std::vector<std::string>& files) {
  int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (fd < 0) return ErrnoStatus(errno, "inotify_init1");
  FileWatcher watcher(fd);
  for (const std::string& file : files) {
    size_t slash = file.rfind('/');
    std::string dir = slash == std::string::npos ? "."
                      : slash == 0               ? "/"
                                                 : file.substr(0, slash);
    if (inotify_add_watch(fd, dir.c_str(),
                          IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE |
                              IN_ATTRIB) < 0) {
      return ErrnoStatus(errno, absl::StrCat("watch ", dir, " for ", file));
    }
  }
  return watcher;
}

FileWatcher::FileWatcher(FileWatcher&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)) {}

FileWatcher::~FileWatcher() {
  if (fd_ >= 0) close(fd_);
}

bool FileWatcher::Drain() {
  bool any = false;
  alignas(inotify_event) char buffer[4096];
  for (;;) {
    ssize_t n = read(fd_, buffer, sizeof buffer);
    if (n > 0) {
      any = true;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return any;  // EAGAIN: drained
    }
  }
}

}  // namespace rexec::auth
