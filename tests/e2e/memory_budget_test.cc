// --memory-budget end to end: every consumer of rexecd's memory driven at
// once, by clients that never read what they are sent and children that
// never read what they are given, against a budget of 256 MiB. rexecd's
// RSS stays under the budget plus kOverhead, what must fit whole is refused
// naming the budget, and a plain call still runs meanwhile. Clients whose
// streams stall leave a window in gRPC each: the senders that find no room
// for one are ended naming the budget, and no other call is cancelled.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "client/child_session.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/http_scrape.h"
#include "tests/e2e/rexecd_process.h"

namespace rexec::testing {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kMiB = 1 << 20;
constexpr int64_t kBudget = 256 * kMiB;
// What rexecd holds beyond its budget, stated: its own code, threads and
// allocator (about 20 MiB idle), each call's share that is not counted
// (its objects, gRPC's per-stream state), and what may pass the budget by
// design: one request being written per call that holds input, and the
// 64 KiB a call that holds no output still reads.
constexpr int64_t kOverhead = 96 * kMiB;

// One call that floods: its stream, and the thread that writes to it.
template <typename Request>
struct Flood {
  using Stream = grpc::ClientReaderWriterInterface<
      Request, typename client::Rpc<Request>::Response>;
  grpc::ClientContext ctx;
  std::unique_ptr<Stream> stream;
  std::thread writer;
  std::atomic<bool> written{false};  // the writer has stopped
};

// Opens a call with `start`, reads its first response, and has a thread
// write `chunk` up to `count` times without reading anything more.
template <typename Request>
std::unique_ptr<Flood<Request>> StartFlood(v1::ChildProcess::Stub& stub,
                                           const Request& start,
                                           const Request& chunk, int count) {
  auto flood = std::make_unique<Flood<Request>>();
  flood->ctx.set_deadline(Deadline(absl::Seconds(120)));
  flood->stream = client::Rpc<Request>::Open(stub, &flood->ctx);
  EXPECT_TRUE(flood->stream->Write(start));
  typename client::Rpc<Request>::Response started;
  if (!flood->stream->Read(&started) || !started.has_started()) {
    ADD_FAILURE() << "not started: " << flood->stream->Finish().error_message();
    return nullptr;
  }
  flood->writer = std::thread([f = flood.get(), chunk, count] {
    for (int i = 0; i < count && f->stream->Write(chunk); ++i) {
    }
    f->written = true;
  });
  return flood;
}

template <typename Request>
void EndFloods(std::vector<std::unique_ptr<Flood<Request>>>& floods) {
  for (auto& f : floods) f->ctx.TryCancel();
  for (auto& f : floods) {
    f->writer.join();
    f->stream->Finish();
  }
}

// Eight calls writing stdin to `sleep`, which never reads it: 1 MiB at a
// time, 64 MiB each. Fewer where one did not start (a failure is added).
std::vector<std::unique_ptr<Flood<v1::SpawnRequest>>> StdinFloods(
    v1::ChildProcess::Stub& stub) {
  v1::SpawnRequest start, chunk;
  start.mutable_start()->add_argv("sleep");
  start.mutable_start()->add_argv("1001");
  chunk.set_stdin(std::string(kMiB, 'i'));
  std::vector<std::unique_ptr<Flood<v1::SpawnRequest>>> floods;
  for (int i = 0; i < 8; ++i) {
    auto flood = StartFlood(stub, start, chunk, 64);
    if (flood == nullptr) break;
    floods.push_back(std::move(flood));
  }
  return floods;
}

// A Fork start whose child is `script` for /bin/sh, with fd 3 the channel.
v1::ForkRequest ShellFork(const std::string& script) {
  v1::ForkRequest start;
  start.mutable_start()->set_module("budget-fork");
  start.mutable_start()->set_exec_path("/bin/sh");
  start.mutable_start()->add_exec_argv("-c");
  start.mutable_start()->add_exec_argv(script);
  return start;
}

// An Exec that holds `max_buffer` x 2 of the budget until it is cancelled.
std::unique_ptr<Flood<v1::ExecRequest>> HoldingExec(
    v1::ChildProcess::Stub& stub, uint64_t max_buffer) {
  auto exec = std::make_unique<Flood<v1::ExecRequest>>();
  exec->ctx.set_deadline(Deadline());
  exec->stream = stub.Exec(&exec->ctx);
  v1::ExecRequest start;
  start.mutable_start()->set_command("exec sleep 1003");
  start.mutable_start()->set_max_buffer(max_buffer);
  EXPECT_TRUE(exec->stream->Write(start));
  v1::ExecResponse started;
  EXPECT_TRUE(exec->stream->Read(&started) && started.has_started());
  exec->writer = std::thread([] {});
  return exec;
}

class MemoryBudgetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = RexecdProcess::Start({"--memory-budget", Budget(),
                                    "--metrics-listen", "127.0.0.1:0",
                                    "--max-grpc-memory", GrpcMemory()});
    ASSERT_NE(server_, nullptr);
    metrics_ = server_->LoggedAddress("metrics on http://");
    metrics_ = metrics_.substr(0, metrics_.find('/'));
  }

  virtual std::string Budget() { return "256MiB"; }
  // gRPC's share: a quarter of the budget, as by default.
  virtual std::string GrpcMemory() { return "64MiB"; }

  // The budget's count, from the metrics page.
  double Held() {
    return Sample(Get(metrics_, "/metrics"), "rexec_memory_budget_held_bytes");
  }

  // Starts the sampler of rexecd's RSS.
  void StartSampling() {
    sampler_ = std::thread([this] {
      while (!stop_sampling_.load()) {
        peak_ = std::max<int64_t>(peak_.load(), server_->RssBytes());
        absl::SleepFor(absl::Milliseconds(50));
      }
    });
  }
  void StopSampling() {
    stop_sampling_ = true;
    sampler_.join();
  }

  std::unique_ptr<RexecdProcess> server_;
  std::string metrics_;
  std::thread sampler_;
  std::atomic<bool> stop_sampling_{false};
  std::atomic<int64_t> peak_{0};
};

