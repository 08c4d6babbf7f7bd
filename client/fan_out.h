// Fan-out: one command on many rexecd servers at once, as pssh or
// `ansible -a` do (`rexec --all`, `--hosts FILE`, a repeated `--server`).
// Each server's output comes line by line with its address in front
// ("10.0.0.7:50051: text"), stdout to `out_fd` and stderr to `err_fd`; a
// summary line per server and a count follow on `err_fd`. rexec's stdin,
// when it is not a terminal, is read to its end (at most
// kMaxFanOutInput) and sent whole to every child, as `pssh -I` does; from a
// terminal, the children get none (it is closed at once).
//
// Exit code: 0 when every server ran the command and it exited 0; else the
// number of servers where it did not (an RPC error, a non-zero exit, a
// signal, output cut at max_buffer), at most 254; 2 when stdin is over
// kMaxFanOutInput (no server is called).
#ifndef REXEC_CLIENT_FAN_OUT_H_
#define REXEC_CLIENT_FAN_OUT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/connection.h"
#include "rexec/v1/child_process.pb.h"

namespace rexec::client {

// Most servers one fan-out may name: a bound on threads and on what a hosts
// file or a DNS answer can make us do.
constexpr size_t kMaxFanOutHosts = 4096;
// Most stdin a fan-out keeps to send to every child.
constexpr size_t kMaxFanOutInput = 16 << 20;

// Every address `address` resolves to, as IP:PORT (dns:///name:port, or
// host:port): a headless Service's name gives one per pod. A unix address
// is itself. INVALID_ARGUMENT naming the address when it has no port or
// resolves to nothing.
absl::StatusOr<std::vector<std::string>> ResolveAll(const std::string& address);

// A hosts file: one address per line; blank lines and '#' comments are
// skipped. INVALID_ARGUMENT naming the file (and line) otherwise.
absl::StatusOr<std::vector<std::string>> ReadHostsFile(const std::string& path);

// The command to run: exactly one of the two is set.
struct FanOutCommand {
  const v1::SpawnStart* spawn = nullptr;
  const v1::ExecStart* exec = nullptr;
};

// Runs `command` on every address of `servers` with the connection flags of
// `base`, at most `parallel` at once, with `in_fd` as described above. Returns the exit code described above.
int RunFanOut(const std::vector<std::string>& servers,
              const ConnectOptions& base, int parallel,
              const FanOutCommand& command, int in_fd, int out_fd, int err_fd);

}  // namespace rexec::client

#endif  // REXEC_CLIENT_FAN_OUT_H_
