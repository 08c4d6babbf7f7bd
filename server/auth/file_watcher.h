// FileWatcher tells when configuration files may have changed: an inotify
// watch on each file's directory, since editors and Kubernetes replace a
// file rather than write it (a ConfigMap update renames a `..data` symlink
// in the directory, which a watch on the file itself would never see). Any
// event in those directories counts; the caller reloads and compares.
//
// Owned by one thread; not thread-safe.
#ifndef REXEC_SERVER_AUTH_FILE_WATCHER_H_
#define REXEC_SERVER_AUTH_FILE_WATCHER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace rexec::auth {

class FileWatcher {
 public:
  static absl::StatusOr<FileWatcher> Create(
      const std::vector<std::string>& files);
  FileWatcher(FileWatcher&& other) noexcept;
  FileWatcher& operator=(FileWatcher&&) = delete;
  ~FileWatcher();

  // Readable (poll) when something changed.
  int fd() const { return fd_; }
  // Reads the pending events; true when there were any.
  bool Drain();

 private:
  explicit FileWatcher(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace rexec::auth

#endif  // REXEC_SERVER_AUTH_FILE_WATCHER_H_
