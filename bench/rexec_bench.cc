// rexec_bench: rexec against the same work done locally, measured in the
// same run on the same machine, reported as ratios. It starts its own rexecd
// on loopback, runs each row's rexec side and local side interleaved (so
// that drift in the machine's state hits both), and prints one table plus
// a JSON file with the same figures.
//
// Why not Google Benchmark: its unit is one benchmark with aggregates over
// repetitions; these rows pair two measurements, take percentiles of single
// calls, and read another process's RSS and CPU, which it does not model.
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/child_session.h"
#include "client/connection.h"
#include "common/release_mutexes.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "server/process/child.h"
#include "server/process/launcher.h"

namespace rexec::bench {
namespace {

// ---- figures -------------------------------------------------------------

struct Figure {
  double p50 = 0;
  double p99 = 0;  // for rates: the 1st percentile, the bad end
};

// Percentiles of `values`; for rates (higher is better) the bad end is low.
Figure Summarize(std::vector<double> values, bool higher_is_better) {
  if (values.empty()) return {};
  std::sort(values.begin(), values.end());
  auto at = [&](double q) {
    size_t i = static_cast<size_t>(q * (values.size() - 1) + 0.5);
    return values[std::min(i, values.size() - 1)];
  };
  return {at(0.5), higher_is_better ? at(0.01) : at(0.99)};
}

constexpr char kDefaultRatio[] = "rexec p50 / local p50";

struct Row {
  Row(std::string name, std::string unit)
      : name(std::move(name)), unit(std::move(unit)) {}

  std::string name;
  std::string unit;
  Figure rexec;
  Figure local;
  std::string local_name;  // what the baseline is
  double ratio = 0;        // rexec p50 / local p50 (or as `ratio_of` says)
  std::string ratio_of = kDefaultRatio;
  std::string target;        // on the ratio, e.g. "<= 1.3"
  std::string value_target;  // on rexec p50 itself, e.g. ">= 1"
  // rexec's own cost, rexec p50 - local p50 - the floor's p50 (gRPC's own
  // cost for a call of the same shape), in the row's unit; and its target,
  // if any, in floors. The floor is the round trip's (floor_ms) unless
  // `own_floor` gives the row's own (a CPU row's).
  std::optional<double> own;
  std::optional<double> own_target;
  std::optional<double> own_floor;
  bool met = true;
};

bool Meets(double value, const std::string& target) {
  if (target.empty()) return true;
  double bound = std::stod(target.substr(3));
  return target.rfind("<=", 0) == 0 ? value <= bound : value >= bound;
}

void Finish(Row& row) {
  if (row.ratio_of == kDefaultRatio && row.local.p50 != 0) {
    row.ratio = row.rexec.p50 / row.local.p50;
  }
  row.met =
      Meets(row.ratio, row.target) && Meets(row.rexec.p50, row.value_target);
}

// The floor's p50, once measured: what each round trip's own cost is
// counted against.
std::optional<double> floor_ms;

// rexec's own cost in a round trip of `rexec_ms` whose local work takes
// `local_ms`: what is neither the work nor gRPC's own cost.
void SetOwnCost(Row& row, double rexec_ms, double local_ms) {
  if (!floor_ms) return;
  row.own = rexec_ms - local_ms - *floor_ms;
  row.own_target = 1;
  row.met = row.met && *row.own <= *row.own_target * *floor_ms;
}

// ---- the server ----------------------------------------------------------

// The figure after `key` in a /proc file of "Key: N kB" lines, in bytes;
// -1 when it has none.
int64_t ProcBytes(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  std::string word;
  while (in >> word) {
    if (word == key) {
      int64_t kb;
      in >> kb;
      return kb * 1024;
    }
  }
  return -1;
}

// A server on 127.0.0.1:0 (rexecd, or this binary's floor service), its
// log drained until it says where it listens. Killed (SIGTERM) on
// destruction.
class Server {
 public:
  explicit Server(std::vector<std::string> argv) {
    process::SpawnOptions options;
    options.argv = std::move(argv);
    absl::StatusOr<process::Child> child = process::Child::Spawn(options);
    if (!child.ok()) {
      std::fprintf(stderr, "rexec_bench: %s\n",
                   std::string(child.status().message()).c_str());
      std::exit(1);
    }
    child_.emplace(std::move(*child));
    server_pid_ = child_->pid();
    int log_fd = child_->stderr_fd().Release();
    fcntl(log_fd, F_SETFL, fcntl(log_fd, F_GETFL) & ~O_NONBLOCK);
    FILE* log = fdopen(log_fd, "r");
    char line[4096];
    while (fgets(line, sizeof line, log) != nullptr) {
      // rexecd as init of its own PID namespace: its pid out here, where
      // its CPU and memory are read (the process started is its keeper).
      const char* pid = std::strstr(line, "(pid ");
      if (pid != nullptr && std::strstr(pid, " outside it") != nullptr) {
        server_pid_ = std::atoi(pid + 5);
      }
      const char* at = std::strstr(line, "listening on ");
      if (at != nullptr) {
        address_ = std::string(at + 13);
        address_.erase(address_.find_last_not_of("\r\n") + 1);
        break;
      }
    }
    if (address_.empty()) {
      std::fprintf(stderr, "rexec_bench: %s did not start\n",
                   options.argv[0].c_str());
      std::exit(1);
    }
    drain_ = std::thread([log] {
      char buf[4096];
      while (fgets(buf, sizeof buf, log) != nullptr) {
      }
      fclose(log);
    });
    stub_ = v1::ChildProcess::NewStub(client::Connect(address_));
  }
  ~Server() {
    kill(child_->pid(), SIGTERM);  // the keeper passes it on
    child_->Wait().IgnoreError();
    drain_.join();
  }

