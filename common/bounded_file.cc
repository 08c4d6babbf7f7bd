#include "common/bounded_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"

namespace rexec {

absl::StatusOr<std::string> ReadBoundedFile(const std::string& path,
                                            size_t max_bytes) {
  // O_NONBLOCK: a FIFO put in the file's place must not hang the reader.
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("read ", path));
  std::string text;
  char buffer[16384];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      absl::Status status = ErrnoStatus(errno, absl::StrCat("read ", path));
      close(fd);
      return status;
    }
    if (n == 0) break;
    text.append(buffer, n);
    if (text.size() > max_bytes) {
      close(fd);
      return absl::ResourceExhaustedError(absl::StrCat(
          "read ", path, ": the file is over ", max_bytes, " bytes"));
    }
  }
  close(fd);
  return text;
}

}  // namespace rexec
