// A child program with modes, for tests of the process layer and the server
// (as Boost.Process's target.cpp). Usage: child_helper MODE [ARGS...]
//   echo               copy stdin to stdout until EOF
//   exit N             exit with code N
//   stderr TEXT        write TEXT to stderr, "out" to stdout, exit 0
//   env NAME           print the value of NAME, or "<unset>"
//   cwd                print the working directory
//   fds                print the open fds, one per line (from /proc/self/fd)
//   sigmask            print "blocked" if any signal is blocked, else "clear",
//                      then "ignored" if SIGINT or SIGTERM is ignored
//   pgid               print "pid pgid"
//   ids                print "pid pgid sid umask" (the umask in octal)
//   write N            write N bytes ('x') to stdout
//   spray              write to stdout for ever
//   kill SIG           kill itself with signal number SIG
//   wait               print "ready", sleep for ever (default dispositions)
//   ignore-term        ignore SIGTERM, print "ready", sleep for ever
//   close-stdout       close stdout and stderr, then sleep until stdin EOF
//   syscalls           try each call the default seccomp filter refuses and
//                      print "NAME RESULT" per line: ok, or the errno's name
#include <dirent.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

void WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n <= 0) std::exit(3);
    data += n;
    size -= n;
  }
}

void Say(const std::string& text) { WriteAll(1, text.data(), text.size()); }

// "ok" for a call that returned >= 0, else the errno's name.
std::string Outcome(long rc) {
  if (rc >= 0) return "ok";
  const char* name = strerrorname_np(errno);
  return name != nullptr ? name : std::to_string(errno);
}

// A child that exits at once, made by `clone_call` (which returns as
// clone does); the outcome in the parent.
template <typename Clone>
std::string ForkOutcome(Clone clone_call) {
  const long pid = clone_call();
  if (pid == 0) _exit(0);
  if (pid > 0) waitpid(static_cast<pid_t>(pid), nullptr, 0);
  return Outcome(pid);
}