  v1::ChildProcess::Stub& stub() { return *stub_; }
  // The server itself (not the keeper of rexecd's namespace).
  pid_t pid() const { return server_pid_; }
  int64_t RssBytes() const {
    return ProcBytes("/proc/" + std::to_string(pid()) + "/status", "VmRSS:");
  }
  // utime + stime, in clock ticks.
  int64_t CpuTicks() const {
    std::ifstream in("/proc/" + std::to_string(pid()) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), {});
    std::istringstream rest(stat.substr(stat.rfind(')') + 2));
    std::string field;
    int64_t utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) utime = std::stoll(field);
      if (i == 15) stime = std::stoll(field);
    }
    return utime + stime;
  }

 private:
  std::optional<process::Child> child_;
  pid_t server_pid_ = -1;
  std::string address_;
  std::thread drain_;
  std::unique_ptr<v1::ChildProcess::Stub> stub_;
};

// ---- the floor -----------------------------------------------------------

// gRPC's own cost for a call of the Spawn shape: a service that answers a
// Spawn stream as rexecd answers a spawn of /bin/true (`started`, then,
// once the client half-closed, `exit` 0 and OK in one batch) with nothing
// behind it, on the API rexecd uses: an async service whose calls are
// driven by completion-queue tags on one thread per queue. It runs as a
// process of its own (--serve-floor), so that its CPU is read as rexecd's
// is.
class FloorCall {
 public:
  using Service = v1::ChildProcess::AsyncService;
  FloorCall(Service* service, grpc::ServerCompletionQueue* cq)
      : service_(service), cq_(cq) {
    service_->RequestSpawn(&ctx_, &stream_, cq_, cq_, this);
  }

  // One step per tag that comes back.
  void Step(bool ok) {
    switch (state_) {
      case State::kRequested:
        new FloorCall(service_, cq_);
        if (!ok) return delete this;
        state_ = State::kStarting;
        stream_.Read(&request_, this);
        return;
      case State::kStarting:
        if (!ok) return Finish();
        started_.mutable_started()->set_pid(1);
        state_ = State::kStarted;
        stream_.Write(started_, this);
        return;
      case State::kStarted:
        state_ = State::kReading;
        stream_.Read(&request_, this);
        return;
      case State::kReading:
        if (ok) return stream_.Read(&request_, this);  // stdin, dropped
        exit_.mutable_exit()->set_code(0);
        state_ = State::kDone;
        stream_.WriteAndFinish(exit_, grpc::WriteOptions(), grpc::Status::OK,
                               this);
        return;
      case State::kDone:
        return delete this;
    }
  }

 private:
  enum class State { kRequested, kStarting, kStarted, kReading, kDone };
  void Finish() {
    state_ = State::kDone;
    stream_.Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no start"),
                   this);
  }

  Service* const service_;
  grpc::ServerCompletionQueue* const cq_;
  grpc::ServerContext ctx_;
  grpc::ServerAsyncReaderWriter<v1::SpawnResponse, v1::SpawnRequest> stream_{
      &ctx_};
  State state_ = State::kRequested;
  v1::SpawnRequest request_;
  v1::SpawnResponse started_;
  v1::SpawnResponse exit_;
};

// --serve-floor: the floor service on 127.0.0.1:0 until SIGTERM.
// One queue and its thread per core, as rexecd has.
int ServeFloor() {
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, nullptr);  // before gRPC's threads
  FloorCall::Service service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(&service);
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> cqs;
  const unsigned workers = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < workers; ++i) {
    cqs.push_back(builder.AddCompletionQueue());
  }
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) return 1;
  std::vector<std::thread> threads;
  for (auto& cq : cqs) {
    new FloorCall(&service, cq.get());
    threads.emplace_back([cq = cq.get()] {
      void* tag;
      bool ok;
      while (cq->Next(&tag, &ok)) static_cast<FloorCall*>(tag)->Step(ok);
    });
  }
  std::fprintf(stderr, "listening on 127.0.0.1:%d\n", port);
  int signal_number = 0;
  sigwait(&term, &signal_number);
  server->Shutdown();
  for (auto& cq : cqs) cq->Shutdown();
  for (auto& t : threads) t.join();
  return 0;
}

