#include "server/process/launcher.h"

#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "server/process/child_registry.h"
#include "server/process/launch_steps.h"

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#endif

// glibc 2.36's <sys/pidfd.h> lacks extern "C".
extern "C" {
#include <sys/pidfd.h>
}

namespace rexec::process {
namespace {

// A spec holds argv and the environment, which execve bounds far lower.
constexpr uint64_t kMaxSpecBytes = 64 << 20;
// The report fd, stdio and a channel, a cgroup, a status fd: 7 at most.
constexpr int kMaxFds = 16;

struct Reply {
  int64_t pid;
  int64_t error;
};

Launcher* global_launcher = nullptr;

// Sends all of `data`, with `fds` attached to its first byte.
bool SendAll(int socket, absl::string_view data, absl::Span<const int> fds) {
  std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
  bool first = true;
  while (!data.empty()) {
    iovec iov{const_cast<char*>(data.data()), data.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (first && !fds.empty()) {
      msg.msg_control = control.data();
      msg.msg_controllen = control.size();
      cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
      std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
    }
    const ssize_t sent = sendmsg(socket, &msg, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    first = false;
    data.remove_prefix(sent);
  }
  return true;
}

// Receives exactly `size` bytes into `out`, and the fds sent with the first
// of them (close-on-exec). False on EOF or error.
bool ReceiveAll(int socket, char* out, size_t size,
                std::vector<UniqueFd>* fds) {
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  bool first = true;
  while (size > 0) {
    iovec iov{out, size};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (first && fds != nullptr) {
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
    }
    const ssize_t got = recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    if (first && fds != nullptr) {
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr;
           c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        const size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < n; ++i) {
          int fd;
          std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
          fds->emplace_back(fd);
        }
      }
      if (msg.msg_flags & MSG_CTRUNC) return false;
    }
    first = false;
    out += got;
    size -= got;
  }
  return true;
}

// The stack of a vfork-style child: used by one child at a time, since the
// launcher waits (CLONE_VFORK) until that child has exec'd or exited.
constexpr size_t kChildStackBytes = 256 << 10;

char* ChildStackTop() {
  static char* top = [] {
    void* stack = mmap(nullptr, kChildStackBytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    return stack == MAP_FAILED ? nullptr
                               : static_cast<char*>(stack) + kChildStackBytes;
  }();
  return top;
}

// Not instrumented by AddressSanitizer, whose no-return handling would take
// this stack for a corrupt one of the launcher's thread.
__attribute__((no_sanitize("address"))) int RunChild(void* launch) {
  RunLaunchSteps(*static_cast<PreparedLaunch*>(launch));
}

// One request: starts the child, or says why not. The child never returns
// from here.
Reply LaunchOne(const std::string& bytes, std::vector<UniqueFd> fds,
                int* pidfd) {
  absl::StatusOr<LaunchSpec> spec = DecodeLaunchSpec(bytes);
  if (!spec.ok()) return {-1, EINVAL};
  const bool pid_ns = spec->containment.pid_namespace;
  const size_t expected = 1 + spec->fd_targets.size() +
                          (spec->into_cgroup ? 1 : 0) + (pid_ns ? 1 : 0);
  if (fds.size() != expected) return {-1, EBADF};
  ChildFds child_fds;
  child_fds.report = fds[0].Get();
  for (size_t i = 0; i < spec->fd_targets.size(); ++i) {
    child_fds.passed.push_back(fds[1 + i].Get());
  }
  size_t next = 1 + spec->fd_targets.size();
  const int cgroup_fd = spec->into_cgroup ? fds[next++].Get() : -1;
  if (pid_ns) child_fds.status = fds[next++].Get();
  PreparedLaunch launch = PrepareLaunch(*spec, std::move(child_fds));

  const bool switches_user =
      launch.set_groups || launch.set_gid || launch.set_uid;
  if (!spec->into_cgroup && !pid_ns && !switches_user) {
    // The common case, at vfork's speed (as posix_spawn): the child shares
    // our memory until its exec, so nothing is copied, and we wait until it
    // exec'd. Not for a child that becomes another user before its exec:
    // any process of that user could SIGSTOP it there, and with it us and
    // every spawn after. CLONE_PARENT: the server is the child's parent,
    // and the one to reap it.
    char* stack = ChildStackTop();
    if (stack == nullptr) return {-1, ENOMEM};
#ifdef __SANITIZE_ADDRESS__
    // The last child never returned (it exec'd): its frames are still
    // poisoned in AddressSanitizer's shadow of this stack.
    __asan_unpoison_memory_region(stack - kChildStackBytes, kChildStackBytes);
#endif
    const int pid = clone(RunChild, stack,
                          CLONE_VM | CLONE_VFORK | CLONE_PARENT | CLONE_PIDFD,
                          &launch, pidfd);
    if (pid < 0) return {-1, errno};
    return {pid, 0};
  }
  // clone3 for what clone cannot do (CLONE_INTO_CGROUP), and a fork-style
  // copy that we do not wait for: for a PID namespace, whose init lives on
  // after the exec, and for another user.
  clone_args args{};
  // clone3 wants exit_signal 0 with CLONE_PARENT, and uses ours (SIGCHLD).
  args.flags = CLONE_PARENT | CLONE_PIDFD;
  args.pidfd = reinterpret_cast<uint64_t>(pidfd);
  if (spec->into_cgroup) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = static_cast<uint64_t>(cgroup_fd);
  }
  if (pid_ns) args.flags |= CLONE_NEWPID | CLONE_NEWNS;
  const long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0) RunLaunchSteps(launch);
  if (pid < 0) return {-1, errno};
  return {static_cast<int64_t>(pid), 0};
}

[[noreturn]] void Serve(int socket, pid_t parent) {
  // Die with the server (PDEATHSIG follows the thread that forked us: the
  // server's main thread, which lives as long as the server).
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(0);
  prctl(PR_SET_NAME, "rexecd-launch");
  prctl(PR_SET_DUMPABLE, 0);
  // A Ctrl-C at the terminal reaches the whole process group: the server
  // decides what a stop means, not us. Children get default dispositions.
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE}) {
    signal(sig, SIG_IGN);
  }
  for (;;) {
    uint64_t size = 0;
    std::vector<UniqueFd> fds;
    if (!ReceiveAll(socket, reinterpret_cast<char*>(&size), sizeof size,
                    &fds)) {
      _exit(0);  // the server closed its end, or is gone
    }
    if (size > kMaxSpecBytes || fds.size() > kMaxFds) {
      _exit(1);  // the stream is out of step: nothing after can be trusted
    }
    std::string bytes(size, '\0');
    if (!ReceiveAll(socket, bytes.data(), size, nullptr)) _exit(0);
    int pidfd = -1;
    const Reply reply = LaunchOne(bytes, std::move(fds), &pidfd);
    UniqueFd owned_pidfd(pidfd);
    const int attach[1] = {pidfd};
    if (!SendAll(socket,
                 absl::string_view(reinterpret_cast<const char*>(&reply),
                                   sizeof reply),
                 reply.pid > 0 ? absl::Span<const int>(attach)
                               : absl::Span<const int>())) {
      _exit(0);
    }
  }
}

}  // namespace

