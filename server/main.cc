// rexecd: the rexec server. Parses flags, refuses a configuration that
// would expose it unawares, starts RexecServer, and until told to stop
// reloads its policy and tokens on SIGHUP or when their files change. On
// SIGTERM or SIGINT it drains (RexecServer::Drain: health NOT_SERVING, no
// new calls, running ones end or are stopped within --shutdown-grace) and
// exits 0; a second SIGTERM or SIGINT kills the children at once. With
// --metrics-listen it serves Prometheus metrics over HTTP.
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "common/address.h"
#include "common/bounded_file.h"
#include "common/release_mutexes.h"
#include "common/service_notifier.h"
#include "common/signal_name.h"
#include "common/version.h"
#include "server/auth/authenticator.h"
#include "server/auth/file_watcher.h"
#include "server/auth/peer.h"
#include "server/auth/policy_store.h"
#include "server/auth/tls_credentials.h"
#include "server/auth/token_file.h"
#include "server/front/front.h"
#include "server/ops/logging.h"
#include "server/ops/metrics_http.h"
#include "server/ops/service_status.h"
#include "server/ops/socket_activation.h"
#include "server/process/cgroup.h"
#include "server/process/launcher.h"
#include "server/process/pid_namespace.h"
#include "server/rpc/server.h"
#include "server/table/memory_budget.h"
#include "spdlog/spdlog.h"

namespace {

using rexec::rpc::ConnectionLimits;
using rexec::rpc::ServerConfig;

// File descriptors a running child holds in rexecd, as measured by
// CgroupTest.ARunningChildHoldsAtMostFourFds: three pipe ends and a pidfd
// (a terminal: one fd and the pidfd; a Fork: one more, its channel). The
// start-up check counts on it; the table admits each child by what it
// holds (process::HeldFds) within the limit less kFdsReserved.
constexpr rlim_t kFdsPerChild = 4;
// For connections, the poller, logs and gRPC's own.
constexpr rlim_t kFdsReserved = 256;

struct Flags {
  ServerConfig config;
  ConnectionLimits limits;
  std::vector<std::string> listen;
  rexec::auth::TlsFiles tls;
  std::string token_file, policy_file, socket_mode = "0600", socket_group;
  std::string cgroup_root;
  std::string pid_namespace = "auto";
  std::string audit_on_failure = "drop";
  std::string metrics_listen;
  std::string front;  // --front: the HAProxy to run; "": none
  std::string on_policy_revoke = "stop";
  absl::Duration shutdown_grace = absl::Seconds(10);
  uint64_t memory_budget = 0;  // 0: from the cgroup's limit, see SetBudget
  std::string budget_source;   // why the budget is what it is, for the log
  bool insecure = false;
  std::string log_format = "text", log_level = "info";
};

// --flag values that are durations ("2s", "500ms", "1h30m").
class DurationFlags {
 public:
  void Add(CLI::App& app, const std::string& name, absl::Duration* out,
           const std::string& help) {
    texts_.push_back({name, absl::FormatDuration(*out), out});
    app.add_option(name, texts_.back().text, help)->capture_default_str();
  }
  // Throws CLI::ValidationError naming the flag.
  void Parse() {
    for (Entry& e : texts_) {
      if (!absl::ParseDuration(e.text, e.out) ||
          *e.out < absl::ZeroDuration()) {
        throw CLI::ValidationError(
            e.name, "\"" + e.text + "\" is not a duration like 2s or 500ms");
      }
    }
  }

