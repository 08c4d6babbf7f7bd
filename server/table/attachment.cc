#include "server/table/attachment.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/signal_name.h"
#include "server/table/terminal.h"

namespace rexec::table {
namespace {

constexpr uint32_t kOutput = 1;
constexpr uint32_t kInputWritten = 2;

// Read from the log per response: a chunk as large as a pipe-full, as the
// supervisor's; and per turn of the queue, as many as it reads.
constexpr size_t kChunkSize = 1 << 20;
constexpr int kChunksPerTurn = 8;

}  // namespace

Attachment::Attachment(ProcessTable* table, Executor* executor, Owner* owner,
                       Session session, const Options& options)
    : table_(table),
      owner_(owner),
      session_(std::move(session)),
      options_(options),
      bell_(executor, [this](uint32_t events) { OnRing(events); }) {
  for (int s = 0; s < 2; ++s) {
    const uint64_t oldest = session_.log->oldest(s);
    const uint64_t end = session_.log->end(s);
    // Past the end is live output only.
    const uint64_t from = std::min(options.from[s].value_or(oldest), end);
    offset_[s] = std::max(from, oldest);
    lost_[s] = offset_[s] - from;
  }
}

Attachment::~Attachment() {
  bell_.Close();
  if (watcher_ != 0) session_.log->RemoveWatcher(watcher_);
}

absl::Status Attachment::Begin() {
  watcher_ = session_.log->AddWatcher(bell_.Ringer(kOutput));
  if (watcher_ == 0) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "session ", session_.id, " has ", SessionLog::kMaxWatchers,
        " attachments, as many as it may"));
  }
  phase_ = Phase::kWatching;
  bell_.Ring(kOutput);
  return absl::OkStatus();
}

std::function<void(absl::Status)> Attachment::Reply(uint32_t written) {
  return [refusal = refusal_, ring = bell_.Ringer(written)](
             absl::Status status) {
    if (!status.ok()) refusal->Set(std::move(status));
    ring();
  };
}

void Attachment::OnRing(uint32_t events) {
  if (phase_ != Phase::kWatching) {
    MaybeDone();  // the last turn, after Close(); may destroy this
    return;
  }
  if (absl::Status refused = refusal_->Take(); !refused.ok()) {
    owner_->OnRefused(std::move(refused));
  } else if (events & kInputWritten) {
    owner_->OnInputWritten(Input::kStdin);
  }
  if (phase_ == Phase::kWatching) Pump();
}

void Attachment::ResumeOutput() {
  if (phase_ == Phase::kWatching) bell_.Ring(kOutput);
}

void Attachment::Pump() {
  SessionLog& log = *session_.log;
  if (std::optional<absl::Status> revoked = log.revoked()) {
    Close();
    owner_->OnRefused(*std::move(revoked));
    return;
  }
  // The exit is read before the output: then everything written before it
  // is in the log, and is sent first.
  const std::optional<ExitReport> exit = log.exit();
  for (int chunks = 0; chunks < kChunksPerTurn; ++chunks) {
    bool progress = false;
    for (int s = 0; s < 2; ++s) {
      const size_t room = owner_->OutputRoom();
      if (room == 0) return;  // ResumeOutput() comes
      SessionLog::Chunk chunk =
          log.Read(s, offset_[s], std::min(room, kChunkSize));
      const uint64_t lost = lost_[s] + chunk.lost;
      lost_[s] = 0;
      if (lost > 0) {
        owner_->OnLost(static_cast<Stream>(s), lost, chunk.offset);
        progress = true;
      }
      offset_[s] = chunk.offset + chunk.data.size();
      if (!chunk.data.empty()) {
        bytes_out_ += chunk.data.size();
        owner_->OnOutput(static_cast<Stream>(s),
                         OutputChunk(std::move(chunk.data)));
        progress = true;
      }
    }
    if (!progress) {
      if (exit) {
        reported_exit_ = exit;
        // Whoever sees the exit and may type collects the session.
        if (!options_.output_only) table_->Remove(session_.process);
        Close();
        owner_->OnExit(*exit);
      } else if (!options_.follow) {
        Close();
        owner_->OnCaughtUp();
      }
      return;
    }
  }
  bell_.Ring(kOutput);  // the rest on a later turn
}

void Attachment::WriteInput(Input input, std::string data) {
  bytes_in_ += data.size();
  SessionMail mail;
  mail.kind = SessionMail::Kind::kStdin;
  mail.data = std::move(data);
  mail.done = Reply(kInputWritten);
  // Ended: dropped, as a closed pipe's input is; the exit is on its way.
  // Full: the call ends with the refusal.
  if (absl::Status posted = session_.control->Post(std::move(mail));
      absl::IsUnavailable(posted)) {
    bell_.Ring(kInputWritten);
  } else if (!posted.ok()) {
    Reply(kInputWritten)(std::move(posted));
  }
}

void Attachment::CloseInput(Input input) {
  SessionMail mail;
  mail.kind = SessionMail::Kind::kCloseStdin;
  mail.done = Reply(0);
  absl::Status posted = session_.control->Post(std::move(mail));
  // Ended: closed already. Full: the call hears of it.
  if (!posted.ok() && !absl::IsUnavailable(posted)) {
    Reply(0)(std::move(posted));
  }
}

absl::Status Attachment::Signal(const std::string& name) {
  absl::StatusOr<int> sig = ParseSignal(name);
  if (!sig.ok()) return sig.status();
  SessionMail mail;
  mail.kind = SessionMail::Kind::kSignal;
  mail.data = name;
  absl::Status posted = session_.control->Post(std::move(mail));
  // Ended: nothing to signal, and its exit is on its way.
  return absl::IsUnavailable(posted) ? absl::OkStatus() : posted;
}

absl::Status Attachment::Resize(WindowRequest size) {
  if (!session_.terminal) {
    return absl::FailedPreconditionError(absl::StrCat(
        "resize: session ", session_.id,
        " has no terminal (start it with options.pty)"));
  }
  if (absl::Status checked = WindowSizeOf(size, process::WindowSize()).status();
      !checked.ok()) {
    return checked;
  }
  SessionMail mail;
  mail.kind = SessionMail::Kind::kResize;
  mail.resize = size;
  absl::Status posted = session_.control->Post(std::move(mail));
  return absl::IsUnavailable(posted) ? absl::OkStatus() : posted;
}

void Attachment::Stop(TerminationReason reason) {
  if (phase_ == Phase::kWatching) Close();
}

void Attachment::Close() {
  phase_ = Phase::kClosing;
  session_.log->RemoveWatcher(watcher_);
  watcher_ = 0;
  // One last turn, always: the owner hears that we are done from the
  // bell's turn, never from inside the call that let go.
  bell_.Ring(kOutput);
}

void Attachment::MaybeDone() {
  if (phase_ != Phase::kClosing) return;
  phase_ = Phase::kDone;
  bell_.Close();
  owner_->OnSupervisorDone();  // may destroy this attachment
}

}  // namespace rexec::table
