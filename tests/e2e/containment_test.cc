// How a child is fenced in, through a real rexecd and the CLI: the user it
// runs as, its rlimits, no_new_privs and capabilities under a policy, a
// server that cannot switch users, and isolation in a PID namespace (a
// child cannot kill rexecd nor reach another call's processes). Users are
// made with useradd, so these tests need root (CI runs as root); without
// it they say so and skip.
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "client/child_session.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/rexecd_process.h"
#include "tests/test_paths.h"

namespace rexec::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kAlice[] = "rexect-alice";
constexpr char kBob[] = "rexect-bob";
constexpr char kTeam[] = "rexect-team";

// Makes the test users once: alice (in the team group) and bob.
bool EnsureUsers() {
  if (getgrnam(kTeam) == nullptr &&
      system(absl::StrCat("groupadd ", kTeam).c_str()) != 0) {
    return false;
  }
  for (const char* user : {kAlice, kBob}) {
    if (getpwnam(user) == nullptr &&
        system(absl::StrCat("useradd -m -s /bin/sh ", user).c_str()) != 0) {
      return false;
    }
  }
  return system(absl::StrCat("usermod -a -G ", kTeam, " ", kAlice).c_str()) ==
         0;
}

std::string Ids(const std::string& user) {
  const passwd* pw = getpwnam(user.c_str());
  int count = 64;
  std::vector<gid_t> groups(count);
  getgrouplist(user.c_str(), pw->pw_gid, groups.data(), &count);
  groups.resize(count);
  std::sort(groups.begin(), groups.end());
  return absl::StrCat(pw->pw_uid, "\n", pw->pw_gid, "\n",
                      absl::StrJoin(groups, " "), "\n", pw->pw_dir, " ", user,
                      " ", user, " ", pw->pw_shell, "\n");
}

// What `id -G` prints, sorted, for comparing with Ids().
constexpr char kShowIds[] =
    "id -u; id -g; id -G | tr ' ' '\\n' | sort -n | tr '\\n' ' ' | "
    "sed 's/ $/\\n/'; echo $HOME $USER $LOGNAME $SHELL";

// A field of /proc/self/status, as the child printed it.
std::string StatusField(const std::string& output, const std::string& name) {
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    if (absl::ConsumePrefix(&line, name + ":")) {
      return std::string(absl::StripAsciiWhitespace(line));
    }
  }
  return "";
}

class ContainmentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (getuid() != 0) {
      GTEST_SKIP() << "not root: these tests make users with useradd and "
                      "need rexecd to switch to them";
    }
    ASSERT_TRUE(EnsureUsers()) << "useradd/groupadd failed";
  }

  CliResult Rexec(RexecdProcess& server, std::vector<std::string> args,
                  const std::string& token_file = "") {
    std::vector<std::string> all = {"--server", server.address()};
    if (!token_file.empty())
      all.insert(all.end(), {"--token-file", token_file});
    all.insert(all.end(), args.begin(), args.end());
    return RunRexec(all);
  }

  TempDir dir_;
};

// ---- without a policy: what the call asks for ---------------------------

TEST_F(ContainmentTest, RunsAsTheUserWithItsGroupsAndHomeAsSudoDoes) {
  auto server = RexecdProcess::Start();
  ASSERT_NE(server, nullptr);
  CliResult r = Rexec(*server, {"exec", "--user", kAlice, kShowIds});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, Ids(kAlice));
  // By id too, and the group and groups a call names.
  const passwd* bob = getpwnam(kBob);
  const group* team = getgrnam(kTeam);
  r = Rexec(*server, {"exec", "--user", absl::StrCat(bob->pw_uid), "--group",
                      kTeam, "--groups", kTeam, "id -u; id -g; id -G"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, absl::StrCat(bob->pw_uid, "\n", team->gr_gid, "\n",
                                team->gr_gid, "\n"));
  // An id with no passwd entry: group nogroup, never the same number.
  ASSERT_EQ(getpwuid(54321), nullptr);
  r = Rexec(*server, {"exec", "--user", "54321", "id -u; id -g; echo $HOME"});
  EXPECT_EQ(r.out, "54321\n65534\n/\n") << r.err;
}