 private:
  struct Entry {
    std::string name, text;
    absl::Duration* out;
  };
  std::deque<Entry> texts_;  // stable addresses for CLI11
};

void AddFlags(CLI::App& app, Flags& f, DurationFlags& durations) {
  ServerConfig& c = f.config;
  app.add_option("--listen", f.listen,
                 "address to serve, host:port or unix:/path (repeatable; "
                 "default unix:/run/rexec/rexecd.sock)");
  app.add_option("--health-listen", c.health_listen,
                 "also serve the gRPC health service alone, in plaintext, on "
                 "this host:port: for the kubelet's grpc probes, next to an "
                 "mTLS-only --listen");
  app.add_option("--metrics-listen", f.metrics_listen,
                 "serve Prometheus metrics at http://ADDR/metrics; ADDR is "
                 "host:port, or :port for 127.0.0.1 (default: off)")
      ->check([](const std::string& address) {
        absl::Status valid = rexec::ops::CheckMetricsAddress(address);
        return valid.ok() ? std::string() : std::string(valid.message());
      });
  app.add_option(
      "--front", f.front,
      "stand HAProxy (this program: haproxy, or a path) before every "
      "--listen and --health-listen address: it ends TLS, bounds what a "
      "connection may send before it is authenticated (gRPC 1.51 keeps a "
      "header block of any size: CVE-2023-33953), and forwards each call to "
      "rexecd's private socket");
  durations.Add(app, "--shutdown-grace", &f.shutdown_grace,
                "on SIGTERM, how long running calls may go on before they "
                "are stopped (each when only its kill_grace is left); keep "
                "it under the pod's terminationGracePeriodSeconds");
  app.add_option("--workers", c.workers,
                 "completion-queue worker threads (default: one per core)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--max-processes", c.max_processes,
                 "children that may run at once")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-exec-buffer", c.max_exec_buffer,
                 "largest max_buffer, in bytes per stream, an Exec call may "
                 "ask for")
      // Both streams must fit one gRPC message, which is at most 2 GiB.
      ->check(CLI::Range(uint64_t{1}, uint64_t{512} << 20))
      ->capture_default_str();
  app.add_option("--max-exec-memory", c.max_exec_memory,
                 "bytes all running Exec calls may buffer together (each "
                 "holds back 2 x max_buffer)")
      ->transform(CLI::AsSizeValue(false))
      ->capture_default_str();
  app.add_option("--memory-budget", f.memory_budget,
                 "bytes rexecd may hold for its calls in all: held stdin, "
                 "outboxes, Fork messages, Exec buffers, session rings and "
                 "gRPC's buffers (default: 3/4 of the memory limit of "
                 "rexecd's cgroup, else 1GiB)")
      ->transform(CLI::AsSizeValue(false))
      ->check(CLI::Range(uint64_t{16} << 20, uint64_t{1} << 40));
  app.add_option("--node", c.node,
                 "the runtime Fork runs when a call names no exec_path "
                 "(looked up in the child's PATH)")
      ->capture_default_str();
  durations.Add(app, "--drain-timeout", &c.drain_timeout,
                "how long output may keep flowing after a child exits, when "
                "a descendant holds its pipes");
  durations.Add(app, "--max-kill-grace", &c.max_kill_grace,
                "the largest kill_grace a call may ask for");
  durations.Add(app, "--start-timeout", &c.start_timeout,
                "how long a call may take to send its start message");
  app.add_option("--replay-buffer", c.sessions.replay_buffer,
                 "bytes of output a detached process's session keeps per "
                 "stream, for attachments to replay (e.g. 1MiB)")
      ->transform(CLI::AsSizeValue(false))
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 30))
      ->capture_default_str();
  durations.Add(app, "--keep-ended", &c.sessions.keep_ended,
                "how long an ended session is kept with its exit, unless "
                "an attachment collects it first");
  app.add_option("--max-detached", c.sessions.max_per_identity,
                 "sessions (detached processes, ended ones included) an "
                 "identity may have")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-detached-total", c.sessions.max_total,
                 "sessions the server holds in all (each may hold 2 x "
                 "--replay-buffer)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--detached-read-rate", c.sessions.detached_read_rate,
                 "bytes a second of a session's output read once its call "
                 "is gone (e.g. 16MiB): a session that writes without pause "
                 "then blocks on its pipe, and costs a bounded share of a "
                 "core")
      ->transform(CLI::AsSizeValue(false))
      ->check(CLI::Range(uint64_t{4} << 10, uint64_t{1} << 40))
      ->capture_default_str();

  app.add_option("--tls-cert", f.tls.cert,
                 "PEM certificate chain: serve TCP addresses over TLS");
  app.add_option("--tls-key", f.tls.key, "PEM private key of --tls-cert");
  app.add_option("--tls-client-ca", f.tls.client_ca,
                 "PEM CA bundle: require client certificates signed by it "
                 "(mTLS); the certificate names the caller");
  durations.Add(app, "--tls-reload-interval", &f.tls.refresh,
                "how often the TLS files are read again (rotation)");
  app.add_option("--token-file", f.token_file,
                 "lines of NAME SHA256HEX: bearer tokens, by the SHA-256 of "
                 "the token; NAME is the caller's identity");
  app.add_option("--policy", f.policy_file,
                 "JSON or YAML policy: what each identity may run "
                 "(protos/rexec/v1/policy.proto)");
  app.add_option("--on-policy-revoke", f.on_policy_revoke,
                 "what a policy reload does to a session the new policy "
                 "would not start: stop it (with its kill policy), or keep it "
                 "running where no attachment may reach it")
      ->check(CLI::IsMember({"stop", "keep"}))
      ->capture_default_str();
  app.add_flag("--insecure", f.insecure,
               "serve a non-loopback TCP address without TLS, or an "
               "abstract unix socket");
  app.add_option("--socket-mode", f.socket_mode, "octal mode of unix sockets")
      ->capture_default_str();
  app.add_option("--socket-group", f.socket_group,
                 "group (name or id) of unix sockets, for --socket-mode 0660");

  app.add_option("--cgroup-root", f.cgroup_root,
                 "a writable cgroup v2 directory (a delegated subtree): each "
                 "child gets a cgroup in it, stopped whole with cgroup.kill, "
                 "with the policy's memory, pids and cpu limits");

  app.add_option(
         "--pid-namespace", f.pid_namespace,
         "own: rexecd runs as init of a PID namespace of its own, so that the "
         "kernel ends every process it started when it dies (kill -9 "
         "included), and the pids it reports are that namespace's; host: "
         "it runs in the one it was started in; auto: own where it may "
         "(root), else host, saying why. Nothing to do when rexecd is PID 1")
      ->check(CLI::IsMember({"auto", "own", "host"}))
      ->capture_default_str();

  app.add_option("--audit-on-failure", f.audit_on_failure,
                 "when the audit log (stderr) takes no records (its reader "
                 "stalled, a full disk): drop (count them in "
                 "rexec_audit_records_dropped_total, calls go on) or refuse "
                 "(new calls UNAVAILABLE and health NOT_SERVING until it "
                 "takes them again)")
      ->check(CLI::IsMember({"drop", "refuse"}))
      ->capture_default_str();

  ConnectionLimits& l = f.limits;
  durations.Add(app, "--handshake-timeout", &l.handshake_timeout,
                "close a connection that has not finished its handshake");
  durations.Add(app, "--max-connection-idle", &l.max_connection_idle,
                "close a connection with no call for this long");
  durations.Add(app, "--max-connection-age", &l.max_connection_age,
                "after this long a connection takes no new calls (0: never)");
  durations.Add(app, "--keepalive-time", &l.keepalive_time,
                "ping each connection this often, to find dead clients");
  durations.Add(app, "--keepalive-timeout", &l.keepalive_timeout,
                "drop a connection whose ping is not answered in this long");
  durations.Add(app, "--keepalive-min-time", &l.keepalive_min_time,
                "close a connection whose client pings more often than "
                "this during its calls (GOAWAY too_many_pings)");
  app.add_option("--max-streams-per-connection", l.max_streams_per_connection,
                 "calls one connection may have open at once")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-grpc-memory", l.max_memory,
                 "bytes gRPC's buffers may hold in all, out of "
                 "--memory-budget (default: a quarter of it; at most half)")
      ->transform(CLI::AsSizeValue(false));

  app.add_option("--log-format", f.log_format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_option("--log-level", f.log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
}

// Children inherit 0, 1 and 2 through dup2 onto them; if this process was
// started with one of them closed, a pipe could land there and be lost.
void EnsureStandardFds() {
  for (int fd = 0; fd < 3; ++fd) {
    if (fcntl(fd, F_GETFD) == -1) {
      int null_fd = open("/dev/null", O_RDWR);  // takes the lowest free fd
      if (null_fd > 2) close(null_fd);
    }
  }
}

// Refusals of a configuration that would expose the server unawares.
absl::Status CheckExposure(const Flags& f) {
  const bool tls = !f.tls.cert.empty();
  if (tls != !f.tls.key.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  if (!f.tls.client_ca.empty() && !tls) {
    return absl::InvalidArgumentError(
        "--tls-client-ca needs --tls-cert and --tls-key: client certificates "
        "are part of TLS");
  }
  if (!f.policy_file.empty() && f.tls.client_ca.empty() &&
      f.token_file.empty()) {
    return absl::InvalidArgumentError(
        "--policy needs a way to tell callers apart: --tls-client-ca or "
        "--token-file");
  }
  const bool knows_callers = !f.token_file.empty() || !f.tls.client_ca.empty();
  for (const std::string& address : f.config.listen) {
    if (absl::StartsWith(address, "unix-abstract:") && !f.insecure) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--listen ", address,
          ": an abstract unix socket has no file permissions, so any "
          "process on this host (or in this network namespace) could connect; "
          "use unix:/path, or --insecure to serve it anyway"));
    }
    if (rexec::IsUnixAddress(address) || f.insecure) continue;
    if (!tls && !rexec::IsLoopbackAddress(address)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--listen ", address,
          " is not a loopback address, and anyone who reaches it could run "
          "programs as this server's user: give --tls-cert and --tls-key "
          "(with --tls-client-ca or --token-file to know who calls), or "
          "--insecure to serve it in plaintext anyway"));
    }
  }
  // Loopback is no boundary between the users of one host, nor is TLS
  // without client authentication: each of them could connect, and run
  // programs as root.
  for (const std::string& address : f.config.listen) {
    if (rexec::IsUnixAddress(address) || f.insecure) continue;
    if (geteuid() == 0 && !knows_callers) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--listen ", address,
          ": rexecd runs as root, and on TCP without --token-file or "
          "--tls-client-ca every local user could connect and run programs "
          "as root; serve a unix socket (the default, "
          "unix:/run/rexec/rexecd.sock, 0600), give --token-file or "
          "--tls-client-ca, or --insecure to serve it anyway"));
    }
  }
  return absl::OkStatus();
}

