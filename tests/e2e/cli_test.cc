// The rexec binary against a real rexecd: what a person at a terminal sees.
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <random>
#include <thread>
#include <utility>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/child_io.h"
#include "tests/e2e/rexecd_process.h"
#include "tests/test_paths.h"

namespace rexec::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

class CliTest : public RexecdTest {
 protected:
  process::Child SpawnCli(std::vector<std::string> args, bool use_env = false) {
    process::SpawnOptions options;
    options.argv = {RexecPath()};
    if (use_env) {
      options.env = {{"REXEC_SERVER", server_->address()}};
    } else {
      options.argv.insert(options.argv.end(), {"--server", server_->address()});
    }
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    absl::StatusOr<process::Child> child = process::Child::Spawn(options);
    EXPECT_TRUE(child.ok()) << child.status();
    return std::move(*child);
  }

  Result Cli(std::vector<std::string> args, const std::string& input = "") {
    process::Child child = SpawnCli(std::move(args));
    return RunChild(child, input);
  }
};

TEST_F(CliTest, LargeRandomPayloadThroughCatArrivesByteExact) {
  std::string payload(64 << 20, '\0');
  std::mt19937 rng(7);
  for (char& c : payload) c = static_cast<char>(rng());
  Result r = Cli({"spawn", "--", "cat"}, payload);
  EXPECT_EQ(r.out.size(), payload.size());
  EXPECT_EQ(std::hash<std::string>()(r.out), std::hash<std::string>()(payload));
  EXPECT_EQ(r.status.code(), 0);
}

TEST_F(CliTest, ExitsWithTheChildsCode) {
  for (int code : {0, 1, 255}) {
    Result r = Cli({"spawn", "--", HelperPath(), "exit", std::to_string(code)});
    EXPECT_EQ(r.status.code(), code);
  }
}

TEST_F(CliTest, SignalDeathExitsWith128PlusN) {
  Result r = Cli({"spawn", "--", "sh", "-c", "kill -SEGV $$"});
  EXPECT_EQ(r.status.code(), 139);
}

TEST_F(CliTest, StdoutAndStderrGoToTheirOwnStreams) {
  Result r = Cli({"spawn", "--", HelperPath(), "stderr", "E"});
  EXPECT_EQ(r.out, "out");
  EXPECT_EQ(r.err, "E");
}

TEST_F(CliTest, StdinEofReachesTheChild) {
  Result r = Cli({"spawn", "--", "wc", "-c"}, "abc");
  EXPECT_EQ(r.out, "3\n");
}

TEST_F(CliTest, OptionsReachTheChild) {
  Result r = Cli({"spawn", "--env", "A=1", "--env", "B=x=y", "--cwd", "/tmp",
                  "--", "sh", "-c", "echo $A $B; pwd"});
  EXPECT_EQ(r.out, "1 x=y\n/tmp\n");
  r = Cli({"spawn", "--clear-env", "--env", "ONLY=1", "--", "/usr/bin/env"});
  EXPECT_EQ(r.out, "ONLY=1\n");
}

TEST_F(CliTest, ServerComesFromTheEnvironment) {
  process::Child child = SpawnCli({"spawn", "--", "echo", "via-env"}, true);
  EXPECT_EQ(RunChild(child).out, "via-env\n");
}

TEST_F(CliTest, TimeoutStopsTheChild) {
  Result r = Cli({"spawn", "--timeout", "200ms", "--", "sleep", "100"});
  EXPECT_EQ(r.status.code(), 128 + SIGTERM);
  EXPECT_THAT(r.err, HasSubstr("rexec: timed out after 200ms"));
}

