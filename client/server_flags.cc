#include "client/server_flags.h"

#include <utility>

#include "CLI/CLI.hpp"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "client/fan_out.h"
#include "common/address.h"

namespace rexec::client {
namespace {

// The servers a fan-out runs on; empty for a single server. With --all,
// `connect` expects the resolved name in the server's certificate.
std::vector<std::string> FanOutServers(const std::vector<std::string>& names,
                                       const std::string& hosts_file, bool all,
                                       ConnectOptions& connect) {
  std::vector<std::string> servers;
  if (!hosts_file.empty()) {
    absl::StatusOr<std::vector<std::string>> hosts = ReadHostsFile(hosts_file);
    if (!hosts.ok()) {
      throw CLI::ValidationError("--hosts",
                                 std::string(hosts.status().message()));
    }
    for (const std::string& host : *hosts) {
      servers.push_back(WithDefaultPort(host, kDefaultPort));
    }
  }
  for (const std::string& server : names) {
    if (!all) {
      servers.push_back(server);
      continue;
    }
    absl::StatusOr<std::vector<std::string>> resolved = ResolveAll(server);
    if (!resolved.ok()) {
      throw CLI::ValidationError("--all",
                                 std::string(resolved.status().message()));
    }
    // A certificate names the service, not each pod's address.
    if (connect.tls_server_name.empty() && !IsUnixAddress(server)) {
      absl::string_view host = server;
      absl::ConsumePrefix(&host, "dns:///");
      absl::ConsumePrefix(&host, "dns:");
      connect.tls_server_name = std::string(HostOf(host));
    }
    servers.insert(servers.end(), resolved->begin(), resolved->end());
  }
  if (all && names.empty()) {
    throw CLI::ValidationError("--all", "needs --server NAME:PORT to resolve");
  }
  if (servers.size() > kMaxFanOutHosts) {
    throw CLI::ValidationError(
        "--server",
        "more than " + std::to_string(kMaxFanOutHosts) + " servers");
  }
  // One server named once is not a fan-out, unless --all or --hosts.
  if (servers.size() == 1 && !all && hosts_file.empty()) servers.clear();
  return servers;
}

// A duration flag's value ("30s", "1m", "500ms"); `positive` refuses 0.
absl::Duration ParseDurationFlag(const std::string& flag,
                                 const std::string& text, bool positive) {
  absl::Duration d;
  if (!absl::ParseDuration(text, &d) || d < absl::ZeroDuration() ||
      (positive && d == absl::ZeroDuration())) {
    throw CLI::ValidationError(
        flag, "\"" + text + "\" is not a duration like 30s, 1m or 500ms" +
                  (positive ? ", more than 0" : ""));
  }
  return d;
}

}  // namespace

void ServerFlags::AddTo(CLI::App& app) {
  app.add_option("--server", servers_,
                 "rexecd address, host[:port] (port 50051 unless given) or "
                 "unix:/path (default "
                 "unix:/run/rexec/rexecd.sock, rexecd's own default); repeat "
                 "it to run spawn or exec on each")
      ->envname("REXEC_SERVER")
      ->allow_extra_args(false);
  app.add_option("--hosts", hosts_file_,
                 "a file of rexecd addresses, one per line: run spawn or "
                 "exec on each");
  app.add_flag("--all", all_,
               "run spawn or exec on every address --server's name resolves "
               "to (dns:///rexecd.NAMESPACE.svc.cluster.local:50051: a "
               "headless Service names every pod)");
  app.add_option("--parallel", parallel_, "servers a fan-out runs on at once")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--tls-ca", connect_.tls_ca,
                 "PEM CA bundle to verify the server with: use TLS")
      ->envname("REXEC_TLS_CA");
  app.add_option("--tls-cert", connect_.tls_cert,
                 "PEM client certificate, for a server that requires one "
                 "(mTLS)")
      ->envname("REXEC_TLS_CERT");
  app.add_option("--tls-key", connect_.tls_key, "PEM private key of --tls-cert")
      ->envname("REXEC_TLS_KEY");
  app.add_option("--tls-server-name", connect_.tls_server_name,
                 "the name to expect in the server's certificate (default: "
                 "the host of --server)")
      ->envname("REXEC_TLS_SERVER_NAME");
  app.add_option("--token-file", connect_.token_file,
                 "file whose first line is a bearer token to send")
      ->envname("REXEC_TOKEN_FILE");
  keepalive_time_ = absl::FormatDuration(kDefaultKeepaliveTime);
  keepalive_timeout_ = absl::FormatDuration(kDefaultKeepaliveTimeout);
  app.add_option("--keepalive-time", keepalive_time_,
                 "while a call is open, ping the server after this long "
                 "without a word from it (0: never), to find a server that "
                 "froze or vanished")
      ->capture_default_str();
  app.add_option("--keepalive-timeout", keepalive_timeout_,
                 "give the connection up (the call fails UNAVAILABLE) when "
                 "a ping is not answered in this long")
      ->capture_default_str();
}

Target ServerFlags::ToTarget() const {
  Target target;
  target.connect = connect_;
  std::vector<std::string> servers;
  for (const std::string& server : servers_) {
    servers.push_back(WithDefaultPort(server, kDefaultPort));
  }
  target.fan_out = FanOutServers(servers, hosts_file_, all_, target.connect);
  target.connect.address = servers.empty() ? kDefaultServer : servers.front();
  target.parallel = parallel_;
  target.connect.keepalive_time =
      ParseDurationFlag("--keepalive-time", keepalive_time_, false);
  target.connect.keepalive_timeout =
      ParseDurationFlag("--keepalive-timeout", keepalive_timeout_, true);
  return target;
}

}  // namespace rexec::client
