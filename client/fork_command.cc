#include "client/fork_command.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <cstdlib>
#include <mutex>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "client/call_output.h"
#include "client/child_session.h"
#include "client/command_support.h"
#include "client/printable.h"
#include "common/node_channel.h"
#include "google/protobuf/util/json_util.h"

namespace rexec::client {
namespace {

// The local end of the bridge: the channel to the Node program that started
// rexec. Send() and Close() are thread-safe; Pump() runs on its own thread.
class LocalChannel {
 public:
  explicit LocalChannel(int fd) : fd_(fd) {}

  // One message line to the local program; false once the channel closed.
  bool Send(absl::string_view line) {
    std::lock_guard lock(mu_);
    return !closed_ && WriteAll(fd_, line);
  }

  // The local program sees 'disconnect'. Wakes Pump() with EOF.
  void Close() {
    std::lock_guard lock(mu_);
    if (closed_) return;
    closed_ = true;
    shutdown(fd_, SHUT_RDWR);
  }

  // Forwards the local program's messages to the remote child until the
  // local side closes the channel, then disconnects the remote channel.
  // Node's own traffic is not forwarded: a handle is refused (NACK), as the
  // server refuses the child's.
  void Pump(ForkSession* session, int err_fd) {
    node_channel::Decoder decoder;
    std::string buffer(64 * 1024, '\0');
    for (;;) {
      ssize_t n = read(fd_, buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      absl::Status status;
      if (n > 0) {
        status =
            decoder.Feed(absl::string_view(buffer.data(), n),
                         [&](google::protobuf::Value message) {
                           if (std::optional<std::string> cmd =
                                   node_channel::InternalCommand(message)) {
                             if (*cmd == "NODE_HANDLE")
                               Send(node_channel::kHandleNack);
                             return true;
                           }
                           return session->SendMessage(std::move(message));
                         });
      } else {
        status = decoder.Finish();
        if (status.ok()) {
          session->Disconnect();
          return;
        }
      }
      if (!status.ok()) {
        WriteAll(err_fd, absl::StrCat("rexec: the local program sent ",
                                      status.message(), "\n"));
        session->Cancel();
        return;
      }
    }
  }

 private:
  const int fd_;
  std::mutex mu_;
  bool closed_ = false;
};

// The local Node IPC channel rexec was started with, or -1. Throws
// CLI::ValidationError when there is one that cannot be bridged.
int LocalNodeChannel() {
  const char* fd_text = std::getenv("NODE_CHANNEL_FD");
  if (fd_text == nullptr || *fd_text == '\0') return -1;
  int fd;
  if (!absl::SimpleAtoi(fd_text, &fd) || fd < 0 || fcntl(fd, F_GETFD) < 0) {
    throw CLI::ValidationError(
        "NODE_CHANNEL_FD",
        "\"" + std::string(fd_text) + "\" is not an open file descriptor");
  }
  const char* mode = std::getenv("NODE_CHANNEL_SERIALIZATION_MODE");
  if (mode != nullptr && *mode != '\0' && std::string(mode) != "json") {
    throw CLI::ValidationError(
        "NODE_CHANNEL_SERIALIZATION_MODE",
        "\"" + std::string(mode) +
            "\" cannot be bridged; start rexec with serialization: 'json'");
  }
  // Our copy is read by a thread of its own: blocking is what it wants.
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

}  // namespace

int RunForkCommand(v1::ChildProcess::StubInterface& stub,
                   const v1::ForkStart& start,
                   const std::vector<google::protobuf::Value>& sends,
                   const ForkCommandIo& io, const sigset_t& signals,
                   const SessionOptions& options) {
  ForkSession* session = OpenSession<ForkSession>(stub, start, options,
                                                  io.in_fd, signals, io.err_fd);
  LocalChannel* channel = nullptr;
  if (io.channel_fd >= 0) {
    channel = new LocalChannel(io.channel_fd);
    std::thread(&LocalChannel::Pump, channel, session, io.err_fd).detach();
  }
  for (const google::protobuf::Value& message : sends) {
    session->SendMessage(message);
  }

  std::optional<int> code = WriteCallOutput(
      *session, io.out_fd, io.err_fd,
      [&](const v1::ForkResponse& response) -> std::optional<int> {
        switch (response.event_case()) {
          case v1::ForkResponse::kMessage: {
            absl::StatusOr<std::string> line =
                node_channel::Encode(response.message());
            if (!line.ok()) break;  // the server sends only what JSON carries
            if (channel != nullptr) {
              channel->Send(*line);
            } else {
              // The JSON keeps DEL and C1 controls as they are: escaped here.
              WriteAll(io.err_fd,
                       absl::StrCat("rexec: message: ",
                                    Printable(absl::StripSuffix(*line, "\n")),
                                    "\n"));
            }
            break;
          }
          case v1::ForkResponse::kDisconnected:
            if (channel != nullptr) channel->Close();
            break;
          case v1::ForkResponse::kExit:
            if (response.exit().reason() == v1::TERMINATION_REASON_TIMED_OUT) {
              WriteAll(io.err_fd, TimeoutNote(start.options().timeout()));
            }
            return ExitCode(response.exit(), io.err_fd);
          default:
            break;
        }
        return std::nullopt;
      });
  if (code) return *code;
  return ReportCallEnd(session->Finish(), io.err_fd, options.tls);
}

void ForkCommand::AddTo(CLI::App& app) {
  command_ = app.add_subcommand(
      "fork",
      "run a Node.js MODULE remotely with an IPC message channel; bridges "
      "the local one when started by Node with an 'ipc' stdio entry");
  process_flags_.AddTo(command_);
  command_->add_option("--exec-path", exec_path_,
                       "the runtime (default: the server's --node)");
  command_
      ->add_option("--exec-arg", exec_args_,
                   "an argument for the runtime, before MODULE (repeatable)")
      ->allow_extra_args(false);
  command_
      ->add_option("--send", send_texts_,
                   "a JSON message to send the child after start "
                   "(repeatable)")
      ->allow_extra_args(false);
  command_->add_option("module", words_, "MODULE [ARG...] (after --)")
      ->required();
}

const CLI::App* ForkCommand::Chosen() const {
  return command_->parsed() ? command_ : nullptr;
}

void ForkCommand::Validate(Target& target) {
  *start_.mutable_options() = process_flags_.ToProto();
  start_.set_module(words_[0]);
  for (size_t i = 1; i < words_.size(); ++i) start_.add_args(words_[i]);
  start_.set_exec_path(exec_path_);
  for (const std::string& arg : exec_args_) start_.add_exec_argv(arg);
  for (const std::string& text : send_texts_) {
    google::protobuf::Value& value = sends_.emplace_back();
    if (auto status = google::protobuf::util::JsonStringToMessage(text, &value);
        !status.ok()) {
      throw CLI::ValidationError("--send", "\"" + text + "\" is not JSON: " +
                                               status.message().ToString());
    }
  }
  io_.channel_fd = LocalNodeChannel();
}

int ForkCommand::Run(const Target& target) {
  return RunOnServer(target.connect, SignalUse::kForward,
                     [&](const Call& call) {
                       return RunForkCommand(call.stub, start_, sends_, io_,
                                             call.signals, call.session);
                     });
}

}  // namespace rexec::client