TEST_F(CliTest, ForwardsSignalsToTheChild) {
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) {
    process::Child cli =
        SpawnCli({"spawn", "--", "sh", "-c", "echo ready; exec sleep 100"});
    // Wait for the remote child to run before signalling.
    std::string seen;
    while (seen.find("ready") == std::string::npos) {
      pollfd pfd{cli.stdout_fd().Get(), POLLIN, 0};
      ASSERT_EQ(poll(&pfd, 1, 30'000), 1);
      char buf[64];
      ssize_t n = read(cli.stdout_fd().Get(), buf, sizeof buf);
      ASSERT_GT(n, 0);
      seen.append(buf, n);
    }
    kill(cli.pid(), sig);
    Result r = RunChild(cli);
    EXPECT_TRUE(r.status.exited())
        << "the CLI itself died: " << r.status.ToString();
    EXPECT_EQ(r.status.code(), 128 + sig) << "signal " << sig;
  }
}

TEST_F(CliTest, RpcErrorsPrintTheStatusAndExit255) {
  Result r = Cli({"spawn", "--cwd", "/nonexistent", "--", "true"});
  EXPECT_EQ(r.status.code(), 255);
  EXPECT_EQ(r.err,
            "rexec: NOT_FOUND: spawn true: cwd /nonexistent: No such file or "
            "directory (ENOENT)\n");

  process::SpawnOptions options;
  options.argv = {RexecPath(), "--server", "127.0.0.1:1",
                  "spawn",     "--",       "true"};
  absl::StatusOr<process::Child> child = process::Child::Spawn(options);
  ASSERT_TRUE(child.ok());
  r = RunChild(*child);
  EXPECT_EQ(r.status.code(), 255);
  EXPECT_THAT(r.err, StartsWith("rexec: UNAVAILABLE: "));
}

// As sh and ssh: 127 for a program that is not there, 126 for one that is
// and cannot run; the server's words are still printed.
TEST_F(CliTest, AProgramNotFoundExits127AndOneThatCannotRun126) {
  Result r = Cli({"spawn", "--", "nosuchprog"});
  EXPECT_EQ(r.status.code(), 127);
  EXPECT_EQ(r.err,
            "rexec: NOT_FOUND: spawn nosuchprog: not found in PATH (ENOENT)\n");
  EXPECT_EQ(Cli({"spawn", "--", "/nonexistent/prog"}).status.code(), 127);

  TempDir dir;
  const std::string not_executable = dir.Write("data", "just text\n");
  const std::string not_a_program = dir.Write("garbage", "\x7f" "ELF..");
  ASSERT_EQ(chmod(not_a_program.c_str(), 0755), 0);
  const std::pair<std::string, std::string> cannot_run[] = {
      {not_executable, "(EACCES)"},
      {not_a_program, "(ENOEXEC)"},
      {not_executable + "/x", "(ENOTDIR)"},
      {dir.path(), "(EACCES)"},
  };
  for (const auto& [program, errno_name] : cannot_run) {
    r = Cli({"spawn", "--", program});
    EXPECT_EQ(r.status.code(), 126) << program << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr(errno_name)) << program;
  }
  // The shell of exec says so itself, as it does locally.
  EXPECT_EQ(Cli({"exec", "nosuchprog"}).status.code(), 127);
}

TEST_F(CliTest, ATypoNamesTheNearestCommandOrFlag) {
  const std::pair<std::vector<std::string>, std::string> typos[] = {
      {{"spwan"}, "rexec: unknown command \"spwan\" (did you mean \"spawn\"?)\n"},
      {{"atach", "x"},
       "rexec: unknown command \"atach\" (did you mean \"attach\"?)\n"},
      {{"spawn", "--tiemout", "5s", "--", "ls"},
       "rexec: unknown flag --tiemout (did you mean --timeout?)\n"},
      {{"exec", "--max-bufer", "1KiB", "true"},
       "rexec: unknown flag --max-bufer (did you mean --max-buffer?)\n"},
      {{"ps", "--servr", "x"},
       "rexec: unknown flag --servr (did you mean --server?)\n"},
      {{"--tls-cs", "x", "spawn", "--", "true"},
       "rexec: unknown flag --tls-cs (did you mean --tls-ca?)\n"},
      {{"frobnicate"},
       "rexec: unknown command \"frobnicate\"; the commands are spawn, exec, "
       "fork, ps, attach, logs, kill, health, completion\n"},
      {{"spawn", "--frobnicate", "--", "true"},
       "rexec: unknown flag --frobnicate\n"},
  };
  for (const auto& [args, message] : typos) {
    Result r = Cli(args);
    EXPECT_EQ(r.status.code(), 2) << args[0];
    EXPECT_EQ(r.err, message);
  }
}

