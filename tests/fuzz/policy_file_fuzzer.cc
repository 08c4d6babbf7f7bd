// Fuzzes the policy file reader: YAML or JSON text, the walk along the
// schema, protobuf's JSON parser and validation. Every input must end in a
// policy or an error; the rules of one that loads are asked a few things.
#include <cstddef>
#include <cstdint>
#include <string>

#include "server/auth/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto policy = rexec::auth::Policy::Parse(text, "fuzz");
  if (!policy.ok()) return 0;
  for (const char* identity : {"alice", "", "spiffe://x/y"}) {
    auto rule = (*policy)->RuleFor(identity);
    if (!rule.ok()) continue;
    (*rule)->CheckRpc(identity, rexec::auth::Rpc::kSpawn).IgnoreError();
    (*rule)
        ->CheckExecutable(identity, rexec::auth::Rpc::kExec, "/bin/sh", "sh")
        .IgnoreError();
    (*rule)->CheckCwd(identity, "/tmp/x", "x").IgnoreError();
    (*rule)->Timeout(identity, absl::Seconds(3)).IgnoreError();
  }
  return 0;
}
