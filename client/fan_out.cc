#include "client/printable.h"
#include "client/fan_out.h"

// <netdb.h> declares a BSD function called rexec(3), which would clash with
// our namespace: it is renamed while the header is read.
#define rexec rexec_bsd_function
#include <netdb.h>
#undef rexec
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/child_session.h"
#include "client/command_support.h"
#include "common/address.h"
#include "common/bounded_file.h"

namespace rexec::client {
namespace {

constexpr size_t kMaxHostsFileBytes = 1 << 20;
// A line longer than this is written in pieces, each with the prefix: one
// server's output without newlines must not grow us without bound.
constexpr size_t kMaxLine = 64 << 10;

// Writes each server's output line by line with its address in front; whole
// lines only, so that servers' lines never mix. Thread-safe.
class PrefixedOutput {
 public:
  PrefixedOutput(int out_fd, int err_fd) : fds_{out_fd, err_fd} {}

  // One server's partial lines, per stream.
  struct Pending {
    std::string text[2];
  };

  void Write(const std::string& host, Pending& pending, int stream,
             absl::string_view data) {
    std::string& text = pending.text[stream];
    std::string lines;
    for (;;) {
      const size_t newline = data.find('\n');
      if (newline == absl::string_view::npos) break;
      absl::StrAppend(&lines, host, ": ", text, data.substr(0, newline + 1));
      text.clear();
      data.remove_prefix(newline + 1);
    }
    text.append(data.data(), data.size());
    while (text.size() >= kMaxLine) {
      absl::StrAppend(&lines, host, ": ", text.substr(0, kMaxLine), "\n");
      text.erase(0, kMaxLine);
    }
    Emit(stream, lines);
  }

  // What is left of a last line without its newline.
  void Flush(const std::string& host, Pending& pending) {
    for (int stream = 0; stream < 2; ++stream) {
      if (pending.text[stream].empty()) continue;
      Emit(stream, absl::StrCat(host, ": ", pending.text[stream], "\n"));
      pending.text[stream].clear();
    }
  }

  void Emit(int stream, const std::string& lines) {
    if (lines.empty()) return;
    std::lock_guard lock(mu_);
    WriteAll(fds_[stream], lines);
  }