// As kubectl's: the flags every command shares may follow the subcommand.
TEST_F(CliTest, SharedFlagsGoBeforeOrAfterTheCommand) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"spawn", "--server", server_->address(), "--",
                                 "echo", "hi"},
        {"exec", "--server", server_->address(), "echo hi"},
        {"spawn", "--keepalive-time", "5s", "--server", server_->address(),
         "echo", "hi"}}) {
    process::SpawnOptions options;
    options.argv = {RexecPath()};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    absl::StatusOr<process::Child> child = process::Child::Spawn(options);
    ASSERT_TRUE(child.ok());
    Result r = RunChild(*child);
    EXPECT_EQ(r.status.code(), 0) << args[0] << ": " << r.err;
    EXPECT_EQ(r.out, "hi\n") << args[0];
  }
  // After "--" they are the command's own.
  Result r = Cli({"spawn", "--", "echo", "--server", "x"});
  EXPECT_EQ(r.out, "--server x\n");
}

// `rexec completion SHELL`, run by each shell as a user's would: commands,
// flags and their values from the CLI's own tree, and for attach the
// sessions `rexec ps` lists on the server the command line names.
TEST_F(CliTest, CompletionCompletesCommandsFlagsAndSessions) {
  ASSERT_EQ(Cli({"spawn", "--detach", "--name", "webby", "--", "sleep", "7201"})
                .status.code(),
            0);
  const std::string rexec = RexecPath();
  const std::string server = server_->address();
  // Each line: the words typed so far (the last one being completed), then
  // what the completion offers.
  // A shell's stdout, once it exited 0.
  auto shell = [](std::vector<std::string> argv) {
    process::SpawnOptions options;
    options.argv = std::move(argv);
    absl::StatusOr<process::Child> child = process::Child::Spawn(options);
    EXPECT_TRUE(child.ok()) << child.status();
    if (!child.ok()) return std::string();
    Result r = RunChild(*child);
    EXPECT_EQ(r.status.code(), 0) << r.err;
    return r.out;
  };
  auto bash = [&](const std::string& words) {
    return shell({"bash", "-c",
                  "source <(\"$0\" completion bash) && COMP_WORDS=($1) && "
                  "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) && "
                  "[[ \"$1\" == *' ' ]] && COMP_WORDS+=('') && "
                  "((COMP_CWORD++)); _rexec; echo \"${COMPREPLY[*]}\"",
                  rexec, words});
  };
  const std::string command = rexec + " ";
  EXPECT_EQ(bash(command + "sp"), "spawn\n");
  EXPECT_EQ(bash(command + "--server " + server + " attach "), "s1 webby\n");
  EXPECT_EQ(bash(command + "logs --server " + server + " w"), "webby\n");
  EXPECT_EQ(bash(command + "spawn --tim"), "--timeout\n");
  EXPECT_EQ(bash(command + "exec --max-b"), "--max-buffer\n");
  EXPECT_EQ(bash(command + "--tls-c"), "--tls-ca --tls-cert\n");
  EXPECT_EQ(bash(command + "completion "), "bash zsh fish\n");
  // The remote command's words and a flag's value are files.
  EXPECT_EQ(bash(command + "spawn -- ls --serv"), "\n");
  EXPECT_EQ(bash(command + "--server "), "\n");

  auto fish = [&](const std::string& line) {
    return shell({"fish", "-c",
                  "\"$argv[1]\" completion fish | source; complete -C "
                  "\"$argv[2]\"",
                  rexec, line});
  };
  EXPECT_THAT(fish("rexec sp"), StartsWith("spawn\t"));
  EXPECT_EQ(fish(command + "--server " + server + " attach "), "s1\nwebby\n");
  EXPECT_THAT(fish("rexec spawn --tim"), StartsWith("--timeout\t"));

  // zsh runs the bash script through bashcompinit, as its _bash_complete
  // calls it (outside a completion, its compgen does not filter: compadd
  // does that as one completes).
  EXPECT_EQ(shell({"zsh", "-c",
                   "autoload -U compinit && compinit -u && source <(\"$0\" "
                   "completion zsh) && emulate sh -c 'COMP_WORDS=($1 attach "
                   "\"\"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _rexec; "
                   "echo \"${COMPREPLY[*]}\"'",
                   rexec, rexec + " --server " + server}),
            "s1 webby\n");
}