// ---- the work, both ways -------------------------------------------------

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

v1::SpawnStart SpawnOf(std::vector<std::string> argv) {
  v1::SpawnStart start;
  for (auto& a : argv) start.add_argv(a);
  return start;
}

// Start to exit of one Spawn; returns bytes of stdout seen.
int64_t RemoteSpawn(v1::ChildProcess::Stub& stub, const v1::SpawnStart& start,
                    int64_t stdin_bytes = 0, size_t chunk = 64 << 10) {
  client::SpawnSession session(stub, start);
  std::thread writer;
  if (stdin_bytes > 0) {
    writer = std::thread([&] {
      const std::string data(chunk, 'x');
      for (int64_t sent = 0; sent < stdin_bytes; sent += chunk) {
        if (!session.WriteStdin(data)) break;
      }
      session.WritesDone();
    });
  } else {
    session.WritesDone();
  }
  int64_t out = 0;
  v1::SpawnResponse r;
  while (session.Read(&r)) out += r.stdout().size();
  if (writer.joinable()) writer.join();
  grpc::Status status = session.Finish();
  if (!status.ok()) {
    std::fprintf(stderr, "rexec_bench: spawn: %s\n",
                 status.error_message().c_str());
    std::exit(1);
  }
  return out;
}

// The same, locally: our process layer (its launcher), pipes, wait.
int64_t LocalSpawn(const std::vector<std::string>& argv,
                   int64_t stdin_bytes = 0, size_t chunk = 64 << 10) {
  process::SpawnOptions options;
  options.argv = argv;
  absl::StatusOr<process::Child> child = process::Child::Spawn(options);
  if (!child.ok()) std::exit(1);
  int in = child->stdin_fd().Get();
  fcntl(in, F_SETFL, fcntl(in, F_GETFL) & ~O_NONBLOCK);
  std::thread writer([&] {
    const std::string data(chunk, 'x');
    for (int64_t sent = 0; sent < stdin_bytes;) {
      ssize_t n = write(in, data.data(), data.size());
      if (n <= 0) break;
      sent += n;
    }
    child->stdin_fd().Reset();
  });
  int64_t out = 0;
  std::string buffer(64 << 10, '\0');
  pollfd fds[2] = {{child->stdout_fd().Get(), POLLIN, 0},
                   {child->stderr_fd().Get(), POLLIN, 0}};
  int open = 2;
  while (open > 0) {
    poll(fds, 2, -1);
    for (pollfd& p : fds) {
      if (p.fd < 0 || p.revents == 0) continue;
      ssize_t n = read(p.fd, buffer.data(), buffer.size());
      if (n > 0) {
        if (p.fd == child->stdout_fd().Get()) out += n;
      } else if (n == 0 || errno != EAGAIN) {
        p.fd = -1;
        --open;
      }
    }
  }
  writer.join();
  child->Wait().IgnoreError();
  return out;
}

// Half-closes a session and reads it to its end: a call whose result does
// not matter, only its time.
template <typename Session>
grpc::Status Drain(Session& session) {
  session.WritesDone();
  typename Session::Response r;
  while (session.Read(&r)) {
  }
  return session.Finish();
}

template <typename F>
double TimeMs(F&& f) {
  absl::Time start = absl::Now();
  f();
  return Ms(absl::Now() - start);
}

// ---- rows ----------------------------------------------------------------

// The local spawn's p50, once measured: the work in every round trip.
std::optional<double> local_spawn_ms;

// The floor (the same client's Spawn against the floor service, which
// starts nothing), then the round trip against the local spawn, sampled in
// turn so that drift hits all three.
std::vector<Row> SpawnRoundTrip(Server& server, Server& floor, int n,
                                std::vector<double>* unloaded) {
  std::vector<std::string> argv = {"/bin/true"};
  v1::SpawnStart start = SpawnOf(argv);
  for (int i = 0; i < 20; ++i) {  // warm-up: connections, page cache
    RemoteSpawn(server.stub(), start);
    RemoteSpawn(floor.stub(), start);
    LocalSpawn(argv);
  }
  std::vector<double> remote, local, bare;
  for (int i = 0; i < n; ++i) {
    remote.push_back(TimeMs([&] { RemoteSpawn(server.stub(), start); }));
    local.push_back(TimeMs([&] { LocalSpawn(argv); }));
    bare.push_back(TimeMs([&] { RemoteSpawn(floor.stub(), start); }));
  }
  *unloaded = remote;
  Row floor_row{"floor: bare gRPC call of the Spawn shape", "ms"};
  floor_row.local_name = "none: gRPC's own cost, the same client";
  floor_row.rexec = Summarize(bare, false);
  floor_row.ratio_of = "none";
  floor_ms = floor_row.rexec.p50;
  Row row{"spawn /bin/true round trip", "ms"};
  row.local_name = "the same spawned here (launcher) + pipes + wait";
  // The target is rexec's own cost, at most one floor (SetOwnCost).
  row.rexec = Summarize(remote, false);
  row.local = Summarize(local, false);
  local_spawn_ms = row.local.p50;
  Finish(row);
  SetOwnCost(row, row.rexec.p50, row.local.p50);
  return {floor_row, row};
}