 private:
  std::mutex mu_;
  const int fds_[2];
};

// How one server's run ended, for the summary.
struct HostResult {
  bool ok = false;
  std::string summary;
};

std::string DescribeExit(const v1::ExitStatus& exit) {
  if (absl::StatusOr<int> code = ShellExitCode(exit); !code.ok()) {
    return std::string(code.status().message());
  }
  std::string text = exit.has_code()
                         ? absl::StrCat("exit ", exit.code())
                         : absl::StrCat("killed by ", exit.signal());
  if (exit.reason() == v1::TERMINATION_REASON_TIMED_OUT) {
    absl::StrAppend(&text, " (timed out)");
  } else if (exit.reason() == v1::TERMINATION_REASON_SERVER_SHUTDOWN) {
    absl::StrAppend(&text, " (the server was shutting down)");
  }
  return text;
}

std::string DescribeError(const grpc::Status& status) {
  return absl::StrCat(absl::StatusCodeToString(
                          static_cast<absl::StatusCode>(status.error_code())),
                      ": ", Printable(status.error_message()));
}

// What a fan-out exits with when its stdin is too large to send (as a usage
// error: no server was called).
constexpr int kFanOutInputExitCode = 2;

// rexec's stdin for every child: "" from a terminal, else all of it.
absl::StatusOr<std::string> ReadFanOutInput(int in_fd) {
  std::string input;
  if (isatty(in_fd)) return input;
  char buffer[64 * 1024];
  for (;;) {
    const ssize_t n = read(in_fd, buffer, sizeof buffer);
    if (n == 0) return input;
    if (n < 0) {
      if (errno == EINTR) continue;
      // Closed or not readable: as from /dev/null.
      if (errno == EBADF) return input;
      return absl::InternalError(
          absl::StrCat("reading stdin: ", std::strerror(errno)));
    }
    if (input.size() + n > kMaxFanOutInput) {
      return absl::InvalidArgumentError(absl::StrCat(
          "stdin has more than ", kMaxFanOutInput >> 20,
          " MiB: a fan-out sends its stdin whole to every server and keeps "
          "it to do so; run one rexec per server for more, or give it "
          "</dev/null for none"));
    }
    input.append(buffer, n);
  }
}


// What one stdin message of a fan-out carries (under gRPC's 4 MiB).
constexpr size_t kInputChunk = 1 << 20;

template <typename Session, typename Start>
HostResult RunOn(const std::string& host, const Connection& connection,
                 const Start& start, absl::string_view input,
                 PrefixedOutput& out) {
  auto stub = v1::ChildProcess::NewStub(connection.channel);
  SessionOptions options;
  options.bearer_token = connection.bearer_token;
  options.tls = connection.tls;
  Session session(*stub, start, options);
  // Written while the output is read: a child that writes before it reads
  // must not wait for us, nor we for it.
  std::thread writer([&session, input] {
    for (size_t at = 0; at < input.size(); at += kInputChunk) {
      if (!session.WriteStdin(std::string(input.substr(at, kInputChunk)))) {
        return;
      }
    }
    session.WritesDone();  // the child reads EOF
  });
  PrefixedOutput::Pending pending;
  typename Session::Response response;
  HostResult result;
  bool ended = false;
  while (!ended && session.Read(&response)) {
    if constexpr (std::is_same_v<Session, SpawnSession>) {
      if (response.has_stdout()) out.Write(host, pending, 0, response.stdout());
      if (response.has_stderr()) out.Write(host, pending, 1, response.stderr());
      if (response.has_exit()) {
        result.ok = ShellExitCode(response.exit()).value_or(1) == 0;
        result.summary = DescribeExit(response.exit());
        ended = true;
      }
    } else {
      if (!response.has_result()) continue;
      const v1::ExecResult& r = response.result();
      out.Write(host, pending, 0, r.stdout());
      out.Write(host, pending, 1, r.stderr());
      result.ok =
          ShellExitCode(r.exit()).value_or(1) == 0 &&
          r.exit().reason() != v1::TERMINATION_REASON_MAX_BUFFER_EXCEEDED;
      result.summary = DescribeExit(r.exit());
      if (r.exit().reason() == v1::TERMINATION_REASON_MAX_BUFFER_EXCEEDED) {
        absl::StrAppend(&result.summary, " (output cut at max_buffer)");
      }
      ended = true;
    }
  }
  out.Flush(host, pending);
  // What is left of the stream is of no interest, and a writer the child
  // no longer reads from is let go.
  if (ended) session.Cancel();
  writer.join();
  const grpc::Status status = session.Finish();
  if (!ended) result.summary = DescribeError(status);
  return result;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ResolveAll(
    const std::string& address) {
  if (IsUnixAddress(address)) return std::vector<std::string>{address};
  absl::string_view rest = address;
  if (!absl::ConsumePrefix(&rest, "dns:///")) {
    absl::ConsumePrefix(&rest, "dns:");
  }
  const size_t colon = rest.rfind(':');
  if (colon == absl::string_view::npos || colon + 1 == rest.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--all ", address, ": give a port, e.g. dns:///rexecd:50051"));
  }
  std::string host(rest.substr(0, colon));
  const std::string port(rest.substr(colon + 1));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int error = getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
      error != 0) {
    return absl::InvalidArgumentError(absl::StrCat("--all ", address,
                                                   ": cannot resolve ", host,
                                                   ": ", gai_strerror(error)));
  }
  std::vector<std::string> addresses;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    char ip[NI_MAXHOST];
    if (getnameinfo(a->ai_addr, a->ai_addrlen, ip, sizeof ip, nullptr, 0,
                    NI_NUMERICHOST) != 0) {
      continue;
    }
    std::string target = a->ai_family == AF_INET6
                             ? absl::StrCat("[", ip, "]:", port)
                             : absl::StrCat(ip, ":", port);
    if (std::find(addresses.begin(), addresses.end(), target) ==
            addresses.end() &&
        addresses.size() < kMaxFanOutHosts) {
      addresses.push_back(std::move(target));
    }
  }
  freeaddrinfo(found);
  if (addresses.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--all ", address, ": ", host, " resolves to no address"));
  }
  return addresses;
}

absl::StatusOr<std::vector<std::string>> ReadHostsFile(
    const std::string& path) {
  absl::StatusOr<std::string> text = ReadBoundedFile(path, kMaxHostsFileBytes);
  if (!text.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--hosts: ", text.status().message()));
  }
  std::vector<std::string> hosts;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    ++number;
    line = absl::StripAsciiWhitespace(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    if (std::any_of(line.begin(), line.end(), [](char c) {
          return static_cast<unsigned char>(c) <= ' ' || c == 0x7f;
        })) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--hosts ", path, " line ", number, ": \"", absl::CHexEscape(line),
          "\" is not one address (host:port or unix:/path)"));
    }
    if (hosts.size() == kMaxFanOutHosts) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--hosts ", path, ": more than ", kMaxFanOutHosts, " addresses"));
    }
    hosts.emplace_back(line);
  }
  if (hosts.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--hosts ", path, ": no address in it"));
  }
  return hosts;
}

int RunFanOut(const std::vector<std::string>& servers,
              const ConnectOptions& base, int parallel,
              const FanOutCommand& command, int in_fd, int out_fd,
              int err_fd) {
  absl::StatusOr<std::string> input = ReadFanOutInput(in_fd);
  if (!input.ok()) {
    WriteAll(err_fd,
             absl::StrCat("rexec: ", input.status().message(), "\n"));
    return kFanOutInputExitCode;
  }
  PrefixedOutput out(out_fd, err_fd);
  std::vector<HostResult> results(servers.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < servers.size();) {
      ConnectOptions options = base;
      options.address = servers[i];
      absl::StatusOr<Connection> connection = Connect(options);
      if (!connection.ok()) {
        results[i].summary = std::string(connection.status().message());
      } else if (command.spawn != nullptr) {
        results[i] =
            RunOn<SpawnSession>(servers[i], *connection, *command.spawn,
                                *input, out);
      } else {
        results[i] =
            RunOn<ExecSession>(servers[i], *connection, *command.exec,
                               *input, out);
      }
    }
  };
  std::vector<std::thread> workers;
  const size_t count =
      std::min(servers.size(), static_cast<size_t>(std::max(parallel, 1)));
  for (size_t i = 0; i < count; ++i) workers.emplace_back(work);
  for (std::thread& worker : workers) worker.join();

  int failed = 0;
  std::string summary;
  for (size_t i = 0; i < servers.size(); ++i) {
    if (!results[i].ok) ++failed;
    absl::StrAppend(&summary, "rexec: ", servers[i], ": ",
                    results[i].ok ? "ok, " : "FAILED, ", results[i].summary,
                    "\n");
  }
  absl::StrAppend(&summary, "rexec: ", servers.size() - failed, " of ",
                  servers.size(), " servers succeeded, ", failed, " failed\n");
  out.Emit(1, summary);
  return std::min(failed, 254);
}

}  // namespace rexec::client