TEST_F(ContainmentTest, AnUnknownUserOrGroupIsNamed) {
  auto server = RexecdProcess::Start();
  ASSERT_NE(server, nullptr);
  CliResult r =
      Rexec(*server, {"spawn", "--user", "rexect-nobody", "--", "id"});
  EXPECT_EQ(r.err,
            "rexec: NOT_FOUND: options.user: no user \"rexect-nobody\" on "
            "this server\n");
  r = Rexec(*server, {"spawn", "--user", kAlice, "--group", "rexect-nogroup",
                      "--", "id"});
  EXPECT_EQ(r.err,
            "rexec: NOT_FOUND: options.group: no group \"rexect-nogroup\" on "
            "this server\n");
  r = Rexec(*server, {"spawn", "--limit", "nofile", "--", "id"});
  EXPECT_THAT(r.err, HasSubstr("--limit: \"nofile\" is not NAME=NUMBER"));
}

TEST_F(ContainmentTest, LimitsAreVisibleInProcAndEnforced) {
  auto server = RexecdProcess::Start();
  ASSERT_NE(server, nullptr);
  CliResult r = Rexec(
      *server, {"spawn", "--limit", "nofile=17", "--limit", "core=0", "--limit",
                "nproc=4000", "--", "cat", "/proc/self/limits"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out,
              HasSubstr("Max open files            17                   17"));
  EXPECT_THAT(r.out,
              HasSubstr("Max core file size        0                    0"));
  EXPECT_THAT(r.out,
              HasSubstr("Max processes             4000                 4000"));

  // A CPU-bound child meets SIGXCPU at its CPU limit.
  r = Rexec(*server, {"spawn", "--limit", "cpu=1", "--", "sh", "-c",
                      "while :; do :; done"});
  EXPECT_EQ(r.code, 128 + SIGXCPU) << r.err;

  // A write past the file size limit fails with EFBIG (SIGXFSZ ignored).
  const std::string file = dir_.path() + "/big";
  r = Rexec(*server, {"spawn", "--limit", "fsize=10", "--", "sh", "-c",
                      "trap '' XFSZ; head -c 100 /dev/zero > " + file});
  EXPECT_NE(r.code, 0);
  EXPECT_THAT(r.err, HasSubstr("File too large"));
  struct stat st;
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 10);
}

// Processes of `user` on this machine, zombies included.
int ProcessesOf(const std::string& user) {
  FILE* ps =
      popen(absl::StrCat("ps -u ", user, " --no-headers | wc -l").c_str(), "r");
  int count = -1;
  if (ps != nullptr) {
    if (fscanf(ps, "%d", &count) != 1) count = -1;
    pclose(ps);
  }
  return count;
}

TEST_F(ContainmentTest, AForkBombStopsAtItsUsersProcessLimit) {
  auto server = RexecdProcess::Start();
  ASSERT_NE(server, nullptr);
  // RLIMIT_NPROC counts every process of the user: bob runs nothing else.
  CliResult r;
  std::atomic<bool> over{false};
  std::thread bomb([&] {
    r = Rexec(*server,
              {"exec", "--user", kBob, "--limit", "nproc=20", "--timeout", "3s",
               "for i in $(seq 1 60); do sleep 30 & done; sleep 30"});
    over = true;
  });
  int most = 0;
  // Sampled for as long as the bomb goes on (its timeout is 3 s).
  for (int i = 0; i < 400 && !over; ++i) {
    most = std::max(most, ProcessesOf(kBob));
    absl::SleepFor(absl::Milliseconds(50));
  }
  bomb.join();
  EXPECT_THAT(r.err, HasSubstr("fork"));
  EXPECT_LE(most, 20);
  EXPECT_GE(most, 10) << "the bomb did not go off";
  EXPECT_TRUE(Eventually([] { return ProcessesOf(kBob) == 0; }));
}

