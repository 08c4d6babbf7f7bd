#include "tests/child_io.h"

#include <poll.h>
#include <unistd.h>

#include "gtest/gtest.h"

namespace rexec::testing {

using process::ExitStatus;
using process::UniqueFd;

Result RunChild(process::Child& child, const std::string& input) {
  Result result;
  size_t written = 0;
  if (input.empty()) child.stdin_fd().Reset();
  while (child.stdout_fd().Valid() || child.stderr_fd().Valid()) {
    pollfd fds[3] = {{child.stdout_fd().Get(), POLLIN, 0},
                     {child.stderr_fd().Get(), POLLIN, 0},
                     {child.stdin_fd().Get(), POLLOUT, 0}};
    EXPECT_GE(poll(fds, 3, 60'000), 1) << "child stuck";
    std::string* sinks[2] = {&result.out, &result.err};
    UniqueFd* fdv[2] = {&child.stdout_fd(), &child.stderr_fd()};
    for (int i = 0; i < 2; ++i) {
      if (fds[i].revents == 0) continue;
      char buf[65536];
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) sinks[i]->append(buf, n);
      if (n == 0) fdv[i]->Reset();
    }
    if (fds[2].revents != 0) {
      ssize_t n =
          write(fds[2].fd, input.data() + written, input.size() - written);
      if (n > 0) written += n;
      if (n < 0 || written == input.size()) child.stdin_fd().Reset();
    }
  }
  absl::StatusOr<ExitStatus> status = child.Wait();
  EXPECT_TRUE(status.ok()) << status.status();
  if (status.ok()) result.status = *status;
  return result;
}

}  // namespace rexec::testing