Launcher::Launcher(pid_t pid, UniqueFd pidfd, UniqueFd socket)
    : pid_(pid), pidfd_(std::move(pidfd)), socket_(std::move(socket)) {}

absl::Status Launcher::Start() {
  if (global_launcher != nullptr) {
    return absl::FailedPreconditionError("the launcher was started already");
  }
  int ends[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) {
    return ErrnoStatus(errno, "launcher socketpair");
  }
  UniqueFd ours(ends[0]), theirs(ends[1]);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) return ErrnoStatus(errno, "fork the launcher");
  if (pid == 0) {
    ours.Reset();
    // Hold nothing of the server's but stdio and our socket.
    const int keep = theirs.Get();
    if (keep > 3) close_range(3, keep - 1, 0);
    close_range(keep + 1, ~0U, 0);
    Serve(keep, parent);
  }
  theirs.Reset();
  UniqueFd pidfd(pidfd_open(pid, 0));
  if (!pidfd.Valid()) return ErrnoStatus(errno, "pidfd_open the launcher");
  ChildRegistry::Global().Adopt(pid);
  global_launcher = new Launcher(pid, std::move(pidfd), std::move(ours));
  return absl::OkStatus();
}

Launcher* Launcher::Global() { return global_launcher; }

absl::StatusOr<Launched> Launcher::Launch(const LaunchSpec& spec,
                                          absl::Span<const int> fds) {
  std::string message(sizeof(uint64_t), '\0');
  const std::string payload = EncodeLaunchSpec(spec);
  const uint64_t size = payload.size();
  std::memcpy(message.data(), &size, sizeof size);
  message += payload;

  absl::MutexLock lock(&mu_);
  const auto gone = [this] {
    return absl::UnavailableError(
        absl::StrCat("the launcher (pid ", pid_, ") is gone"));
  };
  if (!socket_.Valid()) return gone();
  Reply reply{};
  std::vector<UniqueFd> received;
  if (!SendAll(socket_.Get(), message, fds) ||
      !ReceiveAll(socket_.Get(), reinterpret_cast<char*>(&reply), sizeof reply,
                  &received)) {
    socket_.Reset();  // out of step for good
    return gone();
  }
  if (reply.pid <= 0) return Launched{-1, static_cast<int>(reply.error), {}};
  if (received.size() != 1) {
    return absl::InternalError("the launcher sent no pidfd");
  }
  return Launched{static_cast<pid_t>(reply.pid), 0, std::move(received[0])};
}

}  // namespace rexec::process