TEST_F(ContainmentTest, AServerThatCannotSwitchUsersSaysSo) {
  // rexecd as alice, without capabilities.
  auto server = RexecdProcess::Start(
      {}, {},
      {"setpriv", "--reuid", kAlice, "--regid", kAlice, "--init-groups",
       "--inh-caps=-all", "--bounding-set=-all", "--"});
  ASSERT_NE(server, nullptr);
  CliResult r = Rexec(*server, {"spawn", "--user", "root", "--", "id"});
  EXPECT_EQ(r.err,
            absl::StrCat("rexec: PERMISSION_DENIED: rexecd runs as uid ",
                         getpwnam(kAlice)->pw_uid,
                         " without CAP_SETUID and CAP_SETGID, so it cannot run "
                         "a child as user root: run rexecd as root (or with "
                         "those capabilities) to switch users\n"));
  // Its own user is no switch.
  r = Rexec(*server, {"spawn", "--user", kAlice, "--", "id", "-un"});
  EXPECT_EQ(r.out, absl::StrCat(kAlice, "\n")) << r.err;
}

// ---- under a policy ------------------------------------------------------

constexpr char kPolicy[] = R"({
  "rules": [
    {
      "name": "as-alice",
      "identities": ["A"],
      "rpcs": ["Spawn", "Exec"],
      "programs": ["/*"], "shells": ["/*"],
      "env": {"PATH": "/usr/bin:/bin"},
      "client_env": ["*"],
      "cwd_roots": ["/"],
      "users": ["rexect-alice", "rexect-b*"],
      "default_user": "rexect-alice",
      "groups": ["rexect-team"],
      "limits": {"open_files": 64}
    },
    {
      "name": "root-may-bind",
      "identities": ["B"],
      "rpcs": ["Spawn", "Exec"],
      "programs": ["/*"], "shells": ["/*"],
      "env": {"PATH": "/usr/bin:/bin", "LSAN_OPTIONS": "detect_leaks=0"},
      "users": ["root", "rexect-alice"],
      "capabilities": ["CAP_NET_BIND_SERVICE"]
    },
    {
      "name": "isolated",
      "identities": ["C"],
      "rpcs": ["Spawn", "Exec"],
      "programs": ["/*"], "shells": ["/*"],
      "env": {"PATH": "/usr/bin:/bin"},
      "isolation": "PID_NAMESPACE"
    },
    {
      "name": "unconfined",
      "identities": ["E"],
      "rpcs": ["Spawn"],
      "programs": ["/*"],
      "seccomp": "UNCONFINED"
    },
    {
      "name": "needs-cgroup",
      "identities": ["D"],
      "rpcs": ["Spawn"],
      "programs": ["/*"],
      "cgroup": {"memory_max_bytes": 100000000}
    }
  ]
})";

class PolicyContainmentTest : public ContainmentTest {
 protected:
  void SetUp() override {
    ContainmentTest::SetUp();
    if (IsSkipped()) return;
    std::string tokens;
    for (const char* who : {"A", "B", "C", "D", "E"}) {
      tokens +=
          absl::StrCat(who, " ", Sha256Hex(absl::StrCat("token-", who)), "\n");
      token_[who] = dir_.Write(absl::StrCat(who, ".token"),
                               absl::StrCat("token-", who, "\n"));
    }
    server_ =
        RexecdProcess::Start({"--token-file", dir_.Write("tokens", tokens),
                              "--policy", dir_.Write("policy.json", kPolicy)});
    ASSERT_NE(server_, nullptr);
  }

  CliResult As(const std::string& who, std::vector<std::string> args) {
    return Rexec(*server_, std::move(args), token_[who]);
  }

  std::map<std::string, std::string> token_;
  std::unique_ptr<RexecdProcess> server_;
};

TEST_F(PolicyContainmentTest, TheRuleChoosesTheUserAndRefusesOthers) {
  CliResult r = As("A", {"exec", kShowIds});
  EXPECT_EQ(r.out, Ids(kAlice)) << r.err;
  r = As("A", {"exec", "--user", kBob, "id -un"});
  EXPECT_EQ(r.out, absl::StrCat(kBob, "\n")) << r.err;
  for (const auto& [args, error] :
       std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"spawn", "--user", "root", "--", "id"},
            "does not allow running as user root (users)"},
           {{"spawn", "--user", "0", "--", "id"},
            "does not allow running as user 0 (users)"},
           // Whether a user exists is not told to who may not use it.
           {{"spawn", "--user", "rexect-nobody", "--", "id"},
            "does not allow running as user rexect-nobody (users)"},
           {{"spawn", "--group", "root", "--", "id"},
            "does not allow group root (groups)"},
           {{"spawn", "--limit", "nofile=65", "--", "id"},
            "does not allow limits.open_files of 65 (limits.open_files)"}}) {
    r = As("A", args);
    EXPECT_EQ(r.err, absl::StrCat("rexec: PERMISSION_DENIED: identity \"A\": "
                                  "rule \"as-alice\" ",
                                  error, "\n"))
        << absl::StrJoin(args, " ");
  }
  // Its own groups, and the rule's, are the user's to name.
  r = As("A", {"exec", "--group", kTeam, "id -gn"});
  EXPECT_EQ(r.out, absl::StrCat(kTeam, "\n")) << r.err;
}

