#include "common/bounded_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "common/errno_status.h"

namespace rexec {
namespace {

absl::StatusOr<int> OpenForReading(const std::string& path) {
  // O_NONBLOCK: a FIFO put in the file's place must not hang the reader.
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("read ", path));
  return fd;
}

absl::StatusOr<std::string> ReadAll(int fd, const std::string& path,
                                    size_t max_bytes) {
  std::string text;
  char buffer[16384];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, absl::StrCat("read ", path));
    if (n == 0) break;
    text.append(buffer, n);
    if (text.size() > max_bytes) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "read ", path, ": the file is over ", max_bytes, " bytes"));
    }
  }
  return text;
}

// Whether another process has the file open for writing: the kernel
// grants a read lease only when none has. Leases need the file's owner or
// CAP_LEASE; where one cannot be asked (EACCES, a filesystem without
// leases) the answer is "not known", and false. The lease lasts only
// this call; a writer that opens the file meanwhile would make the kernel
// signal us, so the signal is SIGURG, which is ignored by default.
bool OpenForWritingElsewhere(int fd) {
  if (fcntl(fd, F_SETSIG, SIGURG) != 0) return false;
  if (fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
    fcntl(fd, F_SETLEASE, F_UNLCK);
    return false;
  }
  return errno == EAGAIN;
}

bool SameVersion(const struct stat& a, const struct stat& b) {
  return a.st_ino == b.st_ino && a.st_size == b.st_size &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
         a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

}  // namespace

absl::StatusOr<std::string> ReadBoundedFile(const std::string& path,
                                            size_t max_bytes) {
  absl::StatusOr<int> fd = OpenForReading(path);
  if (!fd.ok()) return fd.status();
  absl::Cleanup closer = [fd = *fd] { close(fd); };
  return ReadAll(*fd, path, max_bytes);
}

absl::StatusOr<std::string> ReadFinishedFile(const std::string& path,
                                             size_t max_bytes) {
  absl::StatusOr<int> fd = OpenForReading(path);
  if (!fd.ok()) return fd.status();
  absl::Cleanup closer = [fd = *fd] { close(fd); };
  struct stat before, after;
  if (fstat(*fd, &before) != 0) {
    return ErrnoStatus(errno, absl::StrCat("read ", path));
  }
  if (S_ISREG(before.st_mode) && OpenForWritingElsewhere(*fd)) {
    return absl::UnavailableError(absl::StrCat(
        "read ", path,
        ": another process has the file open for writing; it is read when "
        "that is done (write a new file and rename it into place)"));
  }
  absl::StatusOr<std::string> text = ReadAll(*fd, path, max_bytes);
  if (!text.ok()) return text;
  if (fstat(*fd, &after) != 0) {
    return ErrnoStatus(errno, absl::StrCat("read ", path));
  }
  if (!SameVersion(before, after)) {
    return absl::UnavailableError(absl::StrCat(
        "read ", path,
        ": the file changed while it was read; it is read again when it "
        "is done (write a new file and rename it into place)"));
  }
  return text;
}

}  // namespace rexec
