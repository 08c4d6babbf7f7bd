// rexecd with a policy and tokens, through the CLI as a user would call it:
// what each identity may run, what reaches a child's environment, the
// identity's process cap, reloads, and the refusals of a configuration that
// would expose the server unawares.
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/child_session.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/rexecd_process.h"
#include "tests/test_paths.h"

namespace rexec::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kEchoForA[] = R"({
  "rules": [
    {
      "name": "echo-for-a",
      "identities": ["A"],
      "rpcs": ["Spawn"],
      "programs": ["/usr/bin/echo", "/usr/bin/env", "/usr/bin/sleep"],
      "env": {"PATH": "/usr/bin:/bin", "FROM_RULE": "1"},
      "max_processes": 1
    }
  ]
})";

class PolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tokens_ = dir_.Write("tokens", "A " + Sha256Hex("token-a") + "\nB " +
                                       Sha256Hex("token-b") + "\n");
    token_a_ = dir_.Write("a.token", "token-a\n");
    token_b_ = dir_.Write("b.token", "token-b\n");
    policy_ = dir_.Write("policy.json", kEchoForA);
    ASSERT_EQ(symlink("/bin/echo", (dir_.path() + "/linked-echo").c_str()), 0);
    ASSERT_EQ(symlink("/bin/cat", (dir_.path() + "/echo").c_str()), 0);
    server_ =
        RexecdProcess::Start({"--token-file", tokens_, "--policy", policy_},
                             {{"REXEC_TEST_SECRET", "hunter2"}});
    ASSERT_NE(server_, nullptr);
  }

  // A call of identity A that runs `sleep ARG` until cancelled.
  std::unique_ptr<client::SpawnSession> SleepAsA(const std::string& arg) {
    client::SessionOptions options(absl::Now() + absl::Seconds(20));
    options.bearer_token = "token-a";
    v1::SpawnStart start;
    start.add_argv("sleep");
    start.add_argv(arg);
    auto session =
        std::make_unique<client::SpawnSession>(server_->stub(), start, options);
    v1::SpawnResponse started;
    EXPECT_TRUE(session->Read(&started) && started.has_started());
    return session;
  }

  CliResult As(const std::string& token_file,
               std::vector<std::string> command) {
    std::vector<std::string> args = {"--server", server_->address()};
    if (!token_file.empty()) {
      args.insert(args.end(), {"--token-file", token_file});
    }
    args.insert(args.end(), command.begin(), command.end());
    return RunRexec(args);
  }

  TempDir dir_;
  std::string tokens_, token_a_, token_b_, policy_;
  std::unique_ptr<RexecdProcess> server_;
};

TEST_F(PolicyTest, EchoIsAllowedForAByEveryNameOfIt) {
  for (const std::string& program :
       {std::string("echo"), std::string("/bin/echo"),
        std::string("/usr/bin/../bin/echo"), dir_.path() + "/linked-echo"}) {
    CliResult r = As(token_a_, {"spawn", "--", program, "hi"});
    EXPECT_EQ(r.code, 0) << program << ": " << r.err;
    EXPECT_EQ(r.out, "hi\n") << program;
  }
  EXPECT_THAT(server_->WaitForLogLine("rule=\"echo-for-a\""),
              HasSubstr("identity=\"A\""));
}

TEST_F(PolicyTest, EverythingElseIsRefusedAndSaysWhoAndWhy) {
  struct Case {
    std::string token;
    std::vector<std::string> command;
    std::string error;
  };
  for (const Case& c : std::vector<Case>{
           {token_a_,
            {"spawn", "--", "cat", "/etc/shadow"},
            "rexec: PERMISSION_DENIED: identity \"A\": rule \"echo-for-a\" "
            "does not allow cat (programs)"},
           {token_a_,
            {"spawn", "--", "/usr/bin/../bin/cat"},
            "does not allow /usr/bin/../bin/cat (programs)"},
           {token_a_,
            {"spawn", "--", dir_.path() + "/echo"},
            "does not allow " + dir_.path() + "/echo (programs)"},
           {token_a_,
            {"exec", "cat /etc/shadow"},
            "rule \"echo-for-a\" does not allow Exec calls (rpcs)"},
           {token_a_,
            {"spawn", "--env", "LD_PRELOAD=/x.so", "--", "echo"},
            "does not allow setting LD_PRELOAD (client_env)"},
           {token_a_,
            {"spawn", "--cwd", "/etc", "--", "echo"},
            "does not allow cwd /etc (cwd_roots)"},
           {token_b_,
            {"spawn", "--", "echo", "hi"},
            "rexec: PERMISSION_DENIED: identity \"B\": no rule of the policy "
            "is for it"},
           {"",
            {"spawn", "--", "echo", "hi"},
            "rexec: UNAUTHENTICATED: no identity: this server requires a "
            "bearer token"},
       }) {
    CliResult r = As(c.token, c.command);
    EXPECT_EQ(r.code, 255) << c.error;
    EXPECT_THAT(r.err, HasSubstr(c.error));
    EXPECT_EQ(r.out, "");
    // A refusal tells nothing of what the policy would allow.
    EXPECT_THAT(r.err, Not(HasSubstr("/usr/bin/echo")));
  }
  CliResult wrong =
      As(dir_.Write("wrong.token", "token-c"), {"spawn", "--", "echo"});
  EXPECT_THAT(wrong.err,
              HasSubstr("rexec: UNAUTHENTICATED: the bearer token is not "
                        "valid"));
  EXPECT_THAT(server_->WaitForLogLine("identity=\"B\""),
              HasSubstr("status=PERMISSION_DENIED"));
}