TEST_F(MemoryBudgetTest, EveryConsumerAtOnceStaysWithinTheBudget) {
  auto& stub = server_->stub();
  EXPECT_THAT(server_->WaitForLogLine("memory budget for calls"),
              HasSubstr("memory budget for calls: 256 MiB (--memory-budget)"));
  // gRPC's share, a quarter, is held from the start.
  EXPECT_EQ(Held(), kBudget / 4);
  const int64_t idle = server_->RssBytes();
  StartSampling();

  // Eight detached sessions writing without pause, their calls gone.
  for (int i = 0; i < 8; ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    auto stream = stub.Spawn(&ctx);
    v1::SpawnRequest start;
    start.mutable_start()->add_argv("cat");
    start.mutable_start()->add_argv("/dev/zero");
    start.mutable_start()->mutable_options()->set_detach(true);
    ASSERT_TRUE(stream->Write(start));
    v1::SpawnResponse started;
    EXPECT_TRUE(stream->Read(&started) && started.has_started())
        << stream->Finish().error_message();
    ctx.TryCancel();
    stream->Finish();
  }
  // Exec buffers (2 x 16 MiB each) must fit whole: past the budget, an
  // Exec is refused, naming it.
  std::vector<std::unique_ptr<Flood<v1::ExecRequest>>> execs;
  int refused = 0;
  for (int i = 0; i < 8; ++i) {
    auto exec = std::make_unique<Flood<v1::ExecRequest>>();
    exec->ctx.set_deadline(Deadline());
    exec->stream = stub.Exec(&exec->ctx);
    v1::ExecRequest start;
    start.mutable_start()->set_command(
        "head -c 16777216 /dev/zero; sleep 1002");
    start.mutable_start()->set_max_buffer(16 << 20);
    ASSERT_TRUE(exec->stream->Write(start));
    v1::ExecResponse response;
    if (exec->stream->Read(&response)) {
      EXPECT_TRUE(response.has_started());
      exec->writer = std::thread([] {});
      execs.push_back(std::move(exec));
      continue;
    }
    grpc::Status status = exec->stream->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_THAT(status.error_message(), HasSubstr("(--memory-budget)"));
    EXPECT_THAT(status.error_message(),
                HasSubstr("an Exec's output buffers (2 x max_buffer)"));
    ++refused;
  }
  EXPECT_GE(refused, 2) << "8 Execs of 32 MiB fit a budget of 256 MiB";
  EXPECT_GE(execs.size(), 2u);

  // Stdin to children that never read it: 1 MiB at a time, 64 MiB each.
  // Each holds 16 MiB here and a stream window in gRPC where the budget has
  // room for one, or is ended (see FloodedBudgetTest).
  std::vector<std::unique_ptr<Flood<v1::SpawnRequest>>> stdin_floods =
      StdinFloods(stub);
  ASSERT_EQ(stdin_floods.size(), 8u);
  // 60 Fork calls with messages queued: the child floods its channel with
  // 1 KB messages the client never reads.
  std::vector<std::unique_ptr<Flood<v1::ForkRequest>>> forks;
  {
    const v1::ForkRequest start =
        ShellFork(absl::StrCat("yes '\"", std::string(1000, 'f'), "\"' >&3"));
    for (int i = 0; i < 60; ++i) {
      forks.push_back(StartFlood(stub, start, v1::ForkRequest(), 0));
      ASSERT_NE(forks.back(), nullptr) << "fork " << i;
    }
  }
  absl::SleepFor(absl::Seconds(3));  // the floods fill what they may

  // Meanwhile a plain call, with stdin and output, runs as ever.
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline(absl::Seconds(20)));
    auto stream = stub.Spawn(&ctx);
    v1::SpawnRequest start, input;
    start.mutable_start()->add_argv("sh");
    start.mutable_start()->add_argv("-c");
    start.mutable_start()->add_argv("read x; echo got-$x; seq 100000 | wc -l");
    input.set_stdin("plain\n");
    ASSERT_TRUE(stream->Write(start));
    ASSERT_TRUE(stream->Write(input));
    stream->WritesDone();
    std::string out;
    std::optional<v1::ExitStatus> exit;
    v1::SpawnResponse r;
    while (stream->Read(&r)) {
      out += r.stdout();
      if (r.has_exit()) exit = r.exit();
    }
    EXPECT_TRUE(stream->Finish().ok());
    EXPECT_EQ(out, "got-plain\n100000\n");
    ASSERT_TRUE(exit.has_value());
    EXPECT_EQ(exit->code(), 0);
  }

  absl::SleepFor(absl::Seconds(2));
  StopSampling();
  std::cout << "rexecd: " << idle / kMiB << " MiB idle, " << peak_ / kMiB
            << " MiB at its peak; " << refused << " of 8 Execs refused\n";
  // Not under the sanitizers: ASan's quarantine keeps every frame freed
  // meanwhile.
  if (!kSanitized) {
    EXPECT_LT(peak_.load(), kBudget + kOverhead)
        << "rexecd grew from " << idle / kMiB << " MiB to " << peak_ / kMiB
        << " MiB";
  }
  EndFloods(stdin_floods);
  EndFloods(forks);
  EndFloods(execs);
  // Every call gave back what it held: gRPC's share and the running
  // sessions' rings are left.
  const double left = kBudget / 4 + 8 * 2 * kMiB;
  EXPECT_TRUE(Eventually([&] { return Held() == left; }))
      << Held() << " bytes held, not " << left;
}

