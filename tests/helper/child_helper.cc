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
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
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