void WarnOfExposure(const Flags& f, mode_t socket_mode) {
  // Wider than owner and group: every local user may connect.
  if ((socket_mode & 0007) != 0 &&
      std::any_of(
          f.config.listen.begin(), f.config.listen.end(),
          [](const std::string& a) { return absl::StartsWith(a, "unix:"); })) {
    spdlog::warn(
        "--socket-mode {:04o} lets every user of this host connect to the "
        "unix socket, and run programs as rexecd's user: 0600 or 0660 with "
        "--socket-group keep it to who should",
        socket_mode);
  }
  if (!f.insecure) return;
  for (const std::string& address : f.config.listen) {
    if (absl::StartsWith(address, "unix-abstract:")) {
      spdlog::warn(
          "--insecure: {} is an abstract unix socket: any process "
          "that shares this network namespace may connect",
          address);
    } else if (!rexec::IsUnixAddress(address) && f.tls.cert.empty() &&
               !rexec::IsLoopbackAddress(address)) {
      spdlog::warn(
          "--insecure: {} is served in plaintext: anyone who "
          "reaches it can run programs as this server's user",
          address);
    }
  }
}

// The directory of each unix socket, made (0755, one level) when it is not
// there: /run/rexec of the default, on a fresh host or a tmpfs /run.
absl::Status MakeSocketDirectories(const Flags& f) {
  for (const std::string& address : f.config.listen) {
    if (!absl::StartsWith(address, "unix:")) continue;
    const std::string path = rexec::UnixSocketPath(address);
    const size_t slash = path.rfind('/');
    if (slash == std::string::npos || slash == 0) continue;
    const std::string dir = path.substr(0, slash);
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      return absl::FailedPreconditionError(
          absl::StrCat("--listen ", address, ": cannot make ", dir, ": ",
                       std::strerror(errno)));
    }
  }
  return absl::OkStatus();
}