// A fresh connection to rexecd, as another client has.
std::unique_ptr<v1::ChildProcess::Stub> OwnConnection(
    const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt("rexec.test.own_connection", 1);  // no subchannel sharing
  return v1::ChildProcess::NewStub(grpc::CreateCustomChannel(
      address, grpc::InsecureChannelCredentials(), args));
}

// Echoes one line through `cat` until `stop`, on its own connection:
// a client that is not flooding anything. Returns how its call ended.
grpc::Status EchoUntil(const std::string& address, std::atomic<bool>& stop,
                       int& round_trips) {
  auto stub = OwnConnection(address);
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline(absl::Seconds(120)));
  auto stream = stub->Spawn(&ctx);
  v1::SpawnRequest start, line;
  start.mutable_start()->add_argv("cat");
  line.set_stdin(std::string(1023, 'e') + "\n");
  if (!stream->Write(start)) return stream->Finish();
  v1::SpawnResponse r;
  while (!stop.load()) {
    if (!stream->Write(line)) break;
    size_t got = 0;
    while (got < 1024 && stream->Read(&r)) got += r.stdout().size();
    if (got < 1024) break;
    ++round_trips;
  }
  stream->WritesDone();
  while (stream->Read(&r)) {
  }
  return stream->Finish();
}

// Clients that keep sending to children that never read leave their data in
// gRPC, up to a stream window each. rexecd counts that window in the budget
// (grpc_memory.h), and where it has no room ends the sender, naming the
// budget. Without it, gRPC's quota fills, and gRPC cancels calls at random
// (RST_STREAM 11), innocent ones too. gRPC's own share is half the budget
// here: it covers what a server this busy has not read yet.
class FloodedBudgetTest : public MemoryBudgetTest {
 protected:
  std::string GrpcMemory() override { return "128MiB"; }
};

