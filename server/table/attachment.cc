#include "server/rpc/attachment.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/signal_name.h"

namespace rexec::rpc {
namespace {

constexpr uint32_t kOutput = 1;
constexpr uint32_t kInputWritten = 2;

// Read from the log per response: a chunk as large as a pipe-full, as the
// supervisor's; and per turn of the queue, as many as it reads.
constexpr size_t kChunkSize = 1 << 20;
constexpr int kChunksPerTurn = 8;

}  // namespace

Attachment::Attachment(ServerState* state, grpc::CompletionQueue* cq,
                       Owner* owner, Session session, const Options& options)
    : state_(state),
      owner_(owner),
      session_(std::move(session)),
      options_(options),
      doorbell_(cq, &doorbell_tag_) {
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
  if (watcher_ != 0) session_.log->RemoveWatcher(watcher_);
  absl::MutexLock lock(&link_->mu);
  link_->bell = nullptr;
}

absl::Status Attachment::Begin() {
  watcher_ = session_.log->AddWatcher([link = link_] { link->Ring(kOutput); });
  if (watcher_ == 0) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "session ", session_.id, " has ", SessionLog::kMaxWatchers,
        " attachments, as many as it may"));
  }
  phase_ = Phase::kWatching;
  {
    absl::MutexLock lock(&link_->mu);
    link_->bell = &doorbell_;
  }
  doorbell_.Ring(kOutput);
  return absl::OkStatus();
}

void Attachment::OnDoorbell(bool ok) {
  const uint32_t events = doorbell_.Take();
  if (phase_ != Phase::kWatching || !ok) {
    --in_flight_;  // the last ring, after Close()
    MaybeDone();
    return;
  }
  absl::Status refused;
  {
    absl::MutexLock lock(&link_->mu);
    refused = std::exchange(link_->refused, absl::OkStatus());
  }
  if (!refused.ok()) {
    owner_->OnRefused(std::move(refused));
  } else if (events & kInputWritten) {
    owner_->OnInputWritten(Input::kStdin);
  }
  if (phase_ == Phase::kWatching) Pump();
}

void Attachment::ResumeOutput() {
  if (phase_ == Phase::kWatching) doorbell_.Ring(kOutput);
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
  const std::optional<v1::ExitStatus> exit = log.exit();
  for (int chunks = 0; chunks < kChunksPerTurn; ++chunks) {
    bool progress = false;
    for (int s = 0; s < 2; ++s) {
      if (!owner_->HasOutputRoom()) return;  // ResumeOutput() comes
      SessionLog::Chunk chunk = log.Read(s, offset_[s], kChunkSize);
      const uint64_t lost = lost_[s] + chunk.lost;
      lost_[s] = 0;
      if (lost > 0) {
        owner_->OnLost(static_cast<Stream>(s), lost, chunk.offset);
        progress = true;
      }
      offset_[s] = chunk.offset + chunk.data.size();
      if (!chunk.data.empty()) {
        bytes_out_ += chunk.data.size();
        owner_->OnOutput(static_cast<Stream>(s), std::move(chunk.data));
        progress = true;
      }
    }
    if (!progress) {
      if (exit) {
        reported_exit_ = exit;
        // Whoever sees the exit and may type collects the session.
        if (!options_.output_only) state_->sessions().Remove(session_.id);
        Close();
        owner_->OnExit(*exit);
      } else if (!options_.follow) {
        Close();
        owner_->OnCaughtUp();
      }
      return;
    }
  }
  doorbell_.Ring(kOutput);  // the rest on a later turn
}

void Attachment::WriteInput(Input input, std::string data) {
  bytes_in_ += data.size();
  SessionMail mail;
  mail.kind = SessionMail::Kind::kStdin;
  mail.data = std::move(data);
  mail.done = [link = link_](absl::Status status) {
    link->Reply(std::move(status), kInputWritten);
  };
  // Ended: dropped, as a closed pipe's input is; the exit is on its way.
  // Full: the call ends with the refusal.
  if (absl::Status posted = session_.control->Post(std::move(mail));
      absl::IsUnavailable(posted)) {
    doorbell_.Ring(kInputWritten);
  } else if (!posted.ok()) {
    link_->Reply(std::move(posted), kInputWritten);
  }
}

void Attachment::CloseInput(Input input) {
  SessionMail mail;
  mail.kind = SessionMail::Kind::kCloseStdin;
  mail.done = [link = link_](absl::Status status) {
    link->Reply(std::move(status), 0);
  };
  absl::Status posted = session_.control->Post(std::move(mail));
  // Ended: closed already. Full: the call hears of it.
  if (!posted.ok() && !absl::IsUnavailable(posted)) {
    link_->Reply(std::move(posted), 0);
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

absl::Status Attachment::Resize(const v1::Resize& resize) {
  if (!session_.terminal) {
    return absl::FailedPreconditionError(absl::StrCat(
        "resize: session ", session_.id,
        " has no terminal (start it with options.pty)"));
  }
  if (resize.rows() > 0xffff || resize.cols() > 0xffff) {
    return absl::InvalidArgumentError(
        absl::StrCat("resize is ", resize.rows(), "x", resize.cols(),
                     ": a terminal has at most 65535 of each"));
  }
  SessionMail mail;
  mail.kind = SessionMail::Kind::kResize;
  mail.resize = resize;
  absl::Status posted = session_.control->Post(std::move(mail));
  return absl::IsUnavailable(posted) ? absl::OkStatus() : posted;
}

void Attachment::Stop(v1::TerminationReason reason) {
  if (phase_ == Phase::kWatching) Close();
}

void Attachment::Close() {
  phase_ = Phase::kClosing;
  session_.log->RemoveWatcher(watcher_);
  watcher_ = 0;
  {
    absl::MutexLock lock(&link_->mu);
    link_->bell = nullptr;
  }
  // One last ring, always: the owner hears that we are done from the
  // doorbell's turn, never from inside the call that let go.
  doorbell_.Ring(kOutput);
  if (doorbell_.Close()) ++in_flight_;
}

void Attachment::MaybeDone() {
  if (phase_ != Phase::kClosing || in_flight_ > 0) return;
  phase_ = Phase::kDone;
  owner_->OnSupervisorDone();  // may destroy this attachment
}

}  // namespace rexec::rpc
