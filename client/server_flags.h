// ServerFlags are the flags every command shares: where the command runs
// (--server, or for a fan-out of spawn or exec: a repeated --server,
// --hosts, --all and --parallel), how it reaches a server (--tls-* and
// --token-file, each also from a REXEC_* variable) and how it finds that
// the server is gone (--keepalive-time, --keepalive-timeout). Target is
// what they say once parsed. Used on main's thread only.
#ifndef REXEC_CLIENT_SERVER_FLAGS_H_
#define REXEC_CLIENT_SERVER_FLAGS_H_

#include <string>
#include <vector>

#include "client/connection.h"

namespace CLI {
class App;
}  // namespace CLI

namespace rexec::client {

// Where a command runs, and how it connects.
struct Target {
  // Its address is the first --server, else kDefaultServer.
  ConnectOptions connect;
  // The servers of a fan-out (RunFanOut); empty for one server.
  std::vector<std::string> fan_out;
  // How many servers a fan-out runs on at once.
  int parallel = 32;
};

class ServerFlags {
 public:
  void AddTo(CLI::App& app);

  // After parsing: reads --hosts and resolves --all. Throws
  // CLI::ValidationError naming the flag when they cannot be used.
  Target ToTarget() const;

 private:
  ConnectOptions connect_;
  std::vector<std::string> servers_;
  std::string hosts_file_;
  bool all_ = false;
  int parallel_ = 32;
  std::string keepalive_time_, keepalive_timeout_;
};

}  // namespace rexec::client

#endif  // REXEC_CLIENT_SERVER_FLAGS_H_
