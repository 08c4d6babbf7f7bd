#include "tests/e2e/rexecd_process.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <future>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/child_session.h"
#include "client/connection.h"
#include "gtest/gtest.h"
#include "tests/test_paths.h"

namespace rexec::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Running, or a zombie not reaped yet counts as gone.
bool IsAlive(pid_t pid) {
  const std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  const size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() &&
         stat[paren + 2] != 'Z';
}

}  // namespace

std::unique_ptr<RexecdProcess> RexecdProcess::Start(
    std::vector<std::string> flags,
    std::vector<std::pair<std::string, std::string>> env,
    std::vector<std::string> launcher) {
  process::SpawnOptions options;
  options.argv = std::move(launcher);
  options.argv.push_back(RexecdPath());
  if (std::find(flags.begin(), flags.end(), "--listen") == flags.end()) {
    options.argv.insert(options.argv.end(), {"--listen", "127.0.0.1:0"});
  }
  // A test's teardown stops calls still running: a short drain, unless the
  // test is about the drain.
  if (std::find(flags.begin(), flags.end(), "--shutdown-grace") ==
      flags.end()) {
    options.argv.insert(options.argv.end(), {"--shutdown-grace", "1s"});
  }
  // Tests run as root: rexecd serves TCP without a way to know its callers
  // only with --insecure, which a test that is about that leaves out by
  // giving a credential flag of its own.
  const auto has = [&](const char* flag) {
    return std::find(flags.begin(), flags.end(), flag) != flags.end();
  };
  if (!has("--token-file") && !has("--tls-client-ca") && !has("--insecure")) {
    options.argv.push_back("--insecure");
  }
  options.argv.insert(options.argv.end(), flags.begin(), flags.end());
  options.env = std::move(env);
  absl::StatusOr<process::Child> child = process::Child::Spawn(options);
  EXPECT_TRUE(child.ok()) << child.status();
  if (!child.ok()) return nullptr;
  std::unique_ptr<RexecdProcess> server(new RexecdProcess(std::move(*child)));
  server->child_.stdin_fd().Reset();

  // Read the log until the "listening on" line, then keep draining it.
  int fd = server->child_.stderr_fd().Get();
  std::string seen;
  const std::string marker = "listening on ";
  absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (seen.find('\n', seen.find(marker)) == std::string::npos ||
         seen.find(marker) == std::string::npos) {
    pollfd pfd{fd, POLLIN, 0};
    if (absl::Now() > give_up || poll(&pfd, 1, 1000) < 0) break;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n > 0) seen.append(buf, n);
  }
  size_t at = seen.find(marker);
  EXPECT_NE(at, std::string::npos) << "rexecd did not start: " << seen;
  if (at == std::string::npos) return nullptr;
  // To the end of the line, or of the JSON string with --log-format json.
  size_t end = seen.find_first_of("\"\n", at);
  server->address_ = seen.substr(at + marker.size(), end - at - marker.size());
  server->log_ = seen;
  // "rexecd is init of a PID namespace of its own (pid N outside it)".
  const std::string own = "PID namespace of its own (pid ";
  server->server_pid_ = server->child_.pid();
  if (size_t ns = seen.find(own); ns != std::string::npos && ns < at) {
    server->server_pid_ = std::atoi(seen.c_str() + ns + own.size());
  }
  server->stub_ = v1::ChildProcess::NewStub(client::Connect(server->address_));
  server->log_reader_ = std::thread([s = server.get(), fd] {
    for (;;) {
      if (s->log_paused_) {
        absl::SleepFor(absl::Milliseconds(10));
        continue;
      }
      pollfd pfd{fd, POLLIN, 0};
      poll(&pfd, 1, 100);
      if (!(pfd.revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[4096];
      ssize_t n = read(fd, buf, sizeof buf);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return;
      if (n > 0) {
        std::lock_guard lock(s->mu_);
        s->log_.append(buf, n);
      }
    }
  });
  return server;
}

RexecdProcess::~RexecdProcess() {
  if (!child_.reaped()) {
    // SIGTERM first: the server stops its children, which SIGKILL would
    // leave behind (each runs in a process group of its own).
    kill(child_.pid(), SIGTERM);
    std::optional<process::ExitStatus> exit;
    auto reaped = [&] {
      absl::StatusOr<std::optional<process::ExitStatus>> status =
          child_.TryReap();
      if (!status.ok()) {
        ADD_FAILURE() << "cannot reap rexecd: " << status.status();
        return true;
      }
      exit = *status;
      return exit.has_value();
    };
    if (!Eventually(reaped, absl::Seconds(20))) {
      child_.SignalGroup(SIGKILL).IgnoreError();
      child_.Wait().IgnoreError();
      ADD_FAILURE() << "rexecd did not stop within 20 s of SIGTERM";
    } else if (exit && !(exit->exited() && exit->code() == 0)) {
      // Every test ends with a clean shutdown; in the sanitizer build this
      // is where leaks and undefined behaviour show (ASan exits non-zero).
      if (log_reader_.joinable()) log_reader_.join();
      std::string log = Log();
      ADD_FAILURE() << "rexecd ended with " << exit->ToString()
                    << " after SIGTERM; the end of its log:\n"
                    << log.substr(log.size() > 8000 ? log.size() - 8000 : 0);
    }
  }
  // EOF on the log pipe ends the reader once the server is gone.
  if (log_reader_.joinable()) log_reader_.join();
}

std::string RexecdProcess::Log() {
  std::lock_guard lock(mu_);
  return log_;
}

std::string RexecdProcess::LoggedAddress(const std::string& prefix) {
  const std::string line = WaitForLogLine(prefix);
  const size_t at = line.find(prefix);
  if (at == std::string::npos) return "";
  const size_t begin = at + prefix.size();
  return line.substr(begin, line.find_first_of(" \"", begin) - begin);
}

std::string RexecdProcess::WaitForLogLine(const std::string& needle,
                                          absl::Duration timeout) {
  std::string line;
  bool found = Eventually(
      [&] {
        std::string log = Log();
        size_t at = log.find(needle);
        if (at == std::string::npos) return false;
        size_t begin = log.rfind('\n', at);
        begin = begin == std::string::npos ? 0 : begin + 1;
        size_t end = log.find('\n', at);
        if (end == std::string::npos) return false;  // not whole yet
        line = log.substr(begin, end - begin);
        return true;
      },
      timeout);
  EXPECT_TRUE(found) << "no log line with \"" << needle << "\"; the log:\n"
                     << Log();
  return line;
}

process::ExitStatus RexecdProcess::Terminate() {
  kill(child_.pid(), SIGTERM);
  return WaitForExit();
}

process::ExitStatus RexecdProcess::WaitForExit() {
  // Bounded: a server that never stops fails the test instead of hanging.
  if (!Eventually([this] { return !IsAlive(child_.pid()); },
                  absl::Seconds(60))) {
    ADD_FAILURE() << "rexecd did not exit within 60 s";
    child_.SignalGroup(SIGKILL).IgnoreError();
  }
  absl::StatusOr<process::ExitStatus> status = child_.Wait();
  EXPECT_TRUE(status.ok()) << status.status();
  return status.ok() ? *status : process::ExitStatus::Exited(-1);
}

int64_t RexecdProcess::RssBytes() const {
  std::string status =
      ReadFile("/proc/" + std::to_string(server_pid_) + "/status");
  size_t at = status.find("VmRSS:");
  if (at == std::string::npos) return -1;
  return std::stoll(status.substr(at + 6)) * 1024;
}

int64_t RexecdProcess::MainThreadWakeups() const {
  // The main thread's own status (the process's sums its threads').
  std::string status =
      ReadFile("/proc/" + std::to_string(server_pid_) + "/task/" +
               std::to_string(server_pid_) + "/status");
  const std::string field = "\nvoluntary_ctxt_switches:";
  size_t at = status.find(field);
  if (at == std::string::npos) return -1;
  return std::stoll(status.substr(at + field.size()));
}

int RexecdProcess::FdCount() const {
  DIR* dir = opendir(("/proc/" + std::to_string(server_pid_) + "/fd").c_str());
  if (dir == nullptr) return -1;
  int n = 0;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++n;
  }
  closedir(dir);
  return n;
}