void TrySyscalls() {
  auto line = [](const char* name, const std::string& result) {
    Say(std::string(name) + " " + result + "\n");
  };
  line("clone-newuser", ForkOutcome([] {
         return syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
       }));
  line("clone3", ForkOutcome([] {
         clone_args args{};
         args.exit_signal = SIGCHLD;
         return syscall(SYS_clone3, &args, sizeof args);
       }));
  line("init_module", Outcome(syscall(SYS_init_module, nullptr, 0, "")));
  line("finit_module", Outcome(syscall(SYS_finit_module, -1, "", 0)));
  // KEYCTL_GET_KEYRING_ID of the session keyring (-3), made if missing.
  line("keyctl", Outcome(syscall(SYS_keyctl, 0, -3, 1)));
  line("add_key", Outcome(syscall(SYS_add_key, "user", "rexec-test", "x", 1,
                                  -3)));
  line("bpf", Outcome(syscall(SYS_bpf, 0, nullptr, 0)));
  line("perf_event_open",
       Outcome(syscall(SYS_perf_event_open, nullptr, 0, -1, -1, 0)));
  line("mount", Outcome(mount(nullptr, nullptr, nullptr, 0, nullptr)));
  line("umount2", Outcome(umount2(nullptr, 0)));
  // A process this one did not start asking to be traced: its parent's.
  line("ptrace-attach", Outcome(ptrace(PTRACE_ATTACH, getppid(), 0, 0)));
  line("ptrace-seize", Outcome(ptrace(PTRACE_SEIZE, getppid(), 0, 0)));
  char byte = 'x', copy = 0;
  iovec local{&copy, 1}, remote{&byte, 1};
  line("process_vm_readv",
       Outcome(process_vm_readv(getpid(), &local, 1, &remote, 1, 0)));
  const int self = static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0));
  line("pidfd_getfd", Outcome(syscall(SYS_pidfd_getfd, self, 0, 0)));
  const int own_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  line("setns", Outcome(setns(own_ns, 0)));
  // What it starts and asks to be traced, it may trace (gdb's `run`).
  const pid_t traced = fork();
  if (traced == 0) {
    if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0) _exit(1);
    raise(SIGSTOP);
    _exit(0);
  }
  int status = 0;
  waitpid(traced, &status, 0);
  const bool stopped = WIFSTOPPED(status);
  if (stopped) ptrace(PTRACE_CONT, traced, 0, 0);
  waitpid(traced, &status, 0);
  line("ptrace-traceme", stopped && WIFEXITED(status) ? "ok" : "failed");
  // Last: once in a user namespace of its own, the rest would not mean
  // what they do outside it.
  line("unshare-newuser", Outcome(unshare(CLONE_NEWUSER)));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  std::string mode = argv[1];
  if (mode == "echo") {
    char buf[65536];
    ssize_t n;
    while ((n = read(0, buf, sizeof buf)) > 0) WriteAll(1, buf, n);
    return 0;
  }
  if (mode == "exit" && argc == 3) return std::atoi(argv[2]);
  if (mode == "stderr" && argc == 3) {
    WriteAll(2, argv[2], std::strlen(argv[2]));
    Say("out");
    return 0;
  }
  if (mode == "env" && argc == 3) {
    const char* value = std::getenv(argv[2]);
    Say(value != nullptr ? value : "<unset>");
    return 0;
  }
  if (mode == "cwd") {
    char buf[4096];
    Say(getcwd(buf, sizeof buf) != nullptr ? buf : "?");
    return 0;
  }
  if (mode == "fds") {
    std::string out;
    DIR* dir = opendir("/proc/self/fd");
    int own = dirfd(dir);
    while (dirent* e = readdir(dir)) {
      if (e->d_name[0] == '.' || std::atoi(e->d_name) == own) continue;
      out += std::string(e->d_name) + "\n";
    }
    closedir(dir);
    Say(out);
    return 0;
  }
  if (mode == "sigmask") {
    sigset_t mask;
    sigprocmask(SIG_BLOCK, nullptr, &mask);
    bool blocked = false;
    for (int s = 1; s < 32; ++s) blocked |= sigismember(&mask, s) == 1;
    struct sigaction sa_int, sa_term;
    sigaction(SIGINT, nullptr, &sa_int);
    sigaction(SIGTERM, nullptr, &sa_term);
    bool ignored = sa_int.sa_handler == SIG_IGN ||
                   sa_term.sa_handler == SIG_IGN ||
                   signal(SIGPIPE, SIG_DFL) == SIG_IGN;
    Say(std::string(blocked ? "blocked" : "clear") +
        (ignored ? " ignored" : ""));
    return 0;
  }
  if (mode == "pgid") {
    Say(std::to_string(getpid()) + " " + std::to_string(getpgrp()));
    return 0;
  }
  if (mode == "ids") {
    const mode_t mask = umask(0);
    char octal[8];
    std::snprintf(octal, sizeof octal, "%o", mask);
    Say(std::to_string(getpid()) + " " + std::to_string(getpgrp()) + " " +
        std::to_string(getsid(0)) + " " + octal);
    return 0;
  }
  if (mode == "write" && argc == 3) {
    long long left = std::atoll(argv[2]);
    std::string chunk(65536, 'x');
    while (left > 0) {
      size_t n = left < 65536 ? left : 65536;
      WriteAll(1, chunk.data(), n);
      left -= n;
    }
    return 0;
  }
  if (mode == "spray") {
    std::string chunk(65536, 'y');
    for (;;) WriteAll(1, chunk.data(), chunk.size());
  }
  if (mode == "kill" && argc == 3) {
    signal(std::atoi(argv[2]), SIG_DFL);
    raise(std::atoi(argv[2]));
    return 0;
  }
  if (mode == "wait") {
    Say("ready");
    for (;;) pause();
  }
  if (mode == "ignore-term") {
    signal(SIGTERM, SIG_IGN);
    Say("ready");
    for (;;) pause();
  }
  if (mode == "syscalls") {
    TrySyscalls();
    return 0;
  }
  if (mode == "close-stdout") {
    close(1);
    close(2);
    char c;
    while (read(0, &c, 1) > 0) {
    }
    return 0;
  }
  return 2;
}