TEST_F(CliTest, HelpOnEveryLevel) {
  Result top = Cli({"--help"});
  EXPECT_EQ(top.status.code(), 0);
  EXPECT_THAT(top.out, HasSubstr("spawn"));
  Result spawn = Cli({"spawn", "--help"});
  EXPECT_EQ(spawn.status.code(), 0);
  EXPECT_THAT(spawn.out, HasSubstr("--timeout"));
  Result bad = Cli({"spawn", "--timeout", "soon", "--", "true"});
  EXPECT_NE(bad.status.code(), 0);
  EXPECT_THAT(bad.err, HasSubstr("\"soon\" is not a duration"));
  EXPECT_THAT(Cli({"exec", "--help"}).out, HasSubstr("--max-buffer"));
  EXPECT_THAT(Cli({"fork", "--help"}).out, HasSubstr("--exec-path"));
}

TEST_F(CliTest, RepeatableFlagsTakeOneValueEach) {
  Result r = Cli({"spawn", "--env", "A=1", "--env", "B=2", "printenv", "B"});
  EXPECT_EQ(r.out, "2\n");
  EXPECT_EQ(r.status.code(), 0) << r.err;
}

TEST_F(CliTest, ExecWritesTheBufferedOutputAndExitsWithTheCode) {
  Result r = Cli({"exec", "echo out; echo err >&2; exit 4"});
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
  EXPECT_EQ(r.status.code(), 4);
  // Several words are one command line, as with ssh.
  EXPECT_EQ(Cli({"exec", "echo", "a", "b"}).out, "a b\n");
  EXPECT_EQ(Cli({"exec", "tr a-z A-Z"}, "piped in").out, "PIPED IN");
}

TEST_F(CliTest, ExecNotesMaxBufferAndTimeout) {
  Result r = Cli({"exec", "--max-buffer", "1KiB", "yes"});
  EXPECT_EQ(r.out, [] {
    std::string s;
    while (s.size() < 1024) s += "y\n";
    return s;
  }());
  EXPECT_EQ(r.err,
            "rexec: output passed max_buffer (1024 bytes per stream); the "
            "command was stopped and its output cut there\n");
  EXPECT_EQ(r.status.code(), 1);

  r = Cli({"exec", "--timeout", "1s", "echo x; exec sleep 320"});
  EXPECT_EQ(r.out, "x\n");
  EXPECT_EQ(r.err, "rexec: timed out after 1s; the child was stopped\n");
  EXPECT_EQ(r.status.code(), 128 + SIGTERM);

  r = Cli({"exec", "--max-buffer", "1GiB", "true"});
  EXPECT_EQ(r.status.code(), 255);
  EXPECT_THAT(r.err, StartsWith("rexec: INVALID_ARGUMENT: start.max_buffer"));
}

TEST_F(CliTest, ACutResultFailsEvenWhenTheChildEndedFirst) {
  // printf is done before the stop reaches it: its own exit is 0, and
  // sometimes that exit won the race and came back as the CLI's code.
  for (int i = 0; i < 12; ++i) {
    Result r = Cli({"exec", "--max-buffer", "10", "printf %0100d 0"});
    EXPECT_EQ(r.out, std::string(10, '0'));
    EXPECT_EQ(r.status.code(), 1) << "run " << i << ": " << r.err;
  }
}