TEST_F(FloodedBudgetTest, SendersToChildrenThatNeverReadAreEndedNotOthers) {
  auto& stub = server_->stub();
  StartSampling();
  std::atomic<bool> stop{false};
  std::vector<std::thread> echoes;
  std::vector<grpc::Status> echo_status(4);
  std::vector<int> round_trips(4, 0);
  for (int i = 0; i < 4; ++i) {
    echoes.emplace_back([&, i] {
      echo_status[i] = EchoUntil(server_->address(), stop, round_trips[i]);
    });
  }
  // Stdin to `sleep`, 1 MiB at a time; Fork messages of 256 KiB to a child
  // that never reads its channel.
  std::vector<std::unique_ptr<Flood<v1::SpawnRequest>>> stdin_floods =
      StdinFloods(stub);
  ASSERT_EQ(stdin_floods.size(), 8u);
  std::vector<std::unique_ptr<Flood<v1::ForkRequest>>> forks;
  {
    const v1::ForkRequest start = ShellFork("exec sleep 1005");
    v1::ForkRequest message;
    message.mutable_message()->set_string_value(std::string(256 << 10, 'm'));
    for (int i = 0; i < 60; ++i) {
      forks.push_back(StartFlood(stub, start, message, 256));
      ASSERT_NE(forks.back(), nullptr) << "fork " << i;
    }
  }

  absl::SleepFor(absl::Seconds(3));  // the floods fill what they may
  const double stalled =
      Sample(Get(metrics_, "/metrics"), "rexec_memory_budget_stalled_streams");
  EXPECT_GE(stalled, 1);
  EXPECT_LE(stalled, 4) << "a window each, in 128 MiB";

  // A new client's first call works.
  {
    auto own = OwnConnection(server_->address());
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline(absl::Seconds(20)));
    auto stream = own->Spawn(&ctx);
    v1::SpawnRequest start;
    start.mutable_start()->add_argv("echo");
    start.mutable_start()->add_argv("new-client");
    ASSERT_TRUE(stream->Write(start));
    stream->WritesDone();
    std::string out;
    v1::SpawnResponse r;
    while (stream->Read(&r)) out += r.stdout();
    grpc::Status status = stream->Finish();
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(out, "new-client\n");
  }
  stop = true;
  for (auto& t : echoes) t.join();
  StopSampling();
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(echo_status[i].ok())
        << "echo " << i << ": " << echo_status[i].error_code() << " "
        << echo_status[i].error_message();
    EXPECT_GT(round_trips[i], 0) << "echo " << i;
  }
  // A flood whose writer stopped was ended, naming the budget; the others
  // still run (and are cancelled here).
  int ended = 0;
  auto check = [&](auto& floods) {
    for (auto& f : floods) {
      if (!f->written) f->ctx.TryCancel();
    }
    for (auto& f : floods) {
      f->writer.join();
      grpc::Status status = f->stream->Finish();
      if (status.error_code() == grpc::StatusCode::CANCELLED) continue;
      ++ended;
      EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
          << status.error_message();
      EXPECT_THAT(status.error_message(),
                  HasSubstr("(--memory-budget), and the stream window gRPC "
                            "holds for a call whose child does not take"));
    }
  };
  check(stdin_floods);
  check(forks);
  std::cout << "rexecd: " << peak_ / kMiB << " MiB at its peak; " << ended
            << " of 68 floods ended\n";
  EXPECT_GE(ended, 60) << "68 stalled floods fit a budget of 256 MiB";
  if (!kSanitized) {
    EXPECT_LT(peak_.load(), kBudget + kOverhead);
  }
  // What the calls held, windows too, came back.
  EXPECT_TRUE(Eventually([&] { return Held() == kBudget / 2; }))
      << Held() << " bytes held";
  EXPECT_EQ(
      Sample(Get(metrics_, "/metrics"), "rexec_memory_budget_stalled_streams"),
      0);
}

