// Attachment is an Attach call's handle on a session (ChildHandle): it
// reads the session's log at offsets of its own (from an offset the client
// chose, or the oldest byte kept; a Lost event for bytes no longer kept,
// also when it falls behind a fast child) as its call has room, and
// delivers the exit once it read everything before it. Its stdin, signals
// and resizes go to the session's supervisor as mail (SessionControl);
// each stdin chunk is written before the next is taken, so attachments
// share the child's stdin in arrival order.
//
// Letting go of it (Stop) leaves the process as it is. An attachment that
// delivered the exit collects the session (removes it from the table),
// unless it is output-only.
//
// Lives on its call's completion-queue thread; the log's watcher and the
// mail's replies reach it through its Doorbell. Not thread-safe.
#ifndef REXEC_SERVER_RPC_ATTACHMENT_H_
#define REXEC_SERVER_RPC_ATTACHMENT_H_

#include <grpcpp/completion_queue.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/rpc/child_handle.h"
#include "server/rpc/doorbell.h"
#include "server/rpc/process_table.h"
#include "server/rpc/server_state.h"
#include "server/rpc/tag.h"

namespace rexec::rpc {

class Attachment final : public ChildHandle {
 public:
  struct Options {
    std::optional<uint64_t> from[2];  // per stream; unset: the oldest kept
    bool output_only = false;
    bool follow = true;
  };

  Attachment(ServerState* state, grpc::CompletionQueue* cq, Owner* owner,
             Session session, const Options& options);
  ~Attachment() override;

  // Starts watching; output comes from the doorbell's turn, never from
  // inside this call. RESOURCE_EXHAUSTED when the session has as many
  // attachments as it may (SessionLog::kMaxWatchers).
  absl::Status Begin();
  const Session& session() const { return session_; }
  // Where the output that follows begins, per stream.
  uint64_t offset(Stream stream) const {
    return offset_[static_cast<int>(stream)];
  }

  pid_t pid() const override { return session_.pid; }
  // The session's supervisor turns a close_stdin into its terminal's EOF
  // key: to the call, an attachment is a plain stdin.
  bool has_terminal() const override { return false; }
  const std::string& session_id() const override { return session_.id; }
  bool outlives_call() const override { return false; }
  std::optional<char> TerminalEof() const override { return std::nullopt; }
  absl::Status Resize(const v1::Resize& resize) override;
  uint64_t bytes_in() const override { return bytes_in_; }
  uint64_t bytes_out() const override { return bytes_out_; }
  const std::optional<v1::ExitStatus>& reported_exit() const override {
    return reported_exit_;
  }
  void WriteInput(Input input, std::string data) override;
  void CloseInput(Input input) override;
  void CloseChannel() override {}
  absl::Status Signal(const std::string& name) override;
  void ResumeOutput() override;
  void Stop(v1::TerminationReason reason) override;
  void Release() override {}

 private:
  // In order: watching the log, then letting go (its doorbell's last ring
  // is on its way), then done.
  enum class Phase { kIdle, kWatching, kClosing, kDone };

  // What the mail's replies ring, which may come after the attachment is
  // gone: they find nothing then.
  struct Link {
    absl::Mutex mu;
    Doorbell* bell ABSL_GUARDED_BY(mu) = nullptr;
    // The first refusal of our input by the session, for the call.
    absl::Status refused ABSL_GUARDED_BY(mu);
    void Ring(uint32_t events) {
      absl::MutexLock lock(&mu);
      if (bell != nullptr) bell->Ring(events);
    }
    // A mail's reply: written, or refused.
    void Reply(absl::Status status, uint32_t written) {
      absl::MutexLock lock(&mu);
      if (!status.ok() && refused.ok()) refused = std::move(status);
      if (bell != nullptr) bell->Ring(written);
    }
  };

  void OnDoorbell(bool ok);
  void Pump();
  void Close();
  void MaybeDone();

  ServerState* const state_;
  Owner* const owner_;
  const Session session_;
  const Options options_;
  Phase phase_ = Phase::kIdle;
  int in_flight_ = 0;  // the doorbell's last ring

  MemberTag<Attachment> doorbell_tag_{this, &Attachment::OnDoorbell};
  Doorbell doorbell_;
  std::shared_ptr<Link> link_ = std::make_shared<Link>();
  int watcher_ = 0;

  uint64_t offset_[2] = {0, 0};
  uint64_t lost_[2] = {0, 0};  // to report before the first output
  std::optional<v1::ExitStatus> reported_exit_;
  uint64_t bytes_in_ = 0;
  uint64_t bytes_out_ = 0;
};

}  // namespace rexec::rpc

#endif  // REXEC_SERVER_RPC_ATTACHMENT_H_
