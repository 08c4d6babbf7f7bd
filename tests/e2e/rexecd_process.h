// RexecdProcess runs the real rexecd binary on 127.0.0.1:0 for a test, reads
// the port it chose from its log, and keeps draining its log (so that it
// never blocks on a full stderr pipe). Destroying it kills the server.
// Not thread-safe, except Log().
#ifndef REXEC_TESTS_E2E_REXECD_PROCESS_H_
#define REXEC_TESTS_E2E_REXECD_PROCESS_H_

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

namespace rexec::testing {

class RexecdProcess {
 public:
  // Fails the test (and returns nullptr) if the server does not come up.
  static std::unique_ptr<RexecdProcess> Start(
      std::vector<std::string> flags = {});
  ~RexecdProcess();

  const std::string& address() const { return address_; }
  pid_t pid() const { return child_.pid(); }
  v1::ChildProcess::Stub& stub() { return *stub_; }
  std::string Log();

  // Sends SIGTERM and waits for the exit.
  process::ExitStatus Terminate();
  int64_t RssBytes() const;
  // Open fds of the server (from /proc), or -1.
  int FdCount() const;

 private:
  explicit RexecdProcess(process::Child child) : child_(std::move(child)) {}

  process::Child child_;
  std::string address_;
  std::unique_ptr<v1::ChildProcess::Stub> stub_;
  std::mutex mu_;
  std::string log_;
  std::thread log_reader_;
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

// A deadline for one test call.
std::chrono::system_clock::time_point Deadline(
    absl::Duration d = absl::Seconds(60));

// Waits (bounded by `timeout`) until `predicate` holds; returns whether it did.
bool Eventually(const std::function<bool()>& predicate,
                absl::Duration timeout = absl::Seconds(20));

// Pids of live or zombie processes whose command line has `needle` as one of
// its arguments.
std::vector<pid_t> ProcessesWithArg(const std::string& needle);
// Pids of the direct children of `parent` (zombies included).
std::vector<pid_t> ChildrenOf(pid_t parent);

}  // namespace rexec::testing

#endif  // REXEC_TESTS_E2E_REXECD_PROCESS_H_