// Calls per second with `in_flight` callers, over `reps` runs of `run`;
// `calls`, when given, counts them all.
std::vector<double> Rate(int in_flight, absl::Duration run, int reps,
                         const std::function<void()>& call,
                         int64_t* calls = nullptr) {
  std::vector<double> rates;
  for (int rep = 0; rep < reps; ++rep) {
    std::atomic<int64_t> done{0};
    absl::Time stop = absl::Now() + run;
    std::vector<std::thread> threads;
    absl::Time start = absl::Now();
    for (int t = 0; t < in_flight; ++t) {
      threads.emplace_back([&] {
        while (absl::Now() < stop) {
          call();
          ++done;
        }
      });
    }
    for (auto& t : threads) t.join();
    rates.push_back(done / absl::ToDoubleSeconds(absl::Now() - start));
    if (calls != nullptr) *calls += done;
  }
  return rates;
}

// `calls_per_second` calls, spread evenly over `run`, by `in_flight`
// callers; returns how many were made, and in `*took` how long they took.
// For a server that could go faster, what a call costs at another's pace:
// a busy server wakes once for many completions, an idle one once or more
// for each.
int64_t PacedCalls(int in_flight, absl::Duration run, double calls_per_second,
                   const std::function<void()>& call, absl::Duration* took) {
  const absl::Duration every = absl::Seconds(1 / calls_per_second);
  const absl::Time start = absl::Now();
  const int64_t total =
      static_cast<int64_t>(absl::ToDoubleSeconds(run) * calls_per_second);
  std::atomic<int64_t> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < in_flight; ++t) {
    threads.emplace_back([&] {
      for (int64_t i = next++; i < total; i = next++) {
        absl::SleepFor(start + i * every - absl::Now());
        call();
      }
    });
  }
  for (auto& t : threads) t.join();
  *took = absl::Now() - start;
  return total;
}

// What a call costs with no process in it: Spawn of a program that does not
// exist ends at the PATH lookup with NOT_FOUND. The rest of a round trip
// is the child's own cost.
Row CallFloor(Server& server, int n) {
  Row row{"no process: spawn of a missing program (NOT_FOUND)", "ms"};
  row.local_name = "local lookup of the same";
  v1::SpawnStart start = SpawnOf({"/nonexistent/program"});
  std::vector<double> remote, local;
  for (int i = 0; i < n; ++i) {
    remote.push_back(TimeMs([&] {
      client::SpawnSession session(server.stub(), start);
      Drain(session);
    }));
    local.push_back(TimeMs([&] {
      process::SpawnOptions options;
      options.argv = {"/nonexistent/program"};
      process::Child::Spawn(options).status().IgnoreError();
    }));
  }
  row.rexec = Summarize(remote, false);
  row.local = Summarize(local, false);
  Finish(row);
  return row;
}

// CPU time of `server` per call of `calls` made while it went from
// `ticks_before`, in microseconds.
double CpuMicrosPerCall(const Server& server, int64_t ticks_before,
                        int64_t calls) {
  const double ticks = static_cast<double>(server.CpuTicks() - ticks_before);
  return calls == 0 ? 0 : ticks * 1e6 / sysconf(_SC_CLK_TCK) / calls;
}

// This process's CPU time (all its threads), in microseconds.
double OwnCpuMicros() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return absl::ToDoubleMicroseconds(absl::DurationFromTimeval(usage.ru_utime) +
                                    absl::DurationFromTimeval(usage.ru_stime));
}

