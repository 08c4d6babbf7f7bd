// ChildSession is the client side of one rexec.v1.ChildProcess call (Spawn,
// Exec, Fork or Attach), over gRPC's synchronous API: it opens the stream and sends
// the start message. The write side (stdin, close_stdin, signal, messages)
// may be used from several threads at once: writes are serialised here.
// Read() belongs to one thread. Cancel() may be called from any thread.
#ifndef REXEC_CLIENT_CHILD_SESSION_H_
#define REXEC_CLIENT_CHILD_SESSION_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/struct.pb.h"
#include "rexec/v1/child_process.grpc.pb.h"

namespace rexec::client {

// How one call is made.
struct SessionOptions {
  SessionOptions() = default;
  // Implicit: a deadline alone is the common case.
  SessionOptions(absl::Time deadline) : deadline(deadline) {}  // NOLINT
  // Bounds the whole call.
  std::optional<absl::Time> deadline;
  // Sent as `authorization: Bearer TOKEN`; empty: none.
  std::string bearer_token;
  // The channel is TLS: for what a failed call is told to mean.
  bool tls = false;
};

// What differs between the three RPCs, for ChildSession: the start
// message, the response, and the stub method that opens the stream.
template <typename StartT, typename ResponseT, auto kOpen>
struct RpcOf {
  using Start = StartT;
  using Response = ResponseT;
  static auto Open(v1::ChildProcess::StubInterface& stub,
                   grpc::ClientContext* ctx) {
    return (stub.*kOpen)(ctx);
  }
};
template <typename Request>
struct Rpc;
template <>
struct Rpc<v1::SpawnRequest> : RpcOf<v1::SpawnStart, v1::SpawnResponse,
                                     &v1::ChildProcess::StubInterface::Spawn> {
};
template <>
struct Rpc<v1::ExecRequest> : RpcOf<v1::ExecStart, v1::ExecResponse,
                                    &v1::ChildProcess::StubInterface::Exec> {};
template <>
struct Rpc<v1::ForkRequest> : RpcOf<v1::ForkStart, v1::ForkResponse,
                                    &v1::ChildProcess::StubInterface::Fork> {};
template <>
struct Rpc<v1::AttachRequest>
    : RpcOf<v1::AttachStart, v1::AttachResponse,
            &v1::ChildProcess::StubInterface::Attach> {};

template <typename Request>
class ChildSession {
 public:
  using Start = typename Rpc<Request>::Start;
  using Response = typename Rpc<Request>::Response;

  // Opens the stream and sends `start`.
  ChildSession(v1::ChildProcess::StubInterface& stub, const Start& start,
               const SessionOptions& options = {}) {
    if (options.deadline) {
      ctx_.set_deadline(absl::ToChronoTime(*options.deadline));
    }
    if (!options.bearer_token.empty()) {
      ctx_.AddMetadata("authorization", "Bearer " + options.bearer_token);
    }
    // The headers leave with the start message, in one write: a short
    // call's round trip is a handful of packets, and this saves one.
    ctx_.set_initial_metadata_corked(true);
    stream_ = Rpc<Request>::Open(stub, &ctx_);
    Request request;
    *request.mutable_start() = start;
    Write(request);
  }

  // Each returns false once the stream is broken or finished.
  bool Write(const Request& request) {
    std::lock_guard lock(write_mu_);
    if (writes_done_) return false;
    return stream_->Write(request);
  }
  bool WriteStdin(std::string data) {
    Request request;
    *request.mutable_stdin() = std::move(data);
    return Write(request);
  }
  bool CloseStdin() {
    Request request;
    request.mutable_close_stdin();
    return Write(request);
  }
  bool SendSignal(const std::string& name) {
    Request request;
    request.mutable_signal()->set_name(name);
    return Write(request);
  }
  // Spawn and Exec with options.pty: the terminal's new size.
  bool Resize(uint32_t rows, uint32_t cols) {
    Request request;
    request.mutable_resize()->set_rows(rows);
    request.mutable_resize()->set_cols(cols);
    return Write(request);
  }
  // Fork only: one message to the child, and closing the channel.
  bool SendMessage(google::protobuf::Value message) {
    Request request;
    *request.mutable_message() = std::move(message);
    return Write(request);
  }
  bool Disconnect() {
    Request request;
    request.mutable_disconnect();
    return Write(request);
  }
  // Half-closes the request stream (which also closes the child's stdin).
  bool WritesDone() {
    std::lock_guard lock(write_mu_);
    if (writes_done_) return false;
    writes_done_ = true;
    return stream_->WritesDone();
  }

  bool Read(Response* response) {
    if (!stream_->Read(response)) return false;
    responses_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  // How many responses were read so far (from any thread).
  uint64_t responses() const {
    return responses_.load(std::memory_order_relaxed);
  }
  // After Read() returned false: how the RPC ended.
  grpc::Status Finish() { return stream_->Finish(); }
  void Cancel() { ctx_.TryCancel(); }

 private:
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriterInterface<Request, Response>> stream_;
  std::mutex write_mu_;
  bool writes_done_ = false;
  std::atomic<uint64_t> responses_{0};
};

using SpawnSession = ChildSession<v1::SpawnRequest>;
using ExecSession = ChildSession<v1::ExecRequest>;
using ForkSession = ChildSession<v1::ForkRequest>;
using AttachSession = ChildSession<v1::AttachRequest>;

// The exit code a shell would give: the child's code, or 128 + N when it
// died of signal N. OUT_OF_RANGE, saying what, for what a child cannot have
// done (a code outside 0-255, a signal Linux does not have, neither): a
// server's word is never wrapped into a code (256 would read as 0).
absl::StatusOr<int> ShellExitCode(const v1::ExitStatus& exit);

}  // namespace rexec::client

#endif  // REXEC_CLIENT_CHILD_SESSION_H_