// Raises the soft limit on open files to the hard one: every child and
// every connection holds a few, and running out (EMFILE) would lock out
// every client at once. Sets the fds children may hold together.
absl::Status RaiseFileLimit(ServerConfig& config) {
  const int max_processes = config.max_processes;
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return absl::InternalError("getrlimit(RLIMIT_NOFILE) failed");
  }
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  const rlim_t needed = kFdsPerChild * max_processes + kFdsReserved;
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < needed) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--max-processes ", max_processes, " needs about ", needed,
        " open files, and this process may open at most ", limit.rlim_max,
        " (the RLIMIT_NOFILE hard limit): raise it (ulimit -Hn, "
        "LimitNOFILE=) or lower --max-processes"));
  }
  if (limit.rlim_max != RLIM_INFINITY) {
    config.max_child_fds = limit.rlim_max - kFdsReserved;
  }
  return absl::OkStatus();
}

absl::StatusOr<mode_t> ParseSocketMode(const std::string& text) {
  char* end = nullptr;
  const long mode = std::strtol(text.c_str(), &end, 8);
  if (text.empty() || *end != '\0' || mode < 0 || mode > 0777) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--socket-mode \"", text, "\" is not an octal mode like 0660"));
  }
  return static_cast<mode_t>(mode);
}

absl::StatusOr<gid_t> ParseSocketGroup(const std::string& text) {
  gid_t gid;
  if (absl::SimpleAtoi(text, &gid)) return gid;
  if (const group* g = getgrnam(text.c_str())) return g->gr_gid;
  return absl::InvalidArgumentError(
      absl::StrCat("--socket-group \"", text, "\" is not a group"));
}

rexec::front::FrontOptions FrontOptions(const Flags& f) {
  rexec::front::FrontOptions o;
  o.haproxy = f.front;
  o.listen = f.config.listen;
  o.health_listen = f.config.health_listen;
  o.tls_cert = f.tls.cert;
  o.tls_key = f.tls.key;
  o.tls_client_ca = f.tls.client_ca;
  o.client_certificate_optional = !f.token_file.empty();
  o.tls_refresh = f.tls.refresh;
  // Parsed again by BuildSecurity, which says what is wrong with them.
  if (absl::StatusOr<mode_t> mode = ParseSocketMode(f.socket_mode); mode.ok()) {
    o.socket_mode = *mode;
  }
  if (!f.socket_group.empty()) {
    if (absl::StatusOr<gid_t> gid = ParseSocketGroup(f.socket_group);
        gid.ok()) {
      o.socket_group = *gid;
    }
  }
  o.limits.max_streams_per_connection = f.limits.max_streams_per_connection;
  o.limits.handshake_timeout = f.limits.handshake_timeout;
  o.limits.idle_timeout = f.limits.max_connection_idle;
  o.limits.keepalive_time = f.limits.keepalive_time;
  o.limits.keepalive_timeout = f.limits.keepalive_timeout;
  return o;
}

// What the security flags make, owned here for the server's life.
struct Security {
  std::unique_ptr<rexec::auth::Authenticator> authenticator;
  std::unique_ptr<rexec::auth::PolicyStore> policy;
  std::string tokens_text;
  rexec::rpc::ServerSecurity server;
};

// Loads the token file into the authenticator: true when it changed since
// it was last loaded.
absl::StatusOr<bool> LoadTokens(const std::string& path, Security& security) {
  absl::StatusOr<std::string> text =
      rexec::ReadBoundedFile(path, rexec::auth::TokenFile::kMaxBytes);
  if (!text.ok()) return text.status();
  if (*text == security.tokens_text) return false;
  absl::StatusOr<rexec::auth::TokenFile> tokens =
      rexec::auth::TokenFile::Parse(*text, path);
  if (!tokens.ok()) return tokens.status();
  security.tokens_text = *std::move(text);
  security.authenticator->SetTokens(
      std::make_shared<rexec::auth::TokenFile>(*std::move(tokens)));
  return true;
}

