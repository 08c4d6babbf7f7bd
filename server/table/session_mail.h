// SessionMail is one request to a detached process, and SessionControl
// its mailbox: how calls on other threads reach a detached process's
// supervisor: they post mail (stdin, EOF, a signal, a resize, a stop), and
// the supervisor takes it on its own completion-queue thread, in arrival
// order, so that several attachments' stdin interleaves as it came. Each
// mail may carry `done`, called on the supervisor's thread once it was
// handled (the chunk written, the signal sent) or dropped (the process
// ended): a sender waits for it before it posts stdin again, which bounds
// the mail to one chunk per sender.
//
// Thread-safe. The supervisor opens it with its bell and closes it
// before it goes away; Post() refuses after that. Bounded: kMaxMail.
#ifndef REXEC_SERVER_TABLE_SESSION_MAIL_H_
#define REXEC_SERVER_TABLE_SESSION_MAIL_H_

#include <deque>
#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/table/exit_report.h"

namespace rexec::table {

struct SessionMail {
  enum class Kind { kStdin, kCloseStdin, kSignal, kResize, kStop };
  Kind kind = Kind::kStdin;
  std::string data;  // kStdin: the bytes; kSignal: the signal's name
  WindowRequest resize;
  TerminationReason reason = TerminationReason::kUnspecified;  // kStop
  std::function<void(absl::Status)> done;
};

class SessionControl {
 public:
  static constexpr size_t kMaxMail = 1024;

  // `ring` is called (under the lock) after each Post() while open.
  void Open(std::function<void()> ring) {
    absl::MutexLock lock(&mu_);
    ring_ = std::move(ring);
  }
  // UNAVAILABLE once the process ended; RESOURCE_EXHAUSTED while
  // kMaxMail wait (senders of signals and resizes have no other bound).
  absl::Status Post(SessionMail mail) {
    absl::MutexLock lock(&mu_);
    if (!ring_) {
      return absl::UnavailableError("the session's process has ended");
    }
    if (mail_.size() >= kMaxMail) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "the session has ", kMaxMail,
          " requests waiting for it: send fewer signals or resizes"));
    }
    mail_.push_back(std::move(mail));
    ring_();
    return absl::OkStatus();
  }
  std::deque<SessionMail> Take() {
    absl::MutexLock lock(&mu_);
    return std::exchange(mail_, {});
  }
  // What was not taken is returned, for its `done`; nothing is accepted
  // after.
  std::deque<SessionMail> Close() {
    absl::MutexLock lock(&mu_);
    ring_ = nullptr;
    return std::exchange(mail_, {});
  }

 private:
  absl::Mutex mu_;
  std::function<void()> ring_ ABSL_GUARDED_BY(mu_);
  std::deque<SessionMail> mail_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rexec::table

#endif  // REXEC_SERVER_TABLE_SESSION_MAIL_H_