class SpentBudgetTest : public MemoryBudgetTest {
 protected:
  // A quarter for gRPC: 36 MiB for the calls.
  std::string Budget() override { return "48MiB"; }
  std::string GrpcMemory() override { return "12MiB"; }
};

TEST_F(SpentBudgetTest, OutputWaitsForRoomAndComesWhenThereIs) {
  auto& stub = server_->stub();
  // Two Execs reserve what the calls may hold: 32 MiB and 4 MiB.
  std::vector<std::unique_ptr<Flood<v1::ExecRequest>>> execs;
  execs.push_back(HoldingExec(stub, 16 << 20));
  execs.push_back(HoldingExec(stub, 2 << 20));
  // A response is counted until its write completes, which can be after the
  // client has read it: the Execs' `started` may still be in the count.
  ASSERT_TRUE(Eventually([&] { return Held() == 48 * kMiB; }))
      << Held() << " bytes held";
  // A Fork child sends one 2 MiB message: a call that holds no output
  // reads a little past the budget, then waits with what it holds.
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline());
  auto stream = stub.Fork(&ctx);
  ASSERT_TRUE(stream->Write(
      ShellFork("{ printf '\"'; head -c 2097152 /dev/zero | tr '\\0' a; "
                "printf '\"\\n'; } >&3; exec sleep 1004")));
  v1::ForkResponse response;
  ASSERT_TRUE(stream->Read(&response) && response.has_started());
  std::atomic<bool> arrived{false};
  std::thread reader([&] {
    v1::ForkResponse r;
    while (stream->Read(&r)) {
      if (r.has_message()) {
        EXPECT_EQ(r.message().string_value(), std::string(2 << 20, 'a'));
        arrived = true;
      }
    }
  });
  absl::SleepFor(absl::Seconds(1));
  EXPECT_FALSE(arrived.load()) << "read past a spent budget";
  EXPECT_GT(Held(), 48 * kMiB);  // the little past it
  EXPECT_LE(Held(), 48 * kMiB + (64 << 10));
  // The Execs go: the message comes.
  EndFloods(execs);
  EXPECT_TRUE(Eventually([&] { return arrived.load(); }));
  ctx.TryCancel();
  reader.join();
  stream->Finish();
}

}  // namespace
}  // namespace rexec::testing
