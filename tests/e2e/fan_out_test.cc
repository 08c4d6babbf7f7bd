// rexec's fan-out: one command on several rexecd at once (a repeated
// --server, --hosts FILE, --all over a name with several addresses), each
// on a loopback address of its own and one of them down: every line
// prefixed with its server, a summary per server, and an exit code that
// counts the failures.
//
// Runs in a mount namespace of its own where /etc/hosts gives
// rexecd-fleet.test three addresses (see tests/CMakeLists.txt), as a
// headless Service's name gives one per pod.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/rexecd_process.h"

namespace rexec::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

// A port on `ip` that nothing listens on (bound, then closed).
int FreePort(const std::string& ip) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t length = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &length);
  close(fd);
  return ntohs(a.sin_port);
}

class FanOutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* ip : {"127.0.0.2", "127.0.0.3"}) {
      servers_.push_back(
          RexecdProcess::Start({"--listen", std::string(ip) + ":0"}));
      ASSERT_NE(servers_.back(), nullptr);
    }
    down_ = "127.0.0.4:" + std::to_string(FreePort("127.0.0.4"));
  }

  std::vector<std::unique_ptr<RexecdProcess>> servers_;
  std::string down_;
};

TEST_F(FanOutTest, RepeatedServersOneDown) {
  const std::string& a = servers_[0]->address();
  const std::string& b = servers_[1]->address();
  CliResult r =
      RunRexec({"--server", a, "--server", b, "--server", down_, "spawn", "--",
                "sh", "-c", "echo one; echo two >&2; printf 'no newline'"});
  EXPECT_EQ(r.code, 1) << r.err;  // one server failed
  for (const std::string& server : {a, b}) {
    EXPECT_THAT(r.out, HasSubstr(server + ": one\n"));
    EXPECT_THAT(r.out, HasSubstr(server + ": no newline\n"));
    EXPECT_THAT(r.err, HasSubstr(server + ": two\n"));
    EXPECT_THAT(r.err, HasSubstr("rexec: " + server + ": ok, exit 0\n"));
  }
  EXPECT_THAT(r.err, HasSubstr("rexec: " + down_ + ": FAILED, UNAVAILABLE"));
  EXPECT_THAT(r.err, HasSubstr("rexec: 2 of 3 servers succeeded, 1 failed\n"));
  EXPECT_THAT(r.out, Not(HasSubstr(down_)));
}

TEST_F(FanOutTest, ExitCodeCountsFailedCommands) {
  const std::string& a = servers_[0]->address();
  const std::string& b = servers_[1]->address();
  CliResult ok = RunRexec({"--server", a, "--server", b, "exec", "--", "true"});
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_THAT(ok.err, HasSubstr("2 of 2 servers succeeded, 0 failed"));
  // Each fails its own way: a non-zero exit and a signal.
  CliResult bad = RunRexec({"--server", a, "--server", b, "--server", down_,
                            "spawn", "--", "sh", "-c", "kill -9 $$"});
  EXPECT_EQ(bad.code, 3) << bad.err;
  EXPECT_THAT(bad.err, HasSubstr(a + ": FAILED, killed by SIGKILL"));
  CliResult cut = RunRexec(
      {"--server", a, "exec", "--max-buffer", "4", "--", "echo", "0123456789"});
  EXPECT_EQ(cut.code, 1);
}

TEST_F(FanOutTest, HostsFileWithComments) {
  TempDir dir;
  const std::string hosts = dir.Write(
      "hosts", "# the fleet\n" + servers_[0]->address() + "  # first\n\n" +
                   servers_[1]->address() + "\n" + down_ + "\n");
  CliResult r =
      RunRexec({"--hosts", hosts, "--parallel", "1", "exec", "--", "echo hi"});
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_THAT(r.out, HasSubstr(servers_[0]->address() + ": hi\n"));
  EXPECT_THAT(r.out, HasSubstr(servers_[1]->address() + ": hi\n"));
  EXPECT_THAT(r.err, HasSubstr("2 of 3 servers succeeded"));

  const std::string bad = dir.Write("bad", "127.0.0.2:1 127.0.0.3:1\n");
  CliResult refused = RunRexec({"--hosts", bad, "spawn", "--", "true"});
  EXPECT_EQ(refused.code, 2);
  EXPECT_THAT(refused.err, AllOf(HasSubstr(bad + " line 1"),
                                 HasSubstr("is not one address")));
  const std::string nul =
      dir.Write("nul", servers_[0]->address() + std::string("\0evil:1\n", 8));
  CliResult hidden = RunRexec({"--hosts", nul, "spawn", "--", "true"});
  EXPECT_EQ(hidden.code, 2);
  EXPECT_THAT(hidden.err, AllOf(HasSubstr(nul + " line 1"), HasSubstr("\\x00"),
                                HasSubstr("is not one address")));
  CliResult missing =
      RunRexec({"--hosts", dir.path() + "/nope", "spawn", "--", "true"});
  EXPECT_EQ(missing.code, 2);
  EXPECT_THAT(missing.err, HasSubstr(dir.path() + "/nope"));
}