std::vector<Row> SpawnThroughput(Server& server, Server& floor, int reps) {
  std::vector<std::string> argv = {"/bin/true"};
  v1::SpawnStart start = SpawnOf(argv);
  // The local rate, and what each local spawn costs the process that
  // makes it (this one: its gRPC threads are idle meanwhile).
  int64_t local_calls = 0;
  const double local_cpu = OwnCpuMicros();
  std::vector<double> local = Rate(
      2, absl::Seconds(2), reps, [&] { LocalSpawn(argv); }, &local_calls);
  const double local_cpu_per_spawn =
      (OwnCpuMicros() - local_cpu) / std::max<int64_t>(local_calls, 1);
  std::vector<Row> rows;
  int64_t calls = 0;
  const int64_t ticks = server.CpuTicks();
  const absl::Time began = absl::Now();
  for (int in_flight : {1, 8, 64}) {
    Row row{absl::StrCat("spawn /bin/true rate, ", in_flight, " in flight"),
            "calls/s"};
    row.local_name = "local spawning, 2 threads";
    if (in_flight >= 8) row.target = ">= 0.7";
    row.rexec = Summarize(Rate(in_flight, absl::Seconds(2), reps,
                               [&] { RemoteSpawn(server.stub(), start); },
                               &calls),
                          true);
    row.local = Summarize(local, true);
    Finish(row);
    rows.push_back(row);
  }
  const double rexec_rate = calls / absl::ToDoubleSeconds(absl::Now() - began);
  // What a call costs the server: rexecd over the rows above, against the
  // floor service over the same calls at 8 in flight.
  Row cpu{"server CPU per spawn, over the rate rows", "us"};
  cpu.local_name = "the floor service's CPU per call, 8 in flight";
  cpu.rexec.p50 = cpu.rexec.p99 = CpuMicrosPerCall(server, ticks, calls);
  int64_t floor_calls = 0;
  const int64_t floor_ticks = floor.CpuTicks();
  Rate(8, absl::Seconds(2), reps, [&] { RemoteSpawn(floor.stub(), start); },
       &floor_calls);
  cpu.local.p50 = cpu.local.p99 =
      CpuMicrosPerCall(floor, floor_ticks, floor_calls);
  cpu.target = "<= 2";
  Finish(cpu);
  rows.push_back(cpu);

  // What of rexecd's CPU is neither gRPC's (the floor's, above) nor the
  // spawn's own: the spawning process's share of a local spawn (launcher
  // round trip, pipes, wait), as the round trip's own cost is counted.
  Row own{"server CPU per spawn, against local spawning", "us"};
  own.local_name =
      "this process's CPU per local spawn (launcher, pipes, wait), 2 threads";
  own.rexec = cpu.rexec;
  own.local.p50 = own.local.p99 = local_cpu_per_spawn;
  Finish(own);
  own.own = own.rexec.p50 - own.local.p50 - cpu.local.p50;
  own.own_floor = cpu.local.p50;
  rows.push_back(own);

  // The same, but with the floor service called at rexec's own pace (its
  // mean rate over the rate rows) rather than as fast as it answers. The
  // row names the rate it asked for and the one it got.
  Row paced{"server CPU per spawn, floor at rexec's rate", "us"};
  paced.rexec = cpu.rexec;
  const int64_t paced_ticks = floor.CpuTicks();
  absl::Duration took;
  const int64_t paced_calls = PacedCalls(
      8, absl::Seconds(2) * reps, rexec_rate,
      [&] { RemoteSpawn(floor.stub(), start); }, &took);
  paced.local_name = absl::StrCat(
      "the floor service's CPU per call, 8 in flight, paced at ",
      static_cast<int>(rexec_rate), " calls/s (rexec's mean): ",
      static_cast<int>(paced_calls / absl::ToDoubleSeconds(took)), " calls/s");
  paced.local.p50 = paced.local.p99 =
      CpuMicrosPerCall(floor, paced_ticks, paced_calls);
  Finish(paced);
  rows.push_back(paced);
  return rows;
}

// GB/s (1e9 bytes per second) of `bytes` through `run`.
double GBps(int64_t bytes, double ms) { return bytes / (ms / 1000) / 1e9; }

Row StdoutThroughput(Server& server, int64_t bytes, int reps) {
  Row row{"stdout throughput, child to client", "GB/s"};
  row.local_name = "parent reading the child's pipe";
  row.target = ">= 0.7";
  row.value_target = ">= 1";
  std::vector<std::string> argv = {"head", "-c", std::to_string(bytes),
                                   "/dev/zero"};
  v1::SpawnStart start = SpawnOf(argv);
  std::vector<double> remote, local;
  for (int i = 0; i < reps; ++i) {
    int64_t got = 0;
    remote.push_back(
        GBps(bytes, TimeMs([&] { got = RemoteSpawn(server.stub(), start); })));
    if (got != bytes) std::fprintf(stderr, "rexec_bench: short stdout\n");
    local.push_back(GBps(bytes, TimeMs([&] { LocalSpawn(argv); })));
  }
  row.rexec = Summarize(remote, true);
  row.local = Summarize(local, true);
  Finish(row);
  return row;
}

Row StdinThroughput(Server& server, int64_t bytes, int reps, size_t chunk) {
  Row row{absl::StrCat("stdin throughput, client to child (", chunk >> 10,
                       " KiB messages)"),
          "GB/s"};
  row.local_name = "parent writing the child's pipe";
  std::vector<std::string> argv = {"sh", "-c", "exec cat >/dev/null"};
  v1::SpawnStart start = SpawnOf(argv);
  std::vector<double> remote, local;
  for (int i = 0; i < reps; ++i) {
    remote.push_back(GBps(bytes, TimeMs([&] {
                            RemoteSpawn(server.stub(), start, bytes, chunk);
                          })));
    local.push_back(
        GBps(bytes, TimeMs([&] { LocalSpawn(argv, bytes, chunk); })));
  }
  row.rexec = Summarize(remote, true);
  row.local = Summarize(local, true);
  Finish(row);
  return row;
}

// The machine's unreclaimable kernel memory (pipes, sockets, processes'
// kernel objects), in bytes.
int64_t KernelUnreclaimableBytes() {
  return ProcBytes("/proc/meminfo", "SUnreclaim:");
}