// With --front, rexecd serves only its private socket (0600 in a 0700
// directory): the socket mode, group and TLS are the front's.
absl::StatusOr<Security> BuildSecurity(const Flags& f,
                                       const rexec::front::Front* front) {
  Security s;
  absl::StatusOr<mode_t> mode = ParseSocketMode(f.socket_mode);
  if (!mode.ok()) return mode.status();
  if (front == nullptr) s.server.socket_mode = *mode;
  if (!f.socket_group.empty()) {
    absl::StatusOr<gid_t> gid = ParseSocketGroup(f.socket_group);
    if (!gid.ok()) return gid.status();
    if (front == nullptr) s.server.socket_group = *gid;
  }
  if (!f.tls.cert.empty()) {
    if (absl::Status files = rexec::auth::CheckTlsFiles(f.tls); !files.ok()) {
      return files;
    }
  }
  if (!f.tls.cert.empty() && front == nullptr) {
    rexec::auth::TlsFiles tls = f.tls;
    tls.tokens_too = !f.token_file.empty();
    s.server.network_credentials = rexec::auth::TlsServerCredentials(tls);
  }
  rexec::auth::Authenticator::Options options;
  options.client_certificates = !f.tls.client_ca.empty();
  options.tokens = !f.token_file.empty();
  options.required =
      options.client_certificates || options.tokens || !f.policy_file.empty();
  if (front != nullptr) options.front_listeners = front->ListenerPeers();
  s.authenticator = std::make_unique<rexec::auth::Authenticator>(options);
  s.server.authenticator = s.authenticator.get();
  if (options.tokens) {
    if (absl::StatusOr<bool> loaded = LoadTokens(f.token_file, s);
        !loaded.ok()) {
      return loaded.status();
    }
  }
  if (!f.policy_file.empty()) {
    absl::StatusOr<std::unique_ptr<rexec::auth::PolicyStore>> policy =
        rexec::auth::PolicyStore::Open(f.policy_file);
    if (!policy.ok()) return policy.status();
    s.policy = *std::move(policy);
    s.server.policy = s.policy.get();
  }
  return s;
}

// A warning for each rule of the policy in force that may run children as
// root (see Policy::RulesRunningAsRoot).
void WarnOfRootRules(const rexec::auth::PolicyStore& store) {
  for (const std::string& rule :
       store.Current()->RulesRunningAsRoot(geteuid() == 0)) {
    spdlog::warn(
        "policy rule \"{}\" may run children as root: without capabilities "
        "and with no_new_privs they still own every root-owned file "
        "(/proc/sys, cgroup files, /etc, rexecd's own binary), so neither "
        "isolation nor a cgroup contains them; give the rule a default_user "
        "that is not root",
        rule);
  }
}

// SIGHUP, or a change in a watched directory: load the policy and the
// tokens again. A file that does not load is logged and the old one stays;
// one that changed is logged as such.
void Reload(const Flags& f, Security& security,
            rexec::rpc::RexecServer& server) {
  if (security.policy != nullptr) {
    absl::StatusOr<bool> changed = security.policy->Reload();
    if (!changed.ok()) {
      spdlog::error("policy not reloaded, the one in force stays: {}",
                    std::string(changed.status().message()));
    } else if (*changed) {
      spdlog::info("policy {} reloaded: {} rules", f.policy_file,
                   security.policy->Current()->rule_count());
      WarnOfRootRules(*security.policy);
      const bool stop = f.on_policy_revoke == "stop";
      if (int revoked = server.ReviewSessions(stop); revoked > 0) {
        spdlog::warn(
            "{} sessions would not be started under the reloaded policy: {} "
            "(--on-policy-revoke {}; each has an audit record)",
            revoked,
            stop ? "they are stopped"
                 : "they run on, and no attachment may reach them",
            f.on_policy_revoke);
      }
    }
  }
  if (!f.token_file.empty()) {
    absl::StatusOr<bool> changed = LoadTokens(f.token_file, security);
    if (!changed.ok()) {
      spdlog::error("tokens not reloaded, the ones in force stay: {}",
                    std::string(changed.status().message()));
    } else if (*changed) {
      spdlog::info("tokens {} reloaded", f.token_file);
    }
  }
}

// What becomes of rexecd's processes if it is killed.
// --memory-budget, when not given: 3/4 of the memory limit rexecd runs
// under (the rest is its own: code, threads, the kernel's share of pipes
// and sockets), else 1 GiB.
void SetMemoryBudget(Flags& f) {
  constexpr uint64_t kLeast = uint64_t{16} << 20;
  if (f.memory_budget != 0) {
    f.budget_source = "--memory-budget";
  } else if (std::optional<uint64_t> limit = rexec::process::OwnMemoryLimit()) {
    f.memory_budget = std::max(*limit / 4 * 3, kLeast);
    f.budget_source = absl::StrCat("3/4 of the memory limit of rexecd's cgroup, ",
                                   rexec::table::SizeText(*limit));
  } else {
    f.memory_budget = uint64_t{1} << 30;
    f.budget_source = "rexecd's cgroup has no memory limit";
  }
  f.config.memory_budget = f.memory_budget;
}

void LogPidNamespace(const rexec::process::PidNamespace& ns, bool cgroups) {
  using Kind = rexec::process::PidNamespace::Kind;
  switch (ns.kind) {
    case Kind::kOwn:
      spdlog::info(
          "rexecd is init of a PID namespace of its own (pid {} outside it): "
          "whatever it started ends when it does, however it ends; the pids "
          "it reports are the namespace's",
          ns.outer_pid);
      break;
    case Kind::kContainer:
      spdlog::info("rexecd is PID 1: whatever it started ends when it does");
      break;
    case Kind::kHost:
      spdlog::warn(
          "no PID namespace of its own ({}): if rexecd is killed (kill -9, "
          "the OOM killer), its children die with it, but what they started "
          "runs on{}",
          ns.why,
          cgroups ? " until a rexecd starts again on the same --cgroup-root"
                  : "");
      break;
  }
}

