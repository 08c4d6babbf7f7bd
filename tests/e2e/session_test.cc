// Sessions end to end: processes started with options.detach outlive their
// call, keep their output in a bounded ring, and are listed, attached to
// (replay from an offset, then live; several at once), signalled and
// collected by the identity that started them only.
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/child_session.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/rexecd_process.h"

namespace rexec::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kTokenA[] = "token-a";
constexpr char kTokenB[] = "token-b";

client::SessionOptions As(const std::string& token,
                          absl::Duration within = absl::Seconds(30)) {
  client::SessionOptions options(absl::Now() + within);
  options.bearer_token = token;
  return options;
}

void Authorize(grpc::ClientContext* ctx, const std::string& token) {
  ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
}

// What an attachment saw.
struct Seen {
  std::optional<v1::Attached> attached;
  std::string out, err;
  std::vector<v1::Lost> lost;
  std::optional<v1::ExitStatus> exit;
  grpc::Status status;
};

class SessionTest : public ::testing::Test {
 protected:
  virtual std::vector<std::string> ExtraFlags() { return {}; }

  void SetUp() override {
    tokens_ =
        dir_.Write("tokens", absl::StrCat("A ", Sha256Hex(kTokenA), "\nB ",
                                          Sha256Hex(kTokenB), "\n"));
    std::vector<std::string> flags = {"--token-file", tokens_};
    for (std::string& flag : ExtraFlags()) flags.push_back(flag);
    server_ = RexecdProcess::Start(flags);
    ASSERT_NE(server_, nullptr);
  }

  void TearDown() override {
    if (HasFailure() && server_ != nullptr) {
      std::cerr << "rexecd's log:\n" << server_->Log();
    }
  }

  // Starts argv detached as A; returns the call (its `started` read) and
  // the session's id.
  std::unique_ptr<client::SpawnSession> Detach(
      std::vector<std::string> argv, std::string* id,
      const std::string& name = "", bool terminal = false,
      const std::string& token = kTokenA) {
    v1::SpawnStart start;
    for (auto& a : argv) start.add_argv(a);
    start.mutable_options()->set_detach(true);
    start.mutable_options()->set_name(name);
    if (terminal) start.mutable_options()->mutable_pty();
    auto call = std::make_unique<client::SpawnSession>(server_->stub(), start,
                                                       As(token));
    v1::SpawnResponse started;
    if (!call->Read(&started) || !started.has_started()) {
      ADD_FAILURE() << "no started: " << call->Finish().error_message();
      return nullptr;
    }
    *id = started.started().session();
    EXPECT_FALSE(id->empty());
    return call;
  }