pid_t RexecdProcess::HostPid(pid_t reported) const {
  if (server_pid_ == child_.pid()) return reported;
  // The one whose pid in rexecd's namespace (the second of NSpid) is
  // `reported` and that descends from rexecd: other tests' rexecds have
  // namespaces of their own, with the same pids.
  const auto field = [](const std::string& status, const char* name) {
    const size_t at = status.find(name);
    if (at == std::string::npos) return std::string();
    const size_t end = status.find('\n', at);
    return status.substr(at + strlen(name), end - at - strlen(name));
  };
  DIR* proc = opendir("/proc");
  pid_t found = -1;
  while (dirent* entry = proc != nullptr ? readdir(proc) : nullptr) {
    pid_t pid;
    if (!absl::SimpleAtoi(entry->d_name, &pid)) continue;
    const std::string status = ReadFile(absl::StrCat("/proc/", pid, "/status"));
    std::vector<std::string> ns =
        absl::StrSplit(absl::StripAsciiWhitespace(field(status, "NSpid:")),
                       '\t', absl::SkipEmpty());
    if (ns.size() < 2 || ns[1] != std::to_string(reported)) continue;
    pid_t up = pid;
    for (int hop = 0; hop < 64 && up > 1 && up != server_pid_; ++hop) {
      const std::string parent =
          field(ReadFile(absl::StrCat("/proc/", up, "/status")), "PPid:");
      if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(parent), &up)) break;
    }
    if (up == server_pid_) {
      found = pid;
      break;
    }
  }
  if (proc != nullptr) closedir(proc);
  return found;
}