// The signals in `handled` (blocked in every thread), as signalfd_siginfo
// records on the pipe returned, taken by a thread of their own in
// sigwaitinfo(). Not a signalfd that the loop below polls: every signalfd of
// a process waits on one queue, woken for each signal the process gets,
// whatever the fd's mask; so a thread polling one woke for each child's
// SIGCHLD (the orphan reaper's), a thread switch per spawn. sigwaitinfo()
// wakes only for the signals it waits for.
int TakeSignals(const sigset_t& handled) {
  int ends[2];
  if (pipe2(ends, O_CLOEXEC) != 0) {
    std::fprintf(stderr, "rexecd: pipe for signals: %s\n",
                 std::strerror(errno));
    std::exit(1);
  }
  std::thread([handled, out = ends[1]] {
    for (;;) {
      siginfo_t info{};
      if (sigwaitinfo(&handled, &info) < 0) continue;  // EINTR
      // The fields HeededSignal() reads, as a signalfd would give them
      // (si_pid is 0 for a sender outside our PID namespace, alike).
      signalfd_siginfo record{};
      record.ssi_signo = static_cast<uint32_t>(info.si_signo);
      record.ssi_code = info.si_code;
      record.ssi_pid = static_cast<uint32_t>(info.si_pid);
      record.ssi_uid = info.si_uid;
      record.ssi_int = info.si_value.sival_int;
      // One record is far below PIPE_BUF: a blocking write puts it whole.
      // The loop reads until rexecd leaves; after that, a full pipe just
      // holds this thread until the exit.
      while (write(out, &record, sizeof record) < 0 && errno == EINTR) {
      }
    }
  }).detach();
  return ends[0];
}

// Waits for signals and file changes until the server has stopped. The
// first SIGTERM/SIGINT starts a graceful shutdown on another thread; a
// second kills every child at once.
void RunUntilStopped(const Flags& f, Security& security,
                     rexec::rpc::RexecServer& server, int signals_fd,
                     const rexec::process::PidNamespace& pid_namespace,
                     rexec::ops::ServiceStatus& service) {
  std::vector<std::string> files;
  if (!f.policy_file.empty()) files.push_back(f.policy_file);
  if (!f.token_file.empty()) files.push_back(f.token_file);
  std::optional<rexec::auth::FileWatcher> watcher;
  if (!files.empty()) {
    absl::StatusOr<rexec::auth::FileWatcher> created =
        rexec::auth::FileWatcher::Create(files);
    if (created.ok()) {
      watcher.emplace(*std::move(created));
    } else {
      spdlog::warn("files will be reloaded on SIGHUP only: {}",
                   std::string(created.status().message()));
    }
  }
  const int stopped_fd = eventfd(0, EFD_CLOEXEC);
  std::thread stopper;
  bool forced = false;
  // After the second signal, the stop has this long before we leave anyway.
  constexpr int kForcedStopMs = 10'000;
  for (;;) {
    pollfd fds[4] = {{signals_fd, POLLIN, 0},
                     {stopped_fd, POLLIN, 0},
                     {watcher ? watcher->fd() : -1, POLLIN, 0},
                     {rexec::process::Launcher::Global()->pidfd(), POLLIN, 0}};
    const int ready = poll(fds, 4, forced ? kForcedStopMs : -1);
    if (ready == 0) {
      spdlog::error("the forced stop did not finish in {} ms; exiting",
                    kForcedStopMs);
      rexec::ops::ShutdownLogging();
      std::_Exit(1);
    }
    if (ready < 0) continue;
    if (fds[1].revents & POLLIN) break;
    if (fds[3].revents & POLLIN) {
      // No child can start any more: say so loudly and leave, so that a
      // supervisor restarts us, rather than refuse every call.
      const int groups = server.KillAll();
      spdlog::error("the launcher (pid {}) exited; killed {} process groups",
                    rexec::process::Launcher::Global()->pid(), groups);
      rexec::ops::ShutdownLogging();
      std::_Exit(1);
    }
    if (fds[2].revents & POLLIN && watcher->Drain()) {
      Reload(f, security, server);
    }
    if (!(fds[0].revents & POLLIN)) continue;
    signalfd_siginfo info;
    if (read(signals_fd, &info, sizeof info) != sizeof info) continue;
    const int sig = rexec::process::HeededSignal(pid_namespace, info);
    if (sig == 0) continue;
    if (sig == SIGHUP) {
      service.Reloading();
      Reload(f, security, server);
      service.Ready("serving; policy and tokens reloaded");
    } else if (!stopper.joinable()) {
      // Not serving before it is said.
      server.BeginDrain(absl::Now() + f.shutdown_grace);
      service.Stopping(absl::StrCat("draining for up to ",
                                    absl::FormatDuration(f.shutdown_grace)));
      spdlog::info(
          "{}: draining: no new calls; running ones have {} to end before "
          "they are stopped (a second {} stops them at once)",
          rexec::SignalName(sig), absl::FormatDuration(f.shutdown_grace),
          rexec::SignalName(sig));
      stopper = std::thread([&server, stopped_fd, grace = f.shutdown_grace] {
        if (int groups = server.Drain(grace); groups > 0) {
          spdlog::warn(
              "--shutdown-grace passed: killed {} process groups with SIGKILL",
              groups);
        }
        uint64_t one = 1;
        (void)!write(stopped_fd, &one, sizeof one);
      });
    } else if (!forced) {
      forced = true;
      int groups = server.StopNow();
      spdlog::warn("{} again: killed {} process groups with SIGKILL",
                   rexec::SignalName(sig), groups);
    }
  }
  stopper.join();
  close(stopped_fd);
}

}  // namespace