TEST_F(PolicyTest, TheServersEnvironmentDoesNotReachAChild) {
  CliResult r = As(token_a_, {"spawn", "--", "env"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "FROM_RULE=1\nPATH=/usr/bin:/bin\n");
  EXPECT_THAT(r.out, Not(HasSubstr("hunter2")));
}

TEST_F(PolicyTest, AnIdentityRunsAtMostItsCap) {
  std::unique_ptr<client::SpawnSession> first = SleepAsA("321");
  CliResult second = As(token_a_, {"spawn", "--", "echo"});
  EXPECT_EQ(second.code, 255);
  EXPECT_THAT(second.err,
              HasSubstr("RESOURCE_EXHAUSTED: spawn echo: identity \"A\" runs "
                        "its limit of 1 processes (rule \"echo-for-a\": "
                        "max_processes)"));
  first->Cancel();
  // The slot comes back once the child is reaped.
  EXPECT_TRUE(Eventually([&] {
    return As(token_a_, {"spawn", "--", "echo"}).code == 0;
  }));
}

TEST_F(PolicyTest, ABadReloadKeepsThePolicyInForce) {
  dir_.Write("policy.json",
             "{\"rules\": [{\"identities\": [\"A\"],\n"
             "  \"rpcs\": [\"Spwan\"]}]}");
  // The file change alone is seen; SIGHUP asks again.
  kill(server_->pid(), SIGHUP);
  EXPECT_THAT(server_->WaitForLogLine("policy not reloaded"),
              HasSubstr(policy_ + ":2:12: rules[0].rpcs[0]: unknown RPC "
                                  "\"Spwan\""));
  CliResult r = As(token_a_, {"spawn", "--", "echo", "still"});
  EXPECT_EQ(r.out, "still\n");

  // A running call keeps the rule it started under.
  std::unique_ptr<client::SpawnSession> running = SleepAsA("322");

  // A good policy that allows cat, not sleep, by its change on disk alone.
  std::string cat_policy = kEchoForA;
  cat_policy.replace(cat_policy.find("/usr/bin/sleep"), 14, "/usr/bin/cat");
  cat_policy.replace(cat_policy.find("\"max_processes\": 1"), 18,
                     "\"max_processes\": 2");
  dir_.Write("policy.json", cat_policy);
  EXPECT_TRUE(Eventually([&] {
    return As(token_a_, {"spawn", "--", "cat"}).code != 255;
  })) << server_->Log();
  EXPECT_THAT(server_->WaitForLogLine("reloaded: 1 rules"),
              HasSubstr("policy " + policy_));
  EXPECT_EQ(As(token_a_, {"spawn", "--", "sleep", "0"}).code, 255);
  EXPECT_FALSE(ProcessesWithArg("322").empty()) << "the running call was cut";
  running->Cancel();
}

TEST(PolicyNames, AShellAllowedByItsRestrictedNameStaysRestricted) {
  TempDir dir;
  const std::string tokens = dir.Write("t", "A " + Sha256Hex("ta") + "\n");
  const std::string token = dir.Write("ta.token", "ta\n");
  const std::string policy =
      dir.Write("p.json", R"({"rules": [{"identities": ["A"], "rpcs": ["Exec"],
                   "shells": ["/bin/rbash"], "env": {"PATH": "/usr/bin"}}]})");
  auto server =
      RexecdProcess::Start({"--token-file", tokens, "--policy", policy});
  ASSERT_NE(server, nullptr);
  for (const char* shell : {"/bin/rbash", "/bin/bash", "/usr/bin/bash"}) {
    CliResult r = RunRexec({"--server", server->address(), "--token-file",
                            token, "exec", "--shell", shell, "cd /; pwd"});
    EXPECT_THAT(r.err, HasSubstr("cd: restricted")) << shell;
    EXPECT_NE(r.out, "/\n") << shell;
  }
}