pid_t RexecdProcess::ReportedPid(pid_t host) const {
  if (server_pid_ == child_.pid()) return host;
  const std::string status = ReadFile(absl::StrCat("/proc/", host, "/status"));
  const size_t at = status.find("NSpid:");
  if (at == std::string::npos) return -1;
  std::vector<std::string> ns =
      absl::StrSplit(absl::StripAsciiWhitespace(
                         status.substr(at + 6, status.find('\n', at) - at - 6)),
                     '\t', absl::SkipEmpty());
  pid_t pid = -1;
  if (ns.size() < 2 || !absl::SimpleAtoi(ns[1], &pid)) return -1;
  return pid;
}

CliResult RunRexec(const std::vector<std::string>& args,
                   std::vector<std::pair<std::string, std::string>> env,
                   const std::string& input) {
  process::SpawnOptions options;
  options.argv = {RexecPath()};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  options.env = std::move(env);
  absl::StatusOr<process::Child> child = process::Child::Spawn(options);
  EXPECT_TRUE(child.ok()) << child.status();
  if (!child.ok()) return {};
  Result r = RunChild(*child, input);
  CliResult result{r.out, r.err, -1};
  result.code =
      r.status.exited() ? r.status.code() : 128 + r.status.signal_number();
  return result;
}

CliResult RunRexecWithin(const std::vector<std::string>& args,
                         absl::Duration bound) {
  process::SpawnOptions options;
  options.argv = {RexecPath()};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  absl::StatusOr<process::Child> child = process::Child::Spawn(options);
  EXPECT_TRUE(child.ok()) << child.status();
  if (!child.ok()) return {};
  std::future<Result> done =
      std::async(std::launch::async, [&] { return RunChild(*child); });
  if (done.wait_for(absl::ToChronoMilliseconds(bound)) ==
      std::future_status::timeout) {
    ADD_FAILURE() << "rexec " << absl::StrJoin(args, " ")
                  << " still runs after " << bound;
    kill(child->pid(), SIGKILL);
  }
  Result r = done.get();
  CliResult result{r.out, r.err, -1};
  result.code =
      r.status.exited() ? r.status.code() : 128 + r.status.signal_number();
  return result;
}