std::vector<Row> Scale(Server& server, int calls, int n,
                       std::vector<double> unloaded) {
  std::vector<Row> rows;
  v1::SpawnStart start = SpawnOf({"/bin/true"});
  if (unloaded.empty()) {  // the round-trip rows were not run
    for (int i = 0; i < n; ++i) {
      unloaded.push_back(TimeMs([&] { RemoteSpawn(server.stub(), start); }));
    }
  }
  int64_t ticks_before = server.CpuTicks();
  absl::SleepFor(absl::Seconds(10));
  const double idle_cpu_before =
      100.0 * (server.CpuTicks() - ticks_before) / sysconf(_SC_CLK_TCK) / 10;
  int64_t rss_before = server.RssBytes();
  int64_t kernel_before = KernelUnreclaimableBytes();
  std::vector<std::unique_ptr<client::SpawnSession>> sessions;
  for (int i = 0; i < calls; ++i) {
    sessions.push_back(std::make_unique<client::SpawnSession>(
        server.stub(), SpawnOf({"cat"})));
    v1::SpawnResponse r;
    if (!sessions.back()->Read(&r)) {
      std::fprintf(stderr, "rexec_bench: idle call %d failed: %s\n", i,
                   sessions.back()->Finish().error_message().c_str());
      std::exit(1);
    }
  }
  absl::SleepFor(absl::Seconds(1));
  int64_t rss_after = server.RssBytes();
  int64_t kernel_after = KernelUnreclaimableBytes();
  Row rss{absl::StrCat("server RSS per idle call (", calls, " cats)"), "KiB"};
  rss.rexec.p50 = rss.rexec.p99 = (rss_after - rss_before) / 1024.0 / calls;
  rss.ratio = rss.rexec.p50;
  rss.ratio_of = "KiB per call";
  rss.target = "<= 32";
  Finish(rss);
  rows.push_back(rss);
  // Not rexecd's RSS, but charged to its cgroup all the same: each call's
  // pipes, socket buffers and child (the whole machine's, so noisy).
  Row kernel{absl::StrCat("kernel memory per idle call (", calls,
                          " cats, unreclaimable slab)"),
             "KiB"};
  kernel.local_name = "/proc/meminfo SUnreclaim, before and after";
  kernel.rexec.p50 = kernel.rexec.p99 =
      (kernel_after - kernel_before) / 1024.0 / calls;
  kernel.ratio = kernel.rexec.p50;
  kernel.ratio_of = "KiB per call";
  Finish(kernel);
  // No row rather than a wrong one where /proc/meminfo has no figure.
  if (kernel_before >= 0 && kernel_after >= 0) rows.push_back(kernel);

  const absl::Duration idle = absl::Seconds(10);
  int64_t ticks = server.CpuTicks();
  absl::SleepFor(idle);
  ticks = server.CpuTicks() - ticks;
  Row cpu{absl::StrCat("server CPU while ", calls, " calls sit idle"), "%"};
  cpu.local_name = "the same server before, no calls open";
  cpu.rexec.p50 = cpu.rexec.p99 =
      100.0 * ticks / sysconf(_SC_CLK_TCK) / absl::ToDoubleSeconds(idle);
  cpu.local.p50 = cpu.local.p99 = idle_cpu_before;
  cpu.ratio = cpu.rexec.p50 - cpu.local.p50;
  cpu.ratio_of = "difference, % of one core (one 10 ms tick in 10 s = 0.1)";
  cpu.target = "<= 0.2";
  Finish(cpu);
  rows.push_back(cpu);

  Row loaded{absl::StrCat("spawn /bin/true round trip, ", calls, " calls open"),
             "ms"};
  loaded.local_name = "the same, no calls open";
  std::vector<double> remote;
  for (int i = 0; i < n; ++i) {
    remote.push_back(TimeMs([&] { RemoteSpawn(server.stub(), start); }));
  }
  loaded.rexec = Summarize(remote, false);
  loaded.local = Summarize(unloaded, false);
  loaded.ratio = loaded.rexec.p99 / loaded.local.p50;
  loaded.ratio_of = "loaded p99 / unloaded p50";
  loaded.target = "<= 1.5";
  Finish(loaded);
  if (local_spawn_ms) SetOwnCost(loaded, loaded.rexec.p50, *local_spawn_ms);
  rows.push_back(loaded);

  for (auto& session : sessions) session->Cancel();
  return rows;
}

Row ExecVsSpawn(Server& server, int n) {
  Row row{"exec 'true' vs spawn /bin/sh -c true", "ms"};
  row.local_name = "spawn /bin/sh -c true (via rexec)";
  row.target = "<= 1.1";
  v1::ExecStart exec;
  exec.set_command("true");
  v1::SpawnStart spawn = SpawnOf({"/bin/sh", "-c", "true"});
  std::vector<double> remote, local;
  for (int i = 0; i < n; ++i) {
    remote.push_back(TimeMs([&] {
      client::ExecSession session(server.stub(), exec);
      Drain(session);
    }));
    local.push_back(TimeMs([&] { RemoteSpawn(server.stub(), spawn); }));
  }
  row.rexec = Summarize(remote, false);
  row.local = Summarize(local, false);
  Finish(row);
  return row;
}