  v1::ListResponse List(const std::string& token = kTokenA) {
    grpc::ClientContext ctx;
    Authorize(&ctx, token);
    v1::ListResponse response;
    grpc::Status status =
        server_->stub().List(&ctx, v1::ListRequest(), &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  std::optional<v1::SessionInfo> Info(const std::string& id) {
    const v1::ListResponse list = List();
    for (const v1::SessionInfo& info : list.sessions()) {
      if (info.id() == id) return info;
    }
    return std::nullopt;
  }

  // Waits (bounded) until the session's info satisfies `done`.
  bool WaitUntil(const std::string& id,
                 const std::function<bool(const v1::SessionInfo&)>& done) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      std::optional<v1::SessionInfo> info = Info(id);
      if (info && done(*info)) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    std::optional<v1::SessionInfo> info = Info(id);
    ADD_FAILURE() << "session " << id << " never got there: "
                  << (info ? info->DebugString() : "gone");
    return false;
  }

  // Waits (bounded) until no call is attached to the session: the server
  // has seen the cancel of the call that started it, which would otherwise
  // collect its exit.
  bool Detached(const std::string& id) {
    return WaitUntil(
        id, [](const v1::SessionInfo& i) { return i.attached() == 0; });
  }

  grpc::Status Kill(const std::string& session, const std::string& signal,
                    const std::string& token = kTokenA) {
    grpc::ClientContext ctx;
    Authorize(&ctx, token);
    v1::KillRequest request;
    request.set_session(session);
    request.set_signal(signal);
    v1::KillResponse response;
    return server_->stub().Kill(&ctx, request, &response);
  }

  std::unique_ptr<client::AttachSession> Attach(
      const std::string& session, std::optional<uint64_t> from = {},
      bool output_only = false, const std::string& token = kTokenA) {
    v1::AttachStart start;
    start.set_session(session);
    if (from) start.set_stdout_from(*from);
    start.set_output_only(output_only);
    return std::make_unique<client::AttachSession>(server_->stub(), start,
                                                   As(token));
  }

  // Reads until the stdout seen contains `needle` (or the call ends).
  static bool ReadUntil(client::AttachSession& call, Seen& seen,
                        const std::string& needle) {
    while (seen.out.find(needle) == std::string::npos) {
      if (!Next(call, seen)) return false;
    }
    return true;
  }
  static bool Next(client::AttachSession& call, Seen& seen) {
    v1::AttachResponse r;
    if (!call.Read(&r)) return false;
    switch (r.event_case()) {
      case v1::AttachResponse::kAttached:
        EXPECT_FALSE(seen.attached.has_value()) << "attached twice";
        seen.attached = r.attached();
        break;
      case v1::AttachResponse::kStdout:
        EXPECT_TRUE(seen.attached.has_value()) << "output before attached";
        seen.out += r.stdout();
        break;
      case v1::AttachResponse::kStderr:
        seen.err += r.stderr();
        break;
      case v1::AttachResponse::kLost:
        seen.lost.push_back(r.lost());
        break;
      case v1::AttachResponse::kExit:
        seen.exit = r.exit();
        break;
      default:
        ADD_FAILURE() << "empty event";
    }
    return true;
  }
  static Seen ReadAll(client::AttachSession& call, Seen seen = {}) {
    while (Next(call, seen)) {
    }
    seen.status = call.Finish();
    return seen;
  }

  TempDir dir_;
  std::string tokens_;
  std::unique_ptr<RexecdProcess> server_;
};

TEST_F(SessionTest, AProcessOutlivesItsCallAndReplaysExactlyWhatWasMissed) {
  std::string id;
  auto call = Detach(
      {"sh", "-c", "echo first; read go; echo second; read x; echo got-$x"},
      &id);
  ASSERT_NE(call, nullptr);
  v1::SpawnResponse r;
  std::string out;
  while (out.size() < 6 && call->Read(&r)) out += r.stdout();
  ASSERT_EQ(out, "first\n");
  // The client goes away (as a SIGKILLed one would: its connection
  // breaks); the process does not.
  call->Cancel();
  call->Finish();
  std::optional<v1::SessionInfo> info = Info(id);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->state(), v1::SESSION_STATE_RUNNING);
  EXPECT_EQ(info->argv(0), "sh");
  EXPECT_GT(info->pid(), 0);
  EXPECT_EQ(kill(info->pid(), 0), 0);

  // Output produced while nobody was attached.
  {
    auto nudge = Attach(id);
    Seen seen;
    ASSERT_TRUE(Next(*nudge, seen));
    nudge->WriteStdin("\n");
    ASSERT_TRUE(ReadUntil(*nudge, seen, "second\n"));
    nudge->Cancel();
    ReadAll(*nudge, seen);
  }
  ASSERT_TRUE(WaitUntil(id, [](const v1::SessionInfo& i) {
    return i.stdout_end() == 13 && i.attached() == 0;
  }));

  // Back from byte 6: exactly what was missed, then live.
  auto again = Attach(id, 6);
  Seen seen;
  ASSERT_TRUE(ReadUntil(*again, seen, "second\n"));
  ASSERT_TRUE(seen.attached.has_value());
  EXPECT_EQ(seen.attached->stdout_offset(), 6u);
  EXPECT_EQ(seen.attached->session().id(), id);
  EXPECT_EQ(seen.out, "second\n");
  again->WriteStdin("hi\n");
  seen = ReadAll(*again, seen);
  ASSERT_TRUE(seen.status.ok()) << seen.status.error_message();
  EXPECT_EQ(seen.out, "second\ngot-hi\n");
  EXPECT_TRUE(seen.lost.empty());
  ASSERT_TRUE(seen.exit.has_value());
  EXPECT_EQ(seen.exit->code(), 0);
  // It saw the exit and could type: the session is collected.
  EXPECT_FALSE(Info(id).has_value());
}

