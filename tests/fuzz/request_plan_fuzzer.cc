// Fuzzes what a client's bytes reach first: a request frame parsed as one
// of the three request messages, and its start turned into a launch plan
// under a policy (PATH lookup, realpath, globs, timeouts, users, groups,
// limits). Nothing is run.
// The first byte picks the RPC and the identity.
#include <cstddef>
#include <cstdint>

#include "google/protobuf/stubs/logging.h"
#include "rexec/v1/child_process.pb.h"
#include "server/auth/policy.h"
#include "server/plan/launch_plan.h"

namespace {

const rexec::auth::Policy& FuzzPolicy() {
  static const auto* policy = new std::shared_ptr<const rexec::auth::Policy>(
      *rexec::auth::Policy::Parse(R"({"rules": [
        {"name": "a", "identities": ["A", "ci/*"],
         "rpcs": ["Spawn", "Exec", "Fork"],
         "programs": ["/usr/bin/echo", "/usr/bin/t*"],
         "shells": ["/bin/sh"], "runtimes": ["/usr/bin/node"],
         "env": {"PATH": "/usr/bin:/bin"}, "client_env": ["LC_*", "PATH"],
         "cwd_roots": ["/tmp"], "max_timeout": "60s",
         "max_kill_grace": "5s", "max_processes": 2,
         "users": ["root", "nobody", "rexect-*", "65534"],
         "groups": ["nogroup"], "limits": {"open_files": 64},
         "capabilities": ["CAP_KILL"]}]})",
                                  "fuzz-policy"));
  return **policy;
}

void Plan(rexec::auth::Rpc rpc, const std::string& identity, bool policy,
          std::vector<std::string> argv,
          const rexec::v1::ProcessOptions& options) {
  rexec::plan::LaunchContext context;
  context.rpc = rpc;
  context.identity = identity;
  context.policy = policy ? &FuzzPolicy() : nullptr;
  rexec::plan::PlanLaunch(context, std::move(argv), options).IgnoreError();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Protobuf logs every string that is not UTF-8; the server turns that
  // into a status (wire_message.cc), here it would only slow the run.
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t pick = data[0];
  const std::string identity = (pick & 4) ? "A" : "B";
  const bool policy = (pick & 8) == 0;
  const char* bytes = reinterpret_cast<const char*>(data + 1);
  const int length = static_cast<int>(size - 1);
  switch (pick % 3) {
    case 0: {
      rexec::v1::SpawnRequest request;
      if (!request.ParseFromArray(bytes, length) || !request.has_start()) break;
      const auto& start = request.start();
      Plan(rexec::auth::Rpc::kSpawn, identity, policy,
           {start.argv().begin(), start.argv().end()}, start.options());
      break;
    }
    case 1: {
      rexec::v1::ExecRequest request;
      if (!request.ParseFromArray(bytes, length) || !request.has_start()) break;
      const auto& start = request.start();
      Plan(rexec::auth::Rpc::kExec, identity, policy,
           {start.shell().empty() ? "/bin/sh" : start.shell(), "-c",
            start.command()},
           start.options());
      break;
    }
    default: {
      rexec::v1::ForkRequest request;
      if (!request.ParseFromArray(bytes, length) || !request.has_start()) break;
      const auto& start = request.start();
      std::vector<std::string> argv = {
          start.exec_path().empty() ? "node" : start.exec_path()};
      argv.insert(argv.end(), start.exec_argv().begin(),
                  start.exec_argv().end());
      argv.push_back(start.module());
      Plan(rexec::auth::Rpc::kFork, identity, policy, std::move(argv),
           start.options());
      break;
    }
  }
  return 0;
}