Row ForkVsLocalFork(Server& server, const std::string& bench_dir, int n) {
  Row row{"fork a module that sends one message", "ms"};
  row.local_name = "local node child_process.fork";
  row.target = "<= 1.1";
  v1::ForkStart start;
  start.set_module("fork_once.js");
  start.mutable_options()->set_cwd(bench_dir);
  std::vector<double> remote;
  for (int i = 0; i < n; ++i) {
    remote.push_back(TimeMs([&] {
      client::ForkSession session(server.stub(), start);
      session.WritesDone();
      v1::ForkResponse r;
      bool message = false;
      while (session.Read(&r)) message |= r.has_message();
      if (!message || !session.Finish().ok()) {
        std::fprintf(stderr, "rexec_bench: fork failed\n");
        std::exit(1);
      }
    }));
  }
  // The baseline forks from a Node parent, as a Node program would.
  process::SpawnOptions options;
  options.argv = {"node", bench_dir + "/fork_local.js",
                  bench_dir + "/fork_once.js", std::to_string(n)};
  absl::StatusOr<process::Child> child = process::Child::Spawn(options);
  std::string json;
  if (child.ok()) {
    child->stdin_fd().Reset();
    char buf[4096];
    ssize_t got;
    int fd = child->stdout_fd().Get();
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    while ((got = read(fd, buf, sizeof buf)) > 0) json.append(buf, got);
    child->Wait().IgnoreError();
  }
  google::protobuf::Value times;
  std::vector<double> local;
  if (google::protobuf::util::JsonStringToMessage(json, &times).ok()) {
    for (const auto& v : times.list_value().values()) {
      local.push_back(v.number_value());
    }
  }
  row.rexec = Summarize(remote, false);
  row.local = Summarize(local, false);
  Finish(row);
  return row;
}

// ---- output --------------------------------------------------------------

// The floor a row's own cost is counted in; none when it has no own cost.
std::optional<double> OwnFloor(const Row& row) {
  if (!row.own) return std::nullopt;
  if (row.own_floor) return row.own_floor;
  return floor_ms;
}

std::string Num(double v) {
  if (v == 0) return "0";
  return v >= 100 ? absl::StrFormat("%.0f", v) : absl::StrFormat("%.3g", v);
}

void Print(const std::vector<Row>& rows) {
  std::printf("%-50s %-8s %10s %10s %10s %10s %8s %-16s %-28s %s\n", "row",
              "unit", "rexec p50", "rexec p99", "local p50", "local p99",
              "ratio", "own (floors)", "target", "");
  for (const Row& r : rows) {
    std::string target = r.target.empty() ? "" : "ratio " + r.target;
    if (!r.value_target.empty()) {
      absl::StrAppend(&target, target.empty() ? "" : ", ", "p50 ",
                      r.value_target);
    }
    std::string own;
    if (std::optional<double> floor = OwnFloor(r)) {
      own = absl::StrCat(Num(*r.own), " (", Num(*r.own / *floor), ")");
      if (r.own_target) {
        absl::StrAppend(&target, target.empty() ? "" : ", ",
                        "own <= ", Num(*r.own_target));
      }
    }
    std::printf("%-50s %-8s %10s %10s %10s %10s %8s %-16s %-28s %s\n",
                r.name.c_str(), r.unit.c_str(), Num(r.rexec.p50).c_str(),
                Num(r.rexec.p99).c_str(), Num(r.local.p50).c_str(),
                Num(r.local.p99).c_str(), Num(r.ratio).c_str(), own.c_str(),
                target.c_str(),
                target.empty() ? "" : (r.met ? "met" : "MISSED"));
  }
  std::printf(
      "\nratio: rexec p50 / local p50 unless the row says otherwise (see "
      "the JSON); for rates the p99 column is the low end (1st "
      "percentile). own: rexec p50 - local p50 - the floor's p50, and in "
      "floors.\n");
}