// What rexecd says when it refuses to start with `flags`. A rexecd that
// starts instead fails the test as soon as it says it listens (and is
// killed), and one that does neither within 20 s fails it then: the test
// never waits on a server that serves.
std::string StartError(std::vector<std::string> flags) {
  process::SpawnOptions options;
  options.argv = {RexecdPath()};
  options.argv.insert(options.argv.end(), flags.begin(), flags.end());
  absl::StatusOr<process::Child> child = process::Child::Spawn(options);
  EXPECT_TRUE(child.ok());
  if (!child.ok()) return "";
  child->stdin_fd().Reset();
  const int fd = child->stderr_fd().Get();
  std::string err;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  bool eof = false;
  while (!eof && absl::Now() < deadline &&
         err.find("listening on ") == std::string::npos) {
    pollfd pfd{fd, POLLIN, 0};
    if (poll(&pfd, 1, 100) <= 0) continue;
    char buf[4096];
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) err.append(buf, n);
    eof = n == 0;
  }
  if (!eof) {
    kill(child->pid(), SIGKILL);
    ADD_FAILURE() << "rexecd started (or hung) when it should have refused: "
                  << err;
  }
  absl::StatusOr<process::ExitStatus> status = child->Wait();
  EXPECT_TRUE(status.ok() && status->exited() && status->code() == 1) << err;
  return err;
}

TEST(SecureByDefault, ABadPolicyStopsTheStartNamingFileLineAndField) {
  TempDir dir;
  std::string policy = dir.Write(
      "p.yaml", "rules:\n  - identities: [a]\n    programs: [echo]\n");
  std::string tokens = dir.Write("t", "a " + Sha256Hex("x") + "\n");
  EXPECT_EQ(StartError({"--listen", "127.0.0.1:0", "--token-file", tokens,
                        "--policy", policy}),
            "rexecd: " + policy +
                ":3:16: rules[0].programs[0]: \"echo\" is not an absolute "
                "path or glob: a rule names the file that runs, after the PATH "
                "lookup\n");
}

TEST(SecureByDefault, ExposedAddressesNeedTlsOrInsecure) {
  EXPECT_THAT(StartError({"--listen", "0.0.0.0:0"}),
              HasSubstr("rexecd: --listen 0.0.0.0:0 is not a loopback "
                        "address, and anyone who reaches it could run "
                        "programs as this server's user: give --tls-cert and "
                        "--tls-key"));
  EXPECT_THAT(StartError({"--listen", "127.0.0.1:0", "--listen", "[::]:0"}),
              HasSubstr("--listen [::]:0 is not a loopback address"));
  EXPECT_THAT(StartError({"--listen", "unix-abstract:rexec-test"}),
              HasSubstr("an abstract unix socket has no file permissions"));
  TempDir dir;
  EXPECT_THAT(
      StartError({"--listen", "127.0.0.1:0", "--policy", dir.Write("p", "{}")}),
      HasSubstr("--policy needs a way to tell callers apart: "
                "--tls-client-ca or --token-file"));
  // With --insecure it serves, and says so.
  auto server = RexecdProcess::Start({"--listen", "0.0.0.0:0", "--insecure"});
  ASSERT_NE(server, nullptr);
  EXPECT_THAT(server->Log(), HasSubstr("--insecure: 0.0.0.0:0 is served in "
                                       "plaintext"));
}

// As root, TCP without a way to know callers is a root shell for every
// local user, loopback or TLS alike.
TEST(SecureByDefault, ARootServerOnTcpNeedsToKnowItsCallers) {
  ASSERT_EQ(geteuid(), 0u) << "this test is about a root rexecd";
  const std::string why =
      "rexecd runs as root, and on TCP without --token-file or "
      "--tls-client-ca every local user could connect and run programs as "
      "root";
  EXPECT_THAT(StartError({"--listen", "127.0.0.1:0"}),
              HasSubstr("rexecd: --listen 127.0.0.1:0: " + why));
  EXPECT_THAT(StartError({"--listen", "unix:/tmp/rexec-never.sock", "--listen",
                          "[::1]:0"}),
              HasSubstr("--listen [::1]:0: " + why));
  TempDir dir;
  const std::string tokens = dir.Write("t", "a " + Sha256Hex("x") + "\n");
  auto with_tokens = RexecdProcess::Start({"--token-file", tokens});
  EXPECT_NE(with_tokens, nullptr);
  auto insecure = RexecdProcess::Start({"--insecure"});
  EXPECT_NE(insecure, nullptr);
}

