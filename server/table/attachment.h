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
// Lives on its call's executor thread; the log's watcher and the mail's
// replies reach it through its Bell. Not thread-safe.
#ifndef REXEC_SERVER_TABLE_ATTACHMENT_H_
#define REXEC_SERVER_TABLE_ATTACHMENT_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/table/bell.h"
#include "server/table/child_handle.h"
#include "server/table/executor.h"
#include "server/table/process_table.h"

namespace rexec::table {

class Attachment final : public ChildHandle {
 public:
  struct Options {
    std::optional<uint64_t> from[2];  // per stream; unset: the oldest kept
    bool output_only = false;
    bool follow = true;
  };

  // `table` and `executor` outlive it.
  Attachment(ProcessTable* table, Executor* executor, Owner* owner,
             Session session, const Options& options);
  ~Attachment() override;

  // Starts watching; output comes from the bell's turn, never from
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
  absl::Status Resize(WindowRequest size) override;
  uint64_t bytes_in() const override { return bytes_in_; }
  uint64_t bytes_out() const override { return bytes_out_; }
  const std::optional<ExitReport>& reported_exit() const override {
    return reported_exit_;
  }
  void WriteInput(Input input, std::string data) override;
  void CloseInput(Input input) override;
  void CloseChannel() override {}
  absl::Status Signal(const std::string& name) override;
  void ResumeOutput() override;
  void Stop(TerminationReason reason) override;
  void Release() override {}

 private:
  // In order: watching the log, then letting go (its bell's last turn is
  // on its way), then done.
  enum class Phase { kIdle, kWatching, kClosing, kDone };

  // The first refusal of our input by the session, for the call: mail's
  // replies come from the session's thread, and may come after the
  // attachment is gone.
  struct Refusal {
    absl::Mutex mu;
    absl::Status status ABSL_GUARDED_BY(mu);
    void Set(absl::Status refused) {
      absl::MutexLock lock(&mu);
      if (status.ok()) status = std::move(refused);
    }
    absl::Status Take() {
      absl::MutexLock lock(&mu);
      return std::exchange(status, absl::OkStatus());
    }
  };

  void OnRing(uint32_t events);
  // A mail's reply: refused (a full queue), or with `written` rung.
  std::function<void(absl::Status)> Reply(uint32_t written);
  void Pump();
  void Close();
  void MaybeDone();

  ProcessTable* const table_;
  Owner* const owner_;
  const Session session_;
  const Options options_;
  Phase phase_ = Phase::kIdle;

  Bell bell_;
  std::shared_ptr<Refusal> refusal_ = std::make_shared<Refusal>();
  int watcher_ = 0;

  uint64_t offset_[2] = {0, 0};
  uint64_t lost_[2] = {0, 0};  // to report before the first output
  std::optional<ExitReport> reported_exit_;
  uint64_t bytes_in_ = 0;
  uint64_t bytes_out_ = 0;
};

}  // namespace rexec::table

#endif  // REXEC_SERVER_TABLE_ATTACHMENT_H_