TEST_F(FanOutTest, AllRunsOnEveryAddressOfAName) {
  // rexecd-fleet.test is 127.0.0.2, .3 and .4 in this namespace's
  // /etc/hosts; the servers must share a port for one name:port to reach
  // them all.
  const int port = FreePort("127.0.0.2");
  std::vector<std::unique_ptr<RexecdProcess>> fleet;
  for (const char* ip : {"127.0.0.2", "127.0.0.3"}) {
    fleet.push_back(RexecdProcess::Start(
        {"--listen", std::string(ip) + ":" + std::to_string(port)}));
    ASSERT_NE(fleet.back(), nullptr);
  }
  const std::string name = "dns:///rexecd-fleet.test:" + std::to_string(port);
  CliResult r = RunRexec(
      {"--all", "--server", name, "spawn", "--", "echo", "from-the-fleet"});
  EXPECT_EQ(r.code, 1) << r.err;  // .4 is down
  for (const char* ip : {"127.0.0.2", "127.0.0.3"}) {
    EXPECT_THAT(r.out, HasSubstr(std::string(ip) + ":" + std::to_string(port) +
                                 ": from-the-fleet\n"));
  }
  EXPECT_THAT(r.err, HasSubstr("127.0.0.4:" + std::to_string(port) +
                               ": FAILED, UNAVAILABLE"));
  EXPECT_THAT(r.err, HasSubstr("2 of 3 servers succeeded, 1 failed"));

  CliResult unknown =
      RunRexec({"--all", "--server", "dns:///no-such-host.invalid:1", "spawn",
                "--", "true"});
  EXPECT_EQ(unknown.code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("cannot resolve no-such-host.invalid"));
  // Without a port, each address is tried on rexecd's (nothing listens
  // there in this test).
  CliResult no_port = RunRexec(
      {"--all", "--server", "rexecd-fleet.test", "spawn", "--", "true"});
  EXPECT_EQ(no_port.code, 3);
  for (const char* ip : {"127.0.0.2", "127.0.0.3", "127.0.0.4"}) {
    EXPECT_THAT(no_port.err,
                HasSubstr(absl::StrCat("rexec: ", ip, ":50051: FAILED")));
  }
  CliResult fork = RunRexec({"--all", "--server", name, "fork", "--", "x.js"});
  EXPECT_EQ(fork.code, 2);
  EXPECT_THAT(fork.err, HasSubstr("run spawn or exec only"));
}

// As `pssh -I`: stdin that is not a terminal goes whole to every child,
// never dropped; too much of it is refused before any server is called.
TEST_F(FanOutTest, StdinGoesToEveryServer) {
  const std::string& a = servers_[0]->address();
  const std::string& b = servers_[1]->address();
  CliResult lines = RunRexec({"--server", a, "--server", b, "spawn", "--", "cat"},
                             {}, "line one\nline two\n");
  EXPECT_EQ(lines.code, 0) << lines.err;
  for (const std::string& server : {a, b}) {
    EXPECT_THAT(lines.out, AllOf(HasSubstr(server + ": line one\n"),
                                 HasSubstr(server + ": line two\n")));
  }
  // Over several messages, to exec's shell too.
  const std::string big(5 << 20, 'x');
  CliResult counted = RunRexec(
      {"--server", a, "--server", b, "exec", "--", "wc -c"}, {}, big);
  EXPECT_EQ(counted.code, 0) << counted.err;
  for (const std::string& server : {a, b}) {
    EXPECT_THAT(counted.out, HasSubstr(server + ": 5242880\n"));
  }
  // A child that ends before it read it all does not keep rexec.
  CliResult early = RunRexec(
      {"--server", a, "--server", b, "spawn", "--", "head", "-c", "3"}, {}, big);
  EXPECT_EQ(early.code, 0) << early.err;
  EXPECT_THAT(early.out, HasSubstr(a + ": xxx"));

  CliResult refused = RunRexec(
      {"--server", a, "--server", b, "spawn", "--", "wc", "-c"}, {},
      std::string((16 << 20) + 1, 'x'));
  EXPECT_EQ(refused.code, 2);
  EXPECT_EQ(refused.out, "");
  EXPECT_THAT(refused.err, HasSubstr("stdin has more than 16 MiB"));
}

}  // namespace
}  // namespace rexec::testing