TEST_F(SessionTest, TwoAttachmentsWatchAtOnceAndShareStdin) {
  std::string id;
  auto call = Detach({"cat"}, &id, "kitty");
  ASSERT_NE(call, nullptr);
  call->Cancel();
  call->Finish();
  auto one = Attach("kitty");
  auto two = Attach("kitty");
  Seen seen_one, seen_two;
  ASSERT_TRUE(Next(*one, seen_one));
  ASSERT_TRUE(Next(*two, seen_two));
  EXPECT_EQ(seen_one.attached->session().name(), "kitty");
  ASSERT_TRUE(WaitUntil(
      id, [](const v1::SessionInfo& i) { return i.attached() == 2; }));
  one->WriteStdin("from-one\n");
  ASSERT_TRUE(ReadUntil(*one, seen_one, "from-one\n"));
  ASSERT_TRUE(ReadUntil(*two, seen_two, "from-one\n"));
  two->WriteStdin("from-two\n");
  ASSERT_TRUE(ReadUntil(*one, seen_one, "from-two\n"));
  ASSERT_TRUE(ReadUntil(*two, seen_two, "from-two\n"));
  EXPECT_EQ(seen_one.out, "from-one\nfrom-two\n");
  EXPECT_EQ(seen_two.out, seen_one.out);
  // An attachment's half-close is not the end of everyone's stdin.
  one->WritesDone();
  two->WriteStdin("still-open\n");
  ASSERT_TRUE(ReadUntil(*two, seen_two, "still-open\n"));
  ASSERT_TRUE(Kill("kitty", "SIGTERM").ok());
  seen_one = ReadAll(*one, seen_one);
  seen_two = ReadAll(*two, seen_two);
  ASSERT_TRUE(seen_one.exit.has_value());
  ASSERT_TRUE(seen_two.exit.has_value());
  EXPECT_EQ(seen_one.exit->signal(), "SIGTERM");
  EXPECT_EQ(seen_one.exit->reason(), v1::TERMINATION_REASON_SIGNALED);
}