// With no --listen, rexecd serves unix:/run/rexec/rexecd.sock (0600, its
// directory made), and rexec with no --server goes there. Run in a mount
// namespace of its own, with a tmpfs on /run, so that no real rexecd's
// socket is touched.
TEST(SecureByDefault, TheDefaultIsAnOwnersOnlyUnixSocket) {
  const std::string script =
      "set -e; mount -t tmpfs tmpfs /run; "
      "\"$0\" --shutdown-grace 1s 2> /run/log & "
      "for i in $(seq 100); do [ -S /run/rexec/rexecd.sock ] && break; "
      "sleep 0.1; done; "
      "stat -c '%a' /run/rexec/rexecd.sock /run/rexec; "
      "\"$1\" spawn -- echo by-default; kill $!; wait $! || true; "
      "grep -o 'listening on [^ ]*' /run/log";
  Result r = RunProgram({"unshare", "--mount", "--propagation", "private",
                         "sh", "-c", script, RexecdPath(), RexecPath()});
  EXPECT_EQ(r.status.code(), 0) << r.err;
  EXPECT_EQ(r.out,
            "600\n755\nby-default\nlistening on unix:/run/rexec/rexecd.sock\n");
}

TEST(SecureByDefault, ASocketEveryUserMayConnectToIsWarnedOf) {
  TempDir dir;
  auto server = RexecdProcess::Start(
      {"--listen", "unix:" + dir.path() + "/s.sock", "--socket-mode", "0666"});
  ASSERT_NE(server, nullptr);
  EXPECT_THAT(server->WaitForLogLine("--socket-mode 0666"),
              HasSubstr("lets every user of this host connect"));
  auto narrow = RexecdProcess::Start(
      {"--listen", "unix:" + dir.path() + "/n.sock", "--socket-mode", "0660"});
  ASSERT_NE(narrow, nullptr);
  EXPECT_THAT(narrow->Log(), Not(HasSubstr("lets every user")));
}

// gRPC 1.51 names a peer on [::1] "ipv6:%5B::1%5D:PORT": loopback, where a
// token may travel in plaintext.
TEST(SecureByDefault, ATokenOverIpv6LoopbackIsTaken) {
  TempDir dir;
  auto server = RexecdProcess::Start(
      {"--listen", "[::1]:0", "--token-file",
       dir.Write("tokens", "v6 " + Sha256Hex("t0k3n") + "\n")});
  ASSERT_NE(server, nullptr);
  CliResult r = RunRexec({"--server", server->address(), "--token-file",
                          dir.Write("token", "t0k3n\n"), "spawn", "--",
                          "echo", "ok"});
  EXPECT_EQ(r.out, "ok\n") << r.err;
  EXPECT_THAT(server->WaitForLogLine("identity=\"v6\""),
              HasSubstr("status=OK"));
}

TEST(SecureByDefault, UnixSocketsAreOwnersOnlyUnlessShared) {
  TempDir dir;
  const std::string path = dir.path() + "/rexec.sock";
  {
    auto server = RexecdProcess::Start({"--listen", "unix:" + path});
    ASSERT_NE(server, nullptr);
    struct stat st;
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    CliResult r = RunRexec(
        {"--server", "unix:" + path, "spawn", "--", "echo", "over-unix"});
    EXPECT_EQ(r.out, "over-unix\n");
  }
  const group* daemon_group = getgrnam("daemon");
  ASSERT_NE(daemon_group, nullptr);
  auto shared =
      RexecdProcess::Start({"--listen", "unix:" + path, "--socket-mode", "0660",
                            "--socket-group", "daemon"});
  ASSERT_NE(shared, nullptr);
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  EXPECT_EQ(st.st_gid, daemon_group->gr_gid);
  EXPECT_THAT(StartError({"--listen", "unix:" + dir.path() + "/b.sock",
                          "--socket-mode", "999"}),
              HasSubstr("--socket-mode \"999\" is not an octal mode"));
}

TEST(SecureByDefault, ATokenTravelsOnlyWhereItCannotBeRead) {
  TempDir dir;
  const std::string token = dir.Write("token", "t0k3n\n");
  // The CLI refuses to send it in plaintext over a network...
  CliResult r = RunRexec({"--server", "10.255.255.1:50051", "--token-file",
                          token, "spawn", "--", "true"});
  EXPECT_EQ(r.code, 255);
  EXPECT_THAT(r.err, HasSubstr("rexec: not sending a bearer token in "
                               "plaintext to 10.255.255.1:50051: use TLS "
                               "(--tls-ca), a unix socket or a loopback "
                               "address"));
  // ...but sends it over a unix socket.
  const std::string path = dir.path() + "/rexec.sock";
  auto server = RexecdProcess::Start(
      {"--listen", "unix:" + path, "--token-file",
       dir.Write("tokens", "sidecar " + Sha256Hex("t0k3n") + "\n")});
  ASSERT_NE(server, nullptr);
  r = RunRexec({"--server", "unix:" + path, "--token-file", token, "spawn",
                "--", "echo", "ok"});
  EXPECT_EQ(r.out, "ok\n") << r.err;
  EXPECT_THAT(server->WaitForLogLine("identity=\"sidecar\""),
              HasSubstr("peer=\"unix:"));
}

}  // namespace
}  // namespace rexec::testing