TEST_F(PolicyContainmentTest, RulesThatRunChildrenAsRootAreWarnedOf) {
  EXPECT_THAT(server_->WaitForLogLine("policy rule \"root-may-bind\" may run "
                                      "children as root"),
              HasSubstr("neither isolation nor a cgroup contains them"));
  EXPECT_THAT(server_->Log(), HasSubstr("rule \"isolated\" may run children"));
  EXPECT_THAT(server_->Log(),
              ::testing::Not(HasSubstr("rule \"as-alice\" may run children")));
}

TEST_F(PolicyContainmentTest, TheRulesLimitIsTheDefault) {
  CliResult r = As("A", {"spawn", "--", "cat", "/proc/self/limits"});
  EXPECT_THAT(r.out,
              HasSubstr("Max open files            64                   64"))
      << r.err;
  r = As("A",
         {"spawn", "--limit", "nofile=32", "--", "cat", "/proc/self/limits"});
  EXPECT_THAT(r.out,
              HasSubstr("Max open files            32                   32"))
      << r.err;
}

TEST_F(PolicyContainmentTest, NoNewPrivilegesFromASetuidBinary) {
  // A setuid-root copy of id, in a directory alice can reach.
  ASSERT_EQ(chmod(dir_.path().c_str(), 0755), 0);
  const std::string suid = dir_.path() + "/suid-id";
  ASSERT_EQ(
      system(absl::StrCat("cp /usr/bin/id ", suid, " && chmod 4755 ", suid)
                 .c_str()),
      0);
  // Without a policy, the setuid bit works: the check below can fail.
  auto open_server = RexecdProcess::Start();
  ASSERT_NE(open_server, nullptr);
  CliResult r =
      Rexec(*open_server, {"spawn", "--user", kAlice, "--", suid, "-u"});
  EXPECT_EQ(r.out, "0\n") << r.err;

  r = As("A", {"spawn", "--", suid, "-u"});
  EXPECT_EQ(r.out, absl::StrCat(getpwnam(kAlice)->pw_uid, "\n")) << r.err;
  r = As("A", {"spawn", "--", "cat", "/proc/self/status"});
  EXPECT_EQ(StatusField(r.out, "NoNewPrivs"), "1");
  EXPECT_EQ(StatusField(r.out, "CapEff"), "0000000000000000");
}

TEST_F(PolicyContainmentTest, CapabilitiesAreOnlyTheOnesTheRuleGrants) {
  // Root under a rule with none: nothing, not even in the bounding set.
  CliResult r = As("C", {"spawn", "--", "cat", "/proc/self/status"});
  EXPECT_EQ(StatusField(r.out, "CapEff"), "0000000000000000") << r.err;
  EXPECT_EQ(StatusField(r.out, "CapBnd"), "0000000000000000");
  // CAP_NET_BIND_SERVICE is bit 10: for root, and as ambient for alice.
  r = As("B", {"spawn", "--", "cat", "/proc/self/status"});
  EXPECT_EQ(StatusField(r.out, "CapEff"), "0000000000000400") << r.err;
  EXPECT_EQ(StatusField(r.out, "CapBnd"), "0000000000000400");
  r = As("B", {"spawn", "--user", kAlice, "--", "cat", "/proc/self/status"});
  EXPECT_EQ(StatusField(r.out, "CapEff"), "0000000000000400") << r.err;
  EXPECT_EQ(StatusField(r.out, "CapAmb"), "0000000000000400");
  // Without a policy, a root child keeps rexecd's capabilities.
  auto open_server = RexecdProcess::Start();
  ASSERT_NE(open_server, nullptr);
  r = Rexec(*open_server, {"spawn", "--", "cat", "/proc/self/status"});
  EXPECT_NE(StatusField(r.out, "CapEff"), "0000000000000000");
}