TEST_F(CliTest, UsageErrorsExitTwoWithAHintForTheCommandsFlags) {
  Result r = Cli({"spawn", "ls", "-la"});
  EXPECT_EQ(r.status.code(), 2);
  EXPECT_THAT(r.err, HasSubstr("-la"));
  EXPECT_THAT(r.err, HasSubstr("put -- before the command"));
  for (std::vector<std::string> args :
       {std::vector<std::string>{"--bogus", "spawn", "--", "true"},
        {"spawn", "--timeout", "soon", "--", "true"},
        {"nosuchcommand"},
        {},
        {"exec", "--max-buffer", "lots", "--", "true"},
        {"--parallel", "0", "spawn", "--", "true"}}) {
    Result bad = Cli(args);
    EXPECT_EQ(bad.status.code(), 2) << args.size() << ": " << bad.err;
    EXPECT_THAT(bad.err, Not(HasSubstr("put -- before")));
  }
  process::SpawnOptions options;
  options.argv = {RexecdPath(), "--max-processes", "none"};
  absl::StatusOr<process::Child> rexecd = process::Child::Spawn(options);
  ASSERT_TRUE(rexecd.ok());
  Result server = RunChild(*rexecd);
  EXPECT_EQ(server.status.code(), 2);
  EXPECT_THAT(server.err, HasSubstr("--max-processes"));
}

TEST_F(CliTest, ForkPrintsMessagesAndSendsThem) {
  Result r = Cli({"fork", "--cwd", ForkScriptsDir(), "--send", R"({"a":1})",
                  "--send", R"("bye")", "child.js", "echo"});
  EXPECT_EQ(r.out, "child saw disconnect\n");
  EXPECT_EQ(r.err,
            "rexec: message: {\"argv\":[],\"ready\":true}\n"
            "rexec: message: {\"echo\":{\"a\":1}}\n"
            "rexec: message: {\"echo\":\"bye\"}\n");
  EXPECT_EQ(r.status.code(), 3);

  Result bad = Cli({"fork", "--send", "{oops", "child.js"});
  EXPECT_NE(bad.status.code(), 0);
  EXPECT_THAT(bad.err, HasSubstr("--send: \"{oops\" is not JSON"));
}

// A local Node program forks through rexec as it would fork locally. (The
// remote child's object keys arrive sorted: a Struct keeps no order.)
Result RunBridge(const std::string& address, const std::string& mode) {
  process::SpawnOptions options;
  options.argv = {"node",           ForkScriptsDir() + "/bridge_parent.js",
                  RexecPath(),      address,
                  ForkScriptsDir(), mode};
  absl::StatusOr<process::Child> child = process::Child::Spawn(options);
  EXPECT_TRUE(child.ok()) << child.status();
  return RunChild(*child);
}

TEST_F(CliTest, ForkBridgesTheChannelOfALocalNodeParent) {
  Result r = RunBridge(server_->address(), "bye");
  EXPECT_EQ(r.out,
            "child saw disconnect\n"
            R"({"got":[{"argv":[],"ready":true},{"echo":{"n":1}},)"
            R"({"echo":"ünïcødé ✓"},{"echo":"bye"}],"disconnected":true,)"
            R"("code":3,"signal":null})"
            "\n");
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.status.code(), 0);
}

TEST_F(CliTest, ALocalDisconnectReachesTheRemoteChild) {
  Result r = RunBridge(server_->address(), "disconnect");
  EXPECT_EQ(r.out,
            "child saw disconnect\n"
            R"({"got":[{"argv":[],"ready":true},{"echo":{"n":1}}],)"
            R"("disconnected":true,"code":3,"signal":null})"
            "\n");
  EXPECT_EQ(r.status.code(), 0);
}

TEST_F(CliTest, AnAdvancedSerializationChannelIsRefused) {
  process::SpawnOptions options;
  options.argv = {RexecPath(), "--server", server_->address(), "fork",
                  "child.js"};
  options.env = {{"NODE_CHANNEL_FD", "0"},
                 {"NODE_CHANNEL_SERIALIZATION_MODE", "advanced"}};
  absl::StatusOr<process::Child> child = process::Child::Spawn(options);
  ASSERT_TRUE(child.ok());
  Result r = RunChild(*child);
  EXPECT_NE(r.status.code(), 0);
  EXPECT_THAT(r.err, HasSubstr("\"advanced\" cannot be bridged"));
}

}  // namespace
}  // namespace rexec::testing