TEST_F(SessionTest, AnotherIdentityCannotListAttachOrKill) {
  std::string id;
  auto call = Detach({"sleep", "30"}, &id, "mine");
  ASSERT_NE(call, nullptr);
  call->Cancel();
  call->Finish();
  EXPECT_EQ(List(kTokenA).sessions_size(), 1);
  EXPECT_EQ(List(kTokenB).sessions_size(), 0);
  for (const std::string& which : {id, std::string("mine")}) {
    grpc::Status status = Kill(which, "SIGKILL", kTokenB);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << which;
    Seen seen = ReadAll(*Attach(which, {}, false, kTokenB));
    EXPECT_EQ(seen.status.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_FALSE(seen.attached.has_value());
  }
  // B's names are its own.
  std::string b_id;
  auto b_call = Detach({"true"}, &b_id, "mine", false, kTokenB);
  ASSERT_NE(b_call, nullptr);
  EXPECT_NE(b_id, id);
  // A's is untouched, and A may stop it.
  ASSERT_TRUE(Info(id).has_value());
  EXPECT_EQ(Info(id)->state(), v1::SESSION_STATE_RUNNING);
  EXPECT_TRUE(Kill(id, "KILL").ok());
  ASSERT_TRUE(WaitUntil(id, [](const v1::SessionInfo& i) {
    return i.state() == v1::SESSION_STATE_ENDED;
  }));
  EXPECT_EQ(Info(id)->exit().signal(), "SIGKILL");
}

TEST_F(SessionTest, BadRequestsAreRefusedByName) {
  std::string id;
  auto call = Detach({"sleep", "30"}, &id, "taken");
  ASSERT_NE(call, nullptr);
  struct Case {
    std::function<void(v1::SpawnStart&)> set;
    grpc::StatusCode code;
    std::string says;
  };
  const std::vector<Case> cases = {
      {[](v1::SpawnStart& s) { s.mutable_options()->set_name("taken"); },
       grpc::StatusCode::ALREADY_EXISTS, "\"taken\" exists"},
      {[](v1::SpawnStart& s) { s.mutable_options()->set_name("9lives"); },
       grpc::StatusCode::INVALID_ARGUMENT, "not a session name"},
      {[](v1::SpawnStart& s) { s.mutable_options()->set_name("s12"); },
       grpc::StatusCode::INVALID_ARGUMENT, "an id's form"},
      {[](v1::SpawnStart& s) {
         s.mutable_options()->set_detach(false);
         s.mutable_options()->set_name("x");
       },
       grpc::StatusCode::INVALID_ARGUMENT, "needs options.detach"},
  };
  for (const Case& c : cases) {
    v1::SpawnStart start;
    start.add_argv("true");
    start.mutable_options()->set_detach(true);
    c.set(start);
    client::SpawnSession s(server_->stub(), start, As(kTokenA));
    v1::SpawnResponse r;
    while (s.Read(&r)) {
    }
    grpc::Status status = s.Finish();
    EXPECT_EQ(status.error_code(), c.code) << c.says;
    EXPECT_THAT(status.error_message(), HasSubstr(c.says));
  }
  v1::ExecStart exec;
  exec.set_command("true");
  exec.mutable_options()->set_detach(true);
  client::ExecSession e(server_->stub(), exec, As(kTokenA));
  v1::ExecResponse er;
  while (e.Read(&er)) {
  }
  grpc::Status status = e.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("options.detach is for Spawn"));

  EXPECT_EQ(Kill("taken", "SIGNOPE").error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Kill("", "").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  Seen seen = ReadAll(*Attach(""));
  EXPECT_EQ(seen.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // An output-only attachment takes no input.
  auto logs = Attach("taken", {}, /*output_only=*/true);
  logs->WriteStdin("x");
  seen = ReadAll(*logs);
  EXPECT_EQ(seen.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(seen.status.error_message(), HasSubstr("output_only"));
  // A resize for a session without a terminal.
  auto plain = Attach("taken");
  plain->Resize(10, 10);
  seen = ReadAll(*plain);
  EXPECT_EQ(seen.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  // None of that touched the session.
  EXPECT_EQ(Info(id)->state(), v1::SESSION_STATE_RUNNING);
  call->Cancel();
  call->Finish();
  EXPECT_TRUE(Kill(id, "SIGKILL").ok());
  ASSERT_TRUE(WaitUntil(id, [](const v1::SessionInfo& i) {
    return i.state() == v1::SESSION_STATE_ENDED;
  }));
  EXPECT_EQ(Kill(id, "SIGKILL").error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(SessionTest, ATerminalSessionIsReattachedAndRedrawsOnAResize) {
  std::string id;
  auto call = Detach({"sh", "-c",
                      "trap 'echo WINCH $(stty size)' WINCH; echo READY; "
                      "while :; do sleep 0.05; done"},
                     &id, "", /*terminal=*/true);
  ASSERT_NE(call, nullptr);
  call->Cancel();
  call->Finish();
  auto attached = Attach(id);
  Seen seen;
  ASSERT_TRUE(ReadUntil(*attached, seen, "READY"));
  EXPECT_TRUE(seen.attached->session().terminal());
  attached->Resize(50, 132);
  ASSERT_TRUE(ReadUntil(*attached, seen, "WINCH 50 132"));
  // Ctrl-C as a key, through the session's terminal.
  attached->WriteStdin("\x03");
  seen = ReadAll(*attached, seen);
  ASSERT_TRUE(seen.exit.has_value());
  EXPECT_EQ(seen.exit->signal(), "SIGINT");
}

// A child that never reads: attachments that each leave a chunk behind
// (the attacker's way) fill the session's stdin only up to its bound, and
// the one past it is told.
TEST_F(SessionTest, WhatWaitsForAChildThatDoesNotReadIsBounded) {
  std::string id;
  auto call = Detach({"sleep", "60"}, &id);
  ASSERT_NE(call, nullptr);
  call->Cancel();
  call->Finish();
  const int64_t before = server_->RssBytes();
  const std::string chunk(3 << 20, 'x');
  int refused = 0;
  for (int i = 0; i < 8 && refused == 0; ++i) {
    v1::AttachStart start;
    start.set_session(id);
    client::AttachSession attached(server_->stub(), start,
                                   As(kTokenA, absl::Seconds(1)));
    attached.WriteStdin(chunk);
    Seen seen = ReadAll(attached);  // until the deadline, or refused
    if (seen.status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      EXPECT_THAT(seen.status.error_message(), HasSubstr("waiting"));
      ++refused;
    }
  }
  EXPECT_EQ(refused, 1);
  EXPECT_LT(server_->RssBytes() - before, 48 << 20);
  EXPECT_TRUE(Kill(id, "KILL").ok());
}

TEST_F(SessionTest, ASessionHasAtMostSixteenAttachments) {
  std::string id;
  auto call = Detach({"sleep", "60"}, &id);
  ASSERT_NE(call, nullptr);
  std::vector<std::unique_ptr<client::AttachSession>> attached;
  for (int i = 0; i < 16; ++i) {
    attached.push_back(Attach(id));
    Seen seen;
    ASSERT_TRUE(Next(*attached.back(), seen)) << i;
  }
  Seen seen = ReadAll(*Attach(id));
  EXPECT_EQ(seen.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(seen.status.error_message(), HasSubstr("16 attachments"));
  attached.back()->Cancel();
  ReadAll(*attached.back());
  attached.pop_back();
  ASSERT_TRUE(WaitUntil(
      id, [](const v1::SessionInfo& i) { return i.attached() == 15; }));
  auto again = Attach(id);
  ASSERT_TRUE(Next(*again, seen));
  EXPECT_TRUE(Kill(id, "KILL").ok());
}

class SmallRingTest : public SessionTest {
 protected:
  std::vector<std::string> ExtraFlags() override {
    return {"--replay-buffer", "1000", "--keep-ended", "2s",
            "--max-detached",  "3"};
  }
};

TEST_F(SmallRingTest, AnOffsetOlderThanTheRingSaysHowManyBytesWereLost) {
  // The output waits for the call to be gone, or the call would collect
  // the exit itself.
  const std::string go = dir_.path() + "/go";
  std::string id;
  auto call = Detach({"sh", "-c",
                      "while [ ! -e " + go +
                          " ]; do sleep 0.05; done; "
                          "head -c 5000 /dev/zero | tr '\\0' x"},
                     &id);
  ASSERT_NE(call, nullptr);
  call->Cancel();
  call->Finish();
  ASSERT_TRUE(Detached(id));
  dir_.Write("go", "");
  ASSERT_TRUE(WaitUntil(id, [](const v1::SessionInfo& i) {
    return i.state() == v1::SESSION_STATE_ENDED;
  }));
  EXPECT_EQ(Info(id)->stdout_end(), 5000u);
  EXPECT_EQ(Info(id)->stdout_oldest(), 4000u);
  Seen seen = ReadAll(*Attach(id, 0, /*output_only=*/true));
  ASSERT_TRUE(seen.status.ok()) << seen.status.error_message();
  ASSERT_EQ(seen.lost.size(), 1u);
  EXPECT_EQ(seen.lost[0].bytes(), 4000u);
  EXPECT_EQ(seen.lost[0].resume_offset(), 4000u);
  EXPECT_FALSE(seen.lost[0].stderr());
  EXPECT_EQ(seen.attached->stdout_offset(), 4000u);
  EXPECT_EQ(seen.out, std::string(1000, 'x'));
  ASSERT_TRUE(seen.exit.has_value());
  // Output-only: not collected.
  seen = ReadAll(*Attach(id, 4500, /*output_only=*/true));
  EXPECT_TRUE(seen.lost.empty());
  EXPECT_EQ(seen.out, std::string(500, 'x'));
  EXPECT_TRUE(Info(id).has_value());
}

TEST_F(SmallRingTest, EndedSessionsExpireAndTheCapCountsThem) {
  std::vector<std::string> ids(3);
  const std::string go = dir_.path() + "/go";
  for (std::string& id : ids) {
    // Its call goes before it ends (the file comes after): nobody collects
    // its exit.
    auto call = Detach(
        {"sh", "-c", "while [ ! -e " + go + " ]; do sleep 0.05; done"}, &id);
    ASSERT_NE(call, nullptr);
    call->Cancel();
    call->Finish();
    ASSERT_TRUE(Detached(id));
  }
  dir_.Write("go", "");
  for (const std::string& id : ids) {
    ASSERT_TRUE(WaitUntil(id, [](const v1::SessionInfo& i) {
      return i.state() == v1::SESSION_STATE_ENDED;
    }));
  }
  // --max-detached 3: ended ones count until they expire.
  v1::SpawnStart start;
  start.add_argv("true");
  start.mutable_options()->set_detach(true);
  {
    client::SpawnSession s(server_->stub(), start, As(kTokenA));
    v1::SpawnResponse r;
    while (s.Read(&r)) {
    }
    grpc::Status status = s.Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_THAT(status.error_message(), HasSubstr("--max-detached"));
  }
  // Another identity has its own count.
  std::string other;
  EXPECT_NE(Detach({"true"}, &other, "", false, kTokenB), nullptr);
  // --keep-ended 2s.
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (List().sessions_size() > 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(List().sessions_size(), 0);
  EXPECT_EQ(ReadAll(*Attach(ids[0])).status.error_code(),
            grpc::StatusCode::NOT_FOUND);
  std::string again;
  EXPECT_NE(Detach({"true"}, &again), nullptr);
}

// A child writing without pause, nobody attached: the server reads it all
// (the child is never blocked) and keeps only the ring.
TEST_F(SessionTest, TheRingHoldsTheServerToItsSizeUnderGigabytes) {
  const int64_t before = server_->RssBytes();
  std::string id;
  auto call = Detach({"head", "-c", "1G", "/dev/zero"}, &id);
  ASSERT_NE(call, nullptr);
  call->Cancel();
  call->Finish();
  int64_t peak = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(120);
  bool ended = false;
  while (!ended && absl::Now() < deadline) {
    peak = std::max(peak, server_->RssBytes());
    std::optional<v1::SessionInfo> info = Info(id);
    ended = info && info->state() == v1::SESSION_STATE_ENDED;
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_TRUE(ended);
  EXPECT_EQ(Info(id)->stdout_end(), uint64_t{1} << 30);
  EXPECT_EQ(Info(id)->exit().code(), 0);
  EXPECT_LT(peak - before, 64 << 20)
      << "rexecd grew by " << (peak - before) << " bytes";
}

TEST_F(SessionTest, SessionsDoNotSurviveRexecd) {
  const std::string marker = dir_.path() + "/stopped";
  std::string id;
  auto call = Detach({"sh", "-c",
                      absl::StrCat("trap 'echo term > ", marker,
                                   "; exit 0' TERM; echo ready; "
                                   "while :; do sleep 0.05; done")},
                     &id);
  ASSERT_NE(call, nullptr);
  call->Cancel();
  call->Finish();
  ASSERT_TRUE(WaitUntil(id, [](const v1::SessionInfo& i) {
    return i.stdout_end() > 0;  // the trap is set
  }));
  const pid_t pid = server_->HostPid(Info(id)->pid());
  ASSERT_GT(pid, 0);
  EXPECT_EQ(server_->Terminate().ToString(), "exited with code 0");
  std::ifstream in(marker);
  std::string word;
  in >> word;
  EXPECT_EQ(word, "term") << "its kill policy was not applied";
  EXPECT_NE(kill(pid, 0), 0);
}

// CPU seconds `pid` has used (user and system), from /proc.
double CpuSeconds(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat;
  std::getline(in, stat);
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string field;
  long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoll(field);
    if (i == 15) stime = std::stoll(field);
  }
  return static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
}

class ReadRateTest : public SessionTest {
 protected:
  std::vector<std::string> ExtraFlags() override {
    return {"--detached-read-rate", "1MiB"};
  }
};

// Eight sessions that write without pause, once their calls are gone, are
// each read at --detached-read-rate, and cost rexecd a small share of a
// core (unbounded, they took most of one).
TEST_F(ReadRateTest, ASessionThatWritesWithoutPauseIsReadAtTheRate) {
  constexpr int kSessions = 8;
  std::vector<std::string> ids;
  for (int i = 0; i < kSessions; ++i) {
    std::string id;
    auto call = Detach({"cat", "/dev/zero"}, &id);
    ASSERT_NE(call, nullptr);
    call->Cancel();
    call->Finish();
    ids.push_back(id);
  }
  for (const std::string& id : ids) ASSERT_TRUE(Detached(id));
  const auto ends = [&] {
    std::map<std::string, uint64_t> end;
    const v1::ListResponse list = List();
    for (const v1::SessionInfo& info : list.sessions()) {
      end[info.id()] = info.stdout_end();
    }
    return end;
  };
  const absl::Time t0 = absl::Now();
  const double cpu0 = CpuSeconds(server_->server_pid());
  std::map<std::string, uint64_t> before = ends();
  absl::SleepFor(absl::Seconds(3));
  std::map<std::string, uint64_t> after = ends();
  const double cpu1 = CpuSeconds(server_->server_pid());
  const double seconds = absl::ToDoubleSeconds(absl::Now() - t0);

  for (const std::string& id : ids) {
    const double rate = (after[id] - before[id]) / seconds;
    // The rate, with a tenth of a second's burst and a margin.
    EXPECT_LT(rate, 1.25 * (1 << 20) + (128 << 10) / seconds) << id;
    EXPECT_GT(rate, 0.5 * (1 << 20)) << id << ": not read at the rate";
  }
  const double share = (cpu1 - cpu0) / seconds;
  std::cout << kSessions << " sessions at 1 MiB/s each: rexecd used " << share
            << " of a core\n";
  EXPECT_LT(share, 0.25);
  for (const std::string& id : ids) EXPECT_TRUE(Kill(id, "SIGKILL").ok());
}

class PolicySessionTest : public SessionTest {
 protected:
  std::vector<std::string> ExtraFlags() override {
    policy_ = dir_.Write("policy.json", Policy(true));
    return {"--policy", policy_};
  }
  // A's rule: `rpcs` and `programs` as given; none at all without `with_a`.
  static std::string Policy(
      bool with_a,
      const std::string& a_rpcs = R"("Spawn", "List", "Attach", "Kill")",
      const std::string& a_programs = R"("/usr/bin/sleep")") {
    return absl::StrCat(
        R"({"rules": [)",
        with_a ? absl::StrCat(R"({"name": "a", "identities": ["A"], "rpcs": [)",
                              a_rpcs, R"(], "programs": [)", a_programs, "]},")
               : "",
        R"({"name": "b", "identities": ["B"], "rpcs": ["Spawn"],
            "programs": ["/usr/bin/true"]}]})");
  }
  void Reload(const std::string& policy) {
    // Counted first: the write alone may reload it (the directory is
    // watched); SIGHUP makes sure.
    const size_t reloads = Count(server_->Log(), "reloaded:");
    dir_.Write("policy.json", policy);
    kill(server_->pid(), SIGHUP);
    ASSERT_TRUE(
        Eventually([&] { return Count(server_->Log(), "reloaded:") > reloads; },
                   absl::Seconds(20)));
  }
  static size_t Count(const std::string& text, const std::string& needle) {
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos;
         at = text.find(needle, at + 1)) {
      ++n;
    }
    return n;
  }
  grpc::StatusCode ListCode() {
    grpc::ClientContext ctx;
    Authorize(&ctx, kTokenA);
    v1::ListResponse response;
    return server_->stub()
        .List(&ctx, v1::ListRequest(), &response)
        .error_code();
  }
  // A detached `sleep 60` of A's, its call gone.
  std::string SleepingSession() {
    std::string id;
    auto call = Detach({"sleep", "60"}, &id);
    EXPECT_NE(call, nullptr);
    if (call == nullptr) return "";
    call->Cancel();
    call->Finish();
    // The client's Finish does not wait for the server: its audit record
    // says the call is gone there, and the session is the table's. (A
    // reload before that would stop a session its call still owned,
    // which collects it.)
    server_->WaitForLogLine("session=\"" + id + "\"");
    return id;
  }
  std::string policy_;
};

// List, Attach and Kill are each named by the rule, as it is when the call
// comes: a rule narrowed to Spawn alone leaves A's sessions running (it
// would start them) but out of A's reach.
TEST_F(PolicySessionTest, ARuleThatNoLongerNamesTheRpcRefusesIt) {
  const std::string id = SleepingSession();
  ASSERT_FALSE(id.empty());
  Reload(Policy(true, R"("Spawn")"));
  EXPECT_EQ(ListCode(), grpc::StatusCode::PERMISSION_DENIED);
  grpc::Status killed = Kill(id, "KILL");
  EXPECT_EQ(killed.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(killed.error_message(),
              HasSubstr("does not allow Kill calls (rpcs)"));
  Seen attached = ReadAll(*Attach(id));
  EXPECT_EQ(attached.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(attached.status.error_message(),
              HasSubstr("does not allow Attach calls (rpcs)"));
  // Given back, the session is there, running: narrowing rpcs stopped
  // nothing.
  Reload(Policy(true));
  std::optional<v1::SessionInfo> info = Info(id);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->state(), v1::SESSION_STATE_RUNNING);
}

// A session the reloaded rule would not start (its program taken away) is
// stopped at the reload, with an audit record, and never attached again.
TEST_F(PolicySessionTest, ASessionTheNewRuleWouldNotStartIsStopped) {
  const std::string id = SleepingSession();
  ASSERT_FALSE(id.empty());
  Reload(Policy(true, R"("Spawn", "List", "Attach", "Kill")",
                R"("/usr/bin/true")"));
  EXPECT_TRUE(WaitUntil(id, [](const v1::SessionInfo& info) {
    return info.state() == v1::SESSION_STATE_ENDED;
  }));
  std::optional<v1::SessionInfo> info = Info(id);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->exit().reason(), v1::TERMINATION_REASON_POLICY_REVOKED);
  EXPECT_EQ(info->exit().signal(), "SIGTERM");
  const std::string record = server_->WaitForLogLine("reason=POLICY_REVOKED");
  EXPECT_THAT(record, HasSubstr("session=\"" + id + "\""));
  EXPECT_THAT(record, HasSubstr("identity=\"A\""));
  EXPECT_THAT(record, HasSubstr("stopped: the reloaded policy would not "
                                "start it"));
  EXPECT_THAT(server_->WaitForLogLine("would not be started under the "
                                      "reloaded policy"),
              HasSubstr("they are stopped"));
}

// What a session ran is judged as it was: a child that removed its own cwd
// (where a new launch would stop, before its program is looked at) is
// still stopped when its program is taken away.
TEST_F(PolicySessionTest, ARemovedCwdHidesNothingFromTheReview) {
  const std::string work = dir_.path() + "/work";
  ASSERT_EQ(mkdir(work.c_str(), 0755), 0);
  const std::string rule = absl::StrCat(
      R"({"rules": [{"name": "a", "identities": ["A"],
          "rpcs": ["Spawn", "List", "Attach", "Kill"], "cwd_roots": [")",
      dir_.path(), R"("], "programs": [)");
  Reload(rule + R"("/usr/bin/dash", "/usr/bin/sleep"]}]})");
  v1::SpawnStart start;
  for (const char* arg : {"sh", "-c", "rmdir \"$PWD\" && exec sleep 60"}) {
    start.add_argv(arg);
  }
  start.mutable_options()->set_detach(true);
  start.mutable_options()->set_cwd(work);
  client::SpawnSession call(server_->stub(), start, As(kTokenA));
  v1::SpawnResponse started;
  ASSERT_TRUE(call.Read(&started) && started.has_started())
      << call.Finish().error_message();
  const std::string id = started.started().session();
  call.Cancel();
  call.Finish();
  ASSERT_TRUE(Eventually([&] { return access(work.c_str(), F_OK) != 0; },
                         absl::Seconds(10)));
  Reload(rule + R"("/usr/bin/sleep"]}]})");
  EXPECT_TRUE(WaitUntil(id, [](const v1::SessionInfo& info) {
    return info.state() == v1::SESSION_STATE_ENDED;
  }));
  EXPECT_THAT(server_->WaitForLogLine("reason=POLICY_REVOKED"),
              HasSubstr("does not allow sh (programs)"));
}

class KeepRevokedSessionTest : public PolicySessionTest {
 protected:
  std::vector<std::string> ExtraFlags() override {
    std::vector<std::string> flags = PolicySessionTest::ExtraFlags();
    flags.insert(flags.end(), {"--on-policy-revoke", "keep"});
    return flags;
  }
};

TEST_F(KeepRevokedSessionTest, AKeptSessionRunsOnButCannotBeAttached) {
  const std::string id = SleepingSession();
  ASSERT_FALSE(id.empty());
  // An attachment made before the reload is ended by it.
  auto before = Attach(id);
  Seen seen;
  ASSERT_TRUE(Next(*before, seen));  // attached
  Reload(Policy(true, R"("Spawn", "List", "Attach", "Kill")",
                R"("/usr/bin/true")"));
  Seen ended = ReadAll(*before, seen);
  EXPECT_EQ(ended.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(ended.status.error_message(),
              HasSubstr("would not start it now"));
  EXPECT_THAT(server_->WaitForLogLine("reason=POLICY_REVOKED"),
              HasSubstr("kept running (--on-policy-revoke keep)"));
  Seen attached = ReadAll(*Attach(id));
  EXPECT_EQ(attached.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(attached.status.error_message(),
              HasSubstr("session " + id +
                        " was started under a rule that would not start it "
                        "now"));
  std::optional<v1::SessionInfo> info = Info(id);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->state(), v1::SESSION_STATE_RUNNING);
  // Kill still reaches it: stopping takes nothing more.
  EXPECT_TRUE(Kill(id, "KILL").ok());
}

// Revoking an identity revokes its way to the sessions it started.
TEST_F(PolicySessionTest, AnIdentityWithoutARuleCannotReachItsSessions) {
  std::string id;
  auto call = Detach({"sleep", "60"}, &id);
  ASSERT_NE(call, nullptr);
  call->Cancel();
  call->Finish();
  EXPECT_EQ(List().sessions_size(), 1);
  dir_.Write("policy.json", Policy(false));
  kill(server_->pid(), SIGHUP);
  ASSERT_THAT(server_->WaitForLogLine("reloaded: 1 rules"),
              HasSubstr("reloaded"));
  grpc::ClientContext ctx;
  Authorize(&ctx, kTokenA);
  v1::ListResponse response;
  EXPECT_EQ(
      server_->stub().List(&ctx, v1::ListRequest(), &response).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Kill(id, "KILL").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(ReadAll(*Attach(id)).status.error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace rexec::testing
