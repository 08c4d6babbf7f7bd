#include "server/process/unique_fd.h"

#include <unistd.h>

namespace rexec::process {

void UniqueFd::Reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

}  // namespace rexec::process