// The default seccomp filter: each call it refuses is EPERM (clone3 ENOSYS,
// so that libc falls back to clone), and a rule with seccomp UNCONFINED
// shows that the filter, not a missing capability, refused each.
TEST_F(PolicyContainmentTest, TheDefaultSeccompFilterRefusesEachCall) {
  // B runs as root (its first user), who can reach the helper wherever the
  // build is; the filter holds for root as for anyone. (B's rule leaves out
  // LeakSanitizer's exit check of the sanitizer build's helper: it attaches
  // with ptrace, which the filter refuses.)
  CliResult confined = As("B", {"spawn", "--", HelperPath(), "syscalls"});
  ASSERT_EQ(confined.code, 0) << confined.err;
  EXPECT_EQ(confined.out,
            "clone-newuser EPERM\n"
            "clone3 ENOSYS\n"
            "init_module EPERM\n"
            "finit_module EPERM\n"
            "keyctl EPERM\n"
            "add_key EPERM\n"
            "bpf EPERM\n"
            "perf_event_open EPERM\n"
            "mount EPERM\n"
            "umount2 EPERM\n"
            "ptrace-attach EPERM\n"
            "ptrace-seize EPERM\n"
            "process_vm_readv EPERM\n"
            "pidfd_getfd EPERM\n"
            "setns EPERM\n"
            "ptrace-traceme ok\n"
            "unshare-newuser EPERM\n");
  CliResult status =
      As("B", {"spawn", "--", "grep", "^Seccomp:", "/proc/self/status"});
  EXPECT_EQ(status.out, "Seccomp:\t2\n") << status.err;

  CliResult unconfined = As("E", {"spawn", "--", HelperPath(), "syscalls"});
  ASSERT_EQ(unconfined.code, 0) << unconfined.err;
  // Without the filter each fails for the kernel's own reasons, or not at
  // all; the module calls are left out, as a kernel without modules says
  // ENOSYS either way.
  for (const char* name :
       {"clone-newuser", "clone3", "keyctl", "add_key", "bpf",
        "perf_event_open", "mount", "umount2", "process_vm_readv",
        "pidfd_getfd", "unshare-newuser"}) {
    EXPECT_THAT(unconfined.out,
                Not(HasSubstr(absl::StrCat("\n", name, " EPERM\n"))));
    EXPECT_THAT(unconfined.out,
                Not(HasSubstr(absl::StrCat("\n", name, " ENOSYS\n"))));
    EXPECT_THAT(unconfined.out, HasSubstr(absl::StrCat(name, " ")));
  }
  EXPECT_THAT(As("E", {"spawn", "--", "grep", "^Seccomp:", "/proc/self/status"})
                  .out,
              "Seccomp:\t0\n");
}

// In a PID namespace the program's end comes through its init: a death by
// a signal that dumped core is that signal, with its core, not an exit.
TEST_F(PolicyContainmentTest, AnIsolatedChildsCoreDumpIsReportedAsOne) {
  TempDir cores;
  v1::SpawnStart start;
  for (const std::string& arg :
       {std::string("sh"), std::string("-c"),
        "cd " + cores.path() + " && ulimit -c unlimited && kill -ABRT $$"}) {
    start.add_argv(arg);
  }
  client::SessionOptions options(absl::Now() + absl::Seconds(30));
  options.bearer_token = "token-C";
  client::SpawnSession call(server_->stub(), start, options);
  call.WritesDone();
  v1::SpawnResponse response;
  std::optional<v1::ExitStatus> exit;
  while (call.Read(&response)) {
    if (response.has_exit()) exit = response.exit();
  }
  ASSERT_TRUE(call.Finish().ok());
  ASSERT_TRUE(exit.has_value());
  EXPECT_FALSE(exit->has_code()) << exit->DebugString();
  EXPECT_EQ(exit->signal(), "SIGABRT");
  EXPECT_TRUE(exit->core_dumped());
}

