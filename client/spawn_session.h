// SpawnSession is the client side of one rexec.v1.ChildProcess/Spawn call,
// over gRPC's synchronous API. The write side (stdin, close_stdin, signal)
// may be used from several threads at once: writes are serialised here.
// Read() belongs to one thread. Cancel() may be called from any thread.
#ifndef REXEC_CLIENT_SPAWN_SESSION_H_
#define REXEC_CLIENT_SPAWN_SESSION_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "rexec/v1/child_process.grpc.pb.h"

namespace rexec::client {

// A channel to `address` (host:port or unix:/path) that accepts messages of
// any size, since Exec results can be large.
std::shared_ptr<grpc::Channel> Connect(const std::string& address);

class SpawnSession {
 public:
  // Opens the stream and sends `start`. `deadline` bounds the whole call.
  SpawnSession(v1::ChildProcess::StubInterface& stub,
               const v1::SpawnStart& start,
               std::optional<absl::Time> deadline = std::nullopt);

  // Each returns false once the stream is broken or finished.
  bool WriteStdin(std::string data);
  bool CloseStdin();
  bool SendSignal(const std::string& name);
  // Half-closes the request stream (which also closes the child's stdin).
  bool WritesDone();

  bool Read(v1::SpawnResponse* response);
  // After Read() returned false: how the RPC ended.
  grpc::Status Finish();
  void Cancel();

 private:
  bool Write(const v1::SpawnRequest& request);

  grpc::ClientContext ctx_;
  std::unique_ptr<
      grpc::ClientReaderWriterInterface<v1::SpawnRequest, v1::SpawnResponse>>
      stream_;
  std::mutex write_mu_;
  bool writes_done_ = false;
};

// The exit code a shell would give: the child's code, or 128 + N when it
// died of signal N.
int ShellExitCode(const v1::ExitStatus& exit);

}  // namespace rexec::client

#endif  // REXEC_CLIENT_SPAWN_SESSION_H_
