// RexecdProcess runs the real rexecd binary on 127.0.0.1:0 for a test, reads
// the port it chose from its log, and keeps draining its log (so that it
// never blocks on a full stderr pipe). Destroying it kills the server.
// Not thread-safe, except Log().
#ifndef REXEC_TESTS_E2E_REXECD_PROCESS_H_
#define REXEC_TESTS_E2E_REXECD_PROCESS_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "rexec/v1/child_process.grpc.pb.h"
#include "server/process/child.h"
#include "tests/child_io.h"

namespace rexec::testing {

class RexecdProcess {
 public:
  // Fails the test (and returns nullptr) if the server does not come up.
  // Listens on 127.0.0.1:0 unless `flags` has a --listen of its own, with
  // --insecure unless `flags` has --token-file, --tls-client-ca or
  // --insecure (as root, rexecd refuses TCP without one); `env` is added to
  // the server's environment.
  // `launcher` comes before rexecd on the command line (a shell that sets a
  // limit, then execs it).
  static std::unique_ptr<RexecdProcess> Start(
      std::vector<std::string> flags = {},
      std::vector<std::pair<std::string, std::string>> env = {},
      std::vector<std::string> launcher = {});
  ~RexecdProcess();

  const std::string& address() const { return address_; }
  // The process the test started, to signal as an operator would: rexecd,
  // or the keeper of rexecd's own PID namespace, which forwards signals.
  pid_t pid() const { return child_.pid(); }
  // rexecd itself, as this test sees it (its memory, fds, children).
  pid_t server_pid() const { return server_pid_; }
  // A pid rexecd reported (Started, a session's info: its namespace's) as
  // this test sees it; -1 when no such process runs.
  pid_t HostPid(pid_t reported) const;
  // The inverse: a pid of this test's as rexecd's children see it; -1 when
  // it is not in rexecd's namespace.
  pid_t ReportedPid(pid_t host) const;
  v1::ChildProcess::Stub& stub() { return *stub_; }
  std::string Log();

  // Sends SIGTERM and waits for the exit.
  process::ExitStatus Terminate();
  // Waits for the exit (after a SIGTERM of the test's own, say).
  process::ExitStatus WaitForExit();
  // Waits (bounded) until the log has a line containing `needle`, and
  // returns that line, or "" (and fails the test).
  std::string WaitForLogLine(const std::string& needle,
                             absl::Duration timeout = absl::Seconds(20));
  // The address of a "PREFIX ADDRESS" log line ("health service on ",
  // "metrics on http://"), once it is logged; "" (and a failure) if never.
  std::string LoggedAddress(const std::string& prefix);
  // Stops reading the server's stderr, as a stalled log reader would (its
  // pipe fills), until ResumeLog().
  void PauseLog() { log_paused_ = true; }
  void ResumeLog() { log_paused_ = false; }
  int64_t RssBytes() const;
  // Open fds of the server (from /proc), or -1.
  int FdCount() const;
  // How many times the server's main thread has slept and been woken
  // (voluntary context switches, from /proc), or -1.
  int64_t MainThreadWakeups() const;

 private:
  explicit RexecdProcess(process::Child child) : child_(std::move(child)) {}

  process::Child child_;
  pid_t server_pid_ = -1;
  std::string address_;
  std::unique_ptr<v1::ChildProcess::Stub> stub_;
  std::mutex mu_;
  std::string log_;
  std::thread log_reader_;
  std::atomic<bool> log_paused_{false};
};

// A test with a rexecd of its own, started in SetUp() with Flags().
class RexecdTest : public ::testing::Test {
 protected:
  virtual std::vector<std::string> Flags() { return {}; }
  void SetUp() override {
    server_ = RexecdProcess::Start(Flags());
    ASSERT_NE(server_, nullptr);
  }

  std::unique_ptr<RexecdProcess> server_;
};

// Runs the rexec CLI with `args` (and `env` added to its environment) to its
// end, feeding it `input`.
struct CliResult {
  std::string out, err;
  int code = -1;  // the exit code, or 128 + N for a signal
};
CliResult RunRexec(const std::vector<std::string>& args,
                   std::vector<std::pair<std::string, std::string>> env = {},
                   const std::string& input = "");
// RunRexec for at most `bound`: a CLI still running then fails the test and
// is killed (code 137).
CliResult RunRexecWithin(const std::vector<std::string>& args,
                         absl::Duration bound);

// Whether this test is built with AddressSanitizer, whose allocator keeps
// freed memory in quarantine (16 MB here): bounds on the server's RSS of a
// few MB mean nothing then, and are checked by the plain build.
#ifdef __SANITIZE_ADDRESS__
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

// A TCP connection to 127.0.0.1 at the port of `address` (host:port).
int ConnectTcp(const std::string& address);
// Whether the server closes `fd` within `timeout` (what it sends before is
// read and dropped).
bool ClosedByServer(int fd, absl::Duration timeout);

// Runs `argv` to its end (RunChild).
Result RunProgram(std::vector<std::string> argv);

// The SHA-256 of `text` in hex, as sha256sum prints it: what a token file
// holds for a token.
std::string Sha256Hex(const std::string& text);

// A fresh directory under /tmp, removed with everything in it when the
// object goes away.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  // Writes `text` to path()/name (replacing it atomically) and returns the
  // file's path.
  std::string Write(const std::string& name, const std::string& text) const;

 private:
  std::string path_;
};

// A deadline for one test call.
std::chrono::system_clock::time_point Deadline(
    absl::Duration d = absl::Seconds(60));

// Waits (bounded by `timeout`) until `predicate` holds; returns whether it did.
bool Eventually(const std::function<bool()>& predicate,
                absl::Duration timeout = absl::Seconds(20));

// Pids of live or zombie processes whose command line has `needle` as one of
// its arguments.
std::vector<pid_t> ProcessesWithArg(const std::string& needle);
// Pids of the direct children of `parent` (zombies included) but its
// launcher.
std::vector<pid_t> ChildrenOf(pid_t parent);
// Whether a process with `needle` as an argument runs in the foreground
// group of its terminal (a shell's `fg` has done its tcsetpgrp).
bool InTheForeground(const std::string& needle);

}  // namespace rexec::testing

#endif  // REXEC_TESTS_E2E_REXECD_PROCESS_H_