TEST_F(PolicyContainmentTest, CgroupLimitsWithoutACgroupRootAreRefused) {
  CliResult r = As("D", {"spawn", "--", "true"});
  EXPECT_EQ(r.err,
            "rexec: FAILED_PRECONDITION: rule \"needs-cgroup\" sets cgroup "
            "limits, and this rexecd has no --cgroup-root to set them in\n");
}

// ---- isolation -------------------------------------------------------------

TEST_F(PolicyContainmentTest, AnIsolatedChildCannotKillRexecd) {
  CliResult r =
      As("C", {"exec", "echo $$ $PPID; kill -9 $PPID; ps -e | wc -l"});
  EXPECT_EQ(r.code, 0) << r.err;
  // The shell is PID 2 under the init; it sees only itself, ps and wc (and
  // the init and the ps header).
  EXPECT_THAT(r.out, StartsWith("2 1\n"));
  int seen = 0;
  ASSERT_TRUE(absl::SimpleAtoi(
      absl::StripAsciiWhitespace(r.out.substr(r.out.find('\n') + 1)), &seen))
      << r.out;
  EXPECT_LE(seen, 6);
  EXPECT_EQ(kill(server_->pid(), 0), 0) << "rexecd died";
  r = As("C", {"spawn", "--", "echo", "served"});
  EXPECT_EQ(r.out, "served\n") << r.err;
}

TEST_F(PolicyContainmentTest, AnIsolatedChildCannotReachAnotherCallsProcesses) {
  client::SessionOptions options(absl::Now() + absl::Seconds(20));
  options.bearer_token = "token-C";
  v1::SpawnStart start;
  start.add_argv("cat");
  client::SpawnSession victim(server_->stub(), start, options);
  v1::SpawnResponse started;
  ASSERT_TRUE(victim.Read(&started) && started.has_started());
  // The pid the call reports is its init's; cat is the init's child. What
  // the other call names is cat's pid in rexecd's namespace.
  const pid_t init = server_->HostPid(started.started().pid());
  ASSERT_GT(init, 0);
  std::string children;
  ASSERT_TRUE(Eventually([&] {
    std::ifstream in(absl::StrCat("/proc/", init, "/task/", init, "/children"));
    std::getline(in, children);
    return !children.empty();
  }));
  pid_t host_cat = -1;
  ASSERT_TRUE(
      absl::SimpleAtoi(absl::StripAsciiWhitespace(children), &host_cat));
  const std::string cat = absl::StrCat(server_->ReportedPid(host_cat));
  ASSERT_NE(cat, "-1");

  CliResult r = As("C", {"exec", absl::StrCat("echo pwned > /proc/", cat,
                                              "/fd/0; kill -9 ", cat)});
  EXPECT_NE(r.code, 0);
  EXPECT_THAT(r.err, HasSubstr(absl::StrCat("cannot create /proc/", cat)));
  EXPECT_THAT(r.err, HasSubstr("kill: No such process"));

  v1::SpawnRequest in;
  in.set_stdin("mine\n");
  ASSERT_TRUE(victim.Write(in));
  in.Clear();
  in.mutable_close_stdin();
  ASSERT_TRUE(victim.Write(in));
  std::string out;
  v1::SpawnResponse response;
  std::optional<v1::ExitStatus> exit;
  while (victim.Read(&response)) {
    if (response.has_stdout()) out += response.stdout();
    if (response.has_exit()) exit = response.exit();
  }
  EXPECT_EQ(out, "mine\n");
  ASSERT_TRUE(exit.has_value()) << "the call ended without its exit";
  EXPECT_EQ(exit->code(), 0);
  EXPECT_TRUE(victim.Finish().ok());
}

TEST_F(PolicyContainmentTest, IsolatedDescendantsEndWithTheirProgram) {
  CliResult r = As("C", {"exec", "setsid sleep 3201 & sleep 3202 & echo up"});
  EXPECT_EQ(r.out, "up\n") << r.err;
  EXPECT_TRUE(Eventually([] {
    return ProcessesWithArg("3201").empty() && ProcessesWithArg("3202").empty();
  })) << "a descendant outlived its namespace's init";
  // The program's own end is reported, not its init's.
  r = As("C", {"exec", "kill -TERM $$"});
  EXPECT_EQ(r.code, 128 + SIGTERM) << r.err;
}

}  // namespace
}  // namespace rexec::testing