int main(int argc, char** argv) {
  rexec::ReleaseMutexes();
  Flags flags;
  DurationFlags durations;
  CLI::App app{
      "rexecd: runs child processes for rexec.v1.ChildProcess clients"};
  AddFlags(app, flags, durations);
  app.set_version_flag("--version", rexec::VersionLine("rexecd"));
  try {
    app.parse(argc, argv);
    durations.Parse();
  } catch (const CLI::Error& e) {
    // 0 for --help and --version; 2 for a command line that does not parse,
    // as most tools (CLI11's own codes are 105 and up).
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (!flags.listen.empty()) flags.config.listen = flags.listen;
  flags.config.refuse_without_audit = flags.audit_on_failure == "refuse";
  // Out of the environment before any thread, child or fork: only rexecd
  // (or the keeper of its namespace) speaks for it to systemd.
  rexec::ServiceNotifier notifier = rexec::ServiceNotifier::FromEnvironment();
  // The same for the sockets systemd passed (rexecd.socket): each takes the
  // place of the --listen of its path, and the default's.
  absl::StatusOr<std::vector<rexec::ops::ActivatedSocket>> activated =
      rexec::ops::TakeActivatedSockets();
  if (!activated.ok()) {
    std::fprintf(stderr, "rexecd: %s\n",
                 std::string(activated.status().message()).c_str());
    return 1;
  }
  if (!activated->empty() && !flags.front.empty()) {
    std::fprintf(stderr,
                 "rexecd: --front serves the --listen addresses through "
                 "HAProxy, which sockets from systemd (rexecd.socket) would "
                 "bypass: use one or the other\n");
    return 2;
  }
  if (!activated->empty() && flags.listen.empty()) flags.config.listen.clear();
  for (const rexec::ops::ActivatedSocket& socket : *activated) {
    std::vector<std::string>& listen = flags.config.listen;
    listen.erase(std::remove_if(listen.begin(), listen.end(),
                                [&socket](const std::string& address) {
                                  return rexec::UnixSocketPath(address) ==
                                             rexec::UnixSocketPath(
                                                 socket.address) &&
                                         rexec::IsUnixAddress(address);
                                }),
                 listen.end());
  }
  flags.config.activated = *activated;
  // Before the namespace and the launcher: rexecd moves to a leaf of the
  // root, and its fork (the namespace's init, then the launcher) with it,
  // where a move after the fork would leave the keeper behind.
  std::unique_ptr<rexec::process::CgroupRoot> cgroup_root;
  if (!flags.cgroup_root.empty()) {
    absl::StatusOr<std::unique_ptr<rexec::process::CgroupRoot>> opened =
        rexec::process::CgroupRoot::Open(flags.cgroup_root, {getpid()},
                                         flags.config.max_processes);
    if (!opened.ok()) {
      std::fprintf(stderr, "rexecd: %s\n",
                   std::string(opened.status().message()).c_str());
      return 1;
    }
    cgroup_root = *std::move(opened);
    flags.config.cgroup_root = cgroup_root.get();
  }
  SetMemoryBudget(flags);
  // Then the launcher, and all it starts, must be in the namespace.
  rexec::process::PidNamespaceMode mode;
  rexec::process::ParsePidNamespaceMode(flags.pid_namespace, &mode);
  const absl::StatusOr<rexec::process::PidNamespace> pid_namespace =
      rexec::process::EnterOwnPidNamespace(mode, notifier);
  if (!pid_namespace.ok()) {
    std::fprintf(stderr, "rexecd: %s\n",
                 std::string(pid_namespace.status().message()).c_str());
    return 1;
  }
  rexec::ops::ServiceStatus service(std::move(notifier),
                                    pid_namespace->notify_fd);
  // Before the first thread, socket or secret: the launcher is a fork of
  // this process without an exec, and holds none of them.
  if (absl::Status started = rexec::process::Launcher::Start(); !started.ok()) {
    std::fprintf(stderr, "rexecd: %s\n",
                 std::string(started.message()).c_str());
    return 1;
  }

  // As sshd: no core dump of ours, and no process of our user may read our
  // memory, environment or fds through /proc or ptrace.
  prctl(PR_SET_DUMPABLE, 0);
  EnsureStandardFds();
  // A child that closes its stdin early must not kill us with SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  // Block the signals we handle in every thread (the ones started later,
  // the signals' and the logs' first, inherit the mask), so that only the
  // signals' thread below takes them.
  sigset_t handled;
  sigemptyset(&handled);
  for (int sig : rexec::process::kServerSignals) sigaddset(&handled, sig);
  sigaddset(&handled, rexec::process::ForwardingSignal());
  // SIGCHLD too, for the orphan reaper's signalfd (orphan_reaper.h).
  sigset_t blocked = handled;
  sigaddset(&blocked, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &blocked, nullptr);
  const int signals_fd = TakeSignals(handled);
  // Logs go to stderr, each from a thread of its own: what a container
  // runtime collects, and a stalled reader does not hold up a call.
  rexec::ops::SetUpLogging(flags.log_format == "json"
                               ? rexec::ops::LogFormat::kJson
                               : rexec::ops::LogFormat::kText);
  absl::Cleanup logs_written = [] { rexec::ops::ShutdownLogging(); };
  spdlog::set_level(spdlog::level::from_str(flags.log_level));

  if (cgroup_root != nullptr) {
    if (int left = cgroup_root->leftovers(); left > 0) {
      spdlog::warn(
          "--cgroup-root {}: a rexecd before this one left {} children's "
          "cgroups (it was killed, or died): what ran in them was killed",
          flags.cgroup_root, left);
    }
  }

  absl::Status limit = RaiseFileLimit(flags.config);
  if (limit.ok()) limit = CheckExposure(flags);
  if (limit.ok()) limit = MakeSocketDirectories(flags);
  std::unique_ptr<rexec::front::Front> front;
  if (limit.ok() && !flags.front.empty()) {
    absl::StatusOr<std::unique_ptr<rexec::front::Front>> bound =
        rexec::front::Front::Bind(FrontOptions(flags));
    if (bound.ok()) {
      front = *std::move(bound);
    } else {
      limit = bound.status();
    }
  }
  absl::StatusOr<Security> security = limit.ok()
                                          ? BuildSecurity(flags, front.get())
                                          : absl::StatusOr<Security>(limit);
  if (!security.ok()) {
    std::fprintf(stderr, "rexecd: %s\n",
                 std::string(security.status().message()).c_str());
    return 1;
  }
  rexec::rpc::ServerConfig served = flags.config;
  if (front != nullptr) {
    served.listen.clear();
    served.connections_handed_over = true;
    served.health_listen.clear();
    served.health_handed_over = front->has_health();
  }
  auto server =
      rexec::rpc::RexecServer::Start(served, security->server, flags.limits);
  absl::Status front_started = absl::OkStatus();
  if (server.ok() && front != nullptr) {
    rexec::rpc::RexecServer* serving = server->get();
    front_started = front->Start(
        [serving](int fd, bool health) { serving->AddConnection(fd, health); });
  }
  if (!server.ok() || !front_started.ok()) {
    std::fprintf(stderr, "rexecd: %s\n",
                 std::string(server.ok() ? front_started.message()
                                         : server.status().message())
                     .c_str());
    return 1;
  }
  std::unique_ptr<rexec::ops::MetricsHttpServer> metrics;
  if (!flags.metrics_listen.empty()) {
    rexec::rpc::RexecServer* served = server->get();
    absl::StatusOr<std::unique_ptr<rexec::ops::MetricsHttpServer>> started =
        rexec::ops::MetricsHttpServer::Start(
            flags.metrics_listen, [served] { return served->RenderMetrics(); });
    if (!started.ok()) {
      std::fprintf(stderr, "rexecd: %s\n",
                   std::string(started.status().message()).c_str());
      return 1;
    }
    metrics = *std::move(started);
  }
  WarnOfExposure(flags, ParseSocketMode(flags.socket_mode).value_or(0600));
  if (security->policy != nullptr) WarnOfRootRules(*security->policy);
  if (cgroup_root != nullptr) {
    spdlog::info("children get cgroups in {} (controllers: {})",
                 cgroup_root->path(), cgroup_root->Controllers());
  } else {
    spdlog::info(
        "no --cgroup-root: a stop reaches each child's process group only "
        "(a descendant that calls setsid escapes it), and calls whose rule "
        "sets cgroup limits are refused");
  }
  spdlog::info("{}", rexec::VersionLine("rexecd"));
  spdlog::info("memory budget for calls: {} ({})",
               rexec::table::SizeText(flags.memory_budget),
               flags.budget_source);
  LogPidNamespace(*pid_namespace, cgroup_root != nullptr);
  for (const std::string& address :
       front != nullptr ? front->addresses() : (*server)->addresses()) {
    spdlog::info("listening on {}", address);
  }
  const std::string health = front != nullptr ? front->bound_health_address()
                                              : (*server)->health_address();
  if (!health.empty()) {
    spdlog::info("health service on {} (plaintext)", health);
  }
  if (front != nullptr) {
    spdlog::info(
        "--front: HAProxy ({}) stands before those addresses; "
        "rexecd serves it on @{}",
        flags.front, front->private_name());
  }
  if (metrics != nullptr) {
    spdlog::info("metrics on http://{}/metrics", metrics->address());
  }
  rexec::rpc::RexecServer* serving = server->get();
  rexec::ops::OnAuditWritableChange(
      [serving](bool) { serving->UpdateServing(); });
  service.Ready(absl::StrCat(
      "serving on ",
      absl::StrJoin(front != nullptr ? front->addresses()
                                     : (*server)->addresses(),
                    ", ")));
  RunUntilStopped(flags, *security, **server, signals_fd, *pid_namespace,
                  service);
  rexec::ops::OnAuditWritableChange(nullptr);
  // Before the server goes: the front hands it connections.
  front.reset();
  metrics.reset();
  spdlog::info("stopped");
  return 0;
}