int ConnectTcp(const std::string& address) {
  size_t colon = address.rfind(':');
  int port = 0;
  EXPECT_TRUE(absl::SimpleAtoi(address.substr(colon + 1), &port));
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  return fd;
}

bool ClosedByServer(int fd, absl::Duration timeout) {
  absl::Time give_up = absl::Now() + timeout;
  char buffer[4096];
  while (absl::Now() < give_up) {
    pollfd pfd{fd, POLLIN, 0};
    if (poll(&pfd, 1, 100) <= 0) continue;
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n <= 0) return true;
  }
  return false;
}

Result RunProgram(std::vector<std::string> argv) {
  process::SpawnOptions options;
  options.argv = std::move(argv);
  absl::StatusOr<process::Child> child = process::Child::Spawn(options);
  EXPECT_TRUE(child.ok()) << child.status();
  if (!child.ok()) return {};
  return RunChild(*child);
}

std::string Sha256Hex(const std::string& text) {
  std::string hex;
  FILE* pipe = popen(("printf %s '" + text + "' | sha256sum").c_str(), "r");
  char buf[65] = {};
  if (pipe != nullptr && fread(buf, 1, 64, pipe) == 64) hex = buf;
  if (pipe != nullptr) pclose(pipe);
  EXPECT_EQ(hex.size(), 64u) << "sha256sum of " << text;
  return hex;
}

TempDir::TempDir() {
  char dir[] = "/tmp/rexec-test-XXXXXX";
  EXPECT_NE(mkdtemp(dir), nullptr);
  path_ = dir;
}

TempDir::~TempDir() {
  std::string rm = "rm -rf '" + path_ + "'";
  EXPECT_EQ(system(rm.c_str()), 0);
}

std::string TempDir::Write(const std::string& name,
                           const std::string& text) const {
  const std::string path = path_ + "/" + name;
  const std::string staging = path + ".new";
  {
    std::ofstream out(staging, std::ios::binary | std::ios::trunc);
    out << text;
  }
  EXPECT_EQ(rename(staging.c_str(), path.c_str()), 0);
  return path;
}

std::chrono::system_clock::time_point Deadline(absl::Duration d) {
  return std::chrono::system_clock::now() + absl::ToChronoNanoseconds(d);
}

bool Eventually(const std::function<bool()>& predicate,
                absl::Duration timeout) {
  absl::Time give_up = absl::Now() + timeout;
  while (!predicate()) {
    if (absl::Now() > give_up) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

namespace {

template <typename F>
std::vector<pid_t> ScanProc(F match) {
  std::vector<pid_t> pids;
  DIR* dir = opendir("/proc");
  while (dirent* e = readdir(dir)) {
    pid_t pid = std::atoi(e->d_name);
    if (pid > 0 && match(pid)) pids.push_back(pid);
  }
  closedir(dir);
  return pids;
}

}  // namespace

std::vector<pid_t> ProcessesWithArg(const std::string& needle) {
  return ScanProc([&](pid_t pid) {
    std::string cmdline = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
    std::stringstream args(cmdline);
    std::string arg;
    while (std::getline(args, arg, '\0')) {
      if (arg == needle) return true;
    }
    return false;
  });
}

std::vector<pid_t> ChildrenOf(pid_t parent) {
  return ScanProc([&](pid_t pid) {
    std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
    size_t close = stat.rfind(')');
    if (close == std::string::npos) return false;
    // The launcher lives as long as its parent; it is not a leftover.
    if (stat.find("(rexecd-launch)") != std::string::npos) return false;
    std::istringstream rest(stat.substr(close + 2));
    char state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    return ppid == parent;
  });
}

bool InTheForeground(const std::string& needle) {
  for (pid_t pid : ProcessesWithArg(needle)) {
    std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
    size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    // state ppid pgrp session tty_nr tpgid
    std::istringstream rest(stat.substr(close + 2));
    char state;
    long ppid = 0, pgrp = 0, session = 0, tty = 0, tpgid = 0;
    rest >> state >> ppid >> pgrp >> session >> tty >> tpgid;
    if (rest && pgrp == tpgid) return true;
  }
  return false;
}

}  // namespace rexec::testing