void WriteJson(const std::vector<Row>& rows, const std::string& path) {
  google::protobuf::Value root;
  auto* list = root.mutable_list_value();
  for (const Row& r : rows) {
    auto* fields = list->add_values()->mutable_struct_value()->mutable_fields();
    (*fields)["row"].set_string_value(r.name);
    (*fields)["unit"].set_string_value(r.unit);
    (*fields)["rexec_p50"].set_number_value(r.rexec.p50);
    (*fields)["rexec_p99"].set_number_value(r.rexec.p99);
    (*fields)["local"].set_string_value(r.local_name);
    (*fields)["local_p50"].set_number_value(r.local.p50);
    (*fields)["local_p99"].set_number_value(r.local.p99);
    (*fields)["ratio"].set_number_value(r.ratio);
    (*fields)["ratio_of"].set_string_value(r.ratio_of);
    (*fields)["target"].set_string_value(r.target);
    (*fields)["value_target"].set_string_value(r.value_target);
    if (std::optional<double> floor = OwnFloor(r)) {
      (*fields)["own"].set_number_value(*r.own);
      (*fields)["own_floors"].set_number_value(*r.own / *floor);
      if (r.own_target) {
        (*fields)["own_target_floors"].set_number_value(*r.own_target);
      }
    }
    (*fields)["met"].set_bool_value(r.met);
  }
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(root, &json, options).ok())
    return;
  std::ofstream(path) << json;
}

}  // namespace
}  // namespace rexec::bench

int main(int argc, char** argv) {
  rexec::ReleaseMutexes();
  if (argc == 2 && std::string(argv[1]) == "--serve-floor") {
    return rexec::bench::ServeFloor();
  }
  // Before any thread: the launcher is a fork without an exec.
  if (absl::Status started = rexec::process::Launcher::Start(); !started.ok()) {
    std::fprintf(stderr, "%s\n", std::string(started.message()).c_str());
    return 1;
  }
  using namespace rexec::bench;
  std::string rexecd = REXEC_BENCH_REXECD;
  std::string bench_dir = REXEC_BENCH_DIR;
  std::string json_path = "bench.json";
  int n = 300;
  int reps = 5;
  int64_t bytes = int64_t{1} << 30;
  int idle_calls = 4500;
  CLI::App app{"rexec_bench: rexec against local, as ratios"};
  app.add_option("--rexecd", rexecd, "the server binary")
      ->capture_default_str();
  app.add_option("--json", json_path, "where to write the figures")
      ->capture_default_str();
  app.add_option("--samples", n, "single calls per latency row")
      ->capture_default_str();
  app.add_option("--reps", reps, "runs per throughput row")
      ->capture_default_str();
  app.add_option("--bytes", bytes, "bytes per stdout/stdin run")
      ->capture_default_str();
  app.add_option("--idle-calls", idle_calls,
                 "calls held open for the scale rows")
      ->capture_default_str();
  std::vector<std::string> only;
  const std::vector<std::string> groups = {"round-trip", "rate",  "stdout",
                                           "stdin",      "scale", "exec-fork"};
  app.add_option("--only", only,
                 "run only these groups of rows (to profile one)")
      ->check(CLI::IsMember(groups));
  CLI11_PARSE(app, argc, argv);
  signal(SIGPIPE, SIG_IGN);
  auto wanted = [&](const std::string& group) {
    return only.empty() ||
           std::find(only.begin(), only.end(), group) != only.end();
  };

  // Room for the scale row's open calls and the load beside them (the rate
  // rows' 64 in flight), which rexecd checks against its fd limit: 4,500
  // idle calls fit a hard limit of 20,000. The scale row opens them on one
  // connection. --insecure: plaintext loopback with no credentials, which a
  // root rexecd serves only when told.
  Server server({rexecd, "--listen", "127.0.0.1:0", "--insecure",
                 "--max-processes", std::to_string(idle_calls + 256),
                 "--max-streams-per-connection",
                 std::to_string(idle_calls + 256)});
  char self[4096];
  const ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
  if (length <= 0) return 1;
  Server floor({std::string(self, length), "--serve-floor"});
  std::vector<Row> rows;
  std::vector<double> unloaded;
  auto step = [&](const char* what) {
    std::fprintf(stderr, "rexec_bench: %s...\n", what);
  };
  if (wanted("round-trip")) {
    step("spawn round trip");
    for (Row& row : SpawnRoundTrip(server, floor, n, &unloaded)) {
      rows.push_back(row);
    }
    rows.push_back(CallFloor(server, n));
  }
  if (wanted("rate")) {
    step("spawn throughput");
    for (Row& row : SpawnThroughput(server, floor, reps)) rows.push_back(row);
  }
  if (wanted("stdout")) {
    step("stdout throughput");
    rows.push_back(StdoutThroughput(server, bytes, reps));
  }
  if (wanted("stdin")) {
    step("stdin throughput");
    rows.push_back(StdinThroughput(server, bytes, reps, 64 << 10));
    rows.back().value_target = ">= 0.6";
    Finish(rows.back());
    rows.push_back(StdinThroughput(server, bytes, reps, 1 << 20));
  }
  if (wanted("scale")) {
    step("scale");
    for (Row& row : Scale(server, idle_calls, n, unloaded)) rows.push_back(row);
  }
  if (wanted("exec-fork")) {
    step("exec and fork");
    rows.push_back(ExecVsSpawn(server, n));
    rows.push_back(ForkVsLocalFork(server, bench_dir, std::max(10, n / 10)));
  }

  Print(rows);
  WriteJson(rows, json_path);
  std::printf("figures written to %s\n", json_path.c_str());
  return 0;
}
