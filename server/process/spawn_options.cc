#include "server/process/spawn_options.h"

#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "server/process/executable_lookup.h"

extern char** environ;

namespace rexec::process {
namespace {

std::optional<absl::string_view> FindPath(const std::vector<std::string>& env) {
  for (const std::string& entry : env) {
    if (entry.rfind("PATH=", 0) == 0) return absl::string_view(entry).substr(5);
  }
  return std::nullopt;
}

}  // namespace

bool ValidEnvName(absl::string_view name) {
  return !name.empty() && name.find('=') == absl::string_view::npos &&
         name.find('\0') == absl::string_view::npos;
}

int HeldFds(const SpawnOptions& options) {
  int fds = 1;  // the pidfd
  for (const StdioFd& fd : options.stdio) {
    if (fd.kind == StdioKind::kPipe || fd.kind == StdioKind::kSocket) ++fds;
  }
  if (options.terminal) ++fds;
  if (options.containment.pid_namespace) ++fds;
  return fds;
}

std::vector<std::string> BuildEnvironment(const SpawnOptions& options) {
  std::vector<std::string> env;
  absl::flat_hash_map<std::string, size_t> index;
  auto put = [&](std::string name, std::string entry) {
    auto [it, inserted] = index.try_emplace(std::move(name), env.size());
    if (inserted) {
      env.push_back(std::move(entry));
    } else {
      env[it->second] = std::move(entry);
    }
  };
  if (!options.clear_env && options.base_env.has_value()) {
    for (const auto& [name, value] : *options.base_env) {
      put(name, absl::StrCat(name, "=", value));
    }
  } else if (!options.clear_env) {
    for (char** e = environ; *e != nullptr; ++e) {
      const char* eq = std::strchr(*e, '=');
      if (eq == nullptr) continue;
      put(std::string(*e, eq - *e), *e);
    }
  }
  for (const auto* list : {&options.fixed_env, &options.env}) {
    for (const auto& [name, value] : *list) {
      put(name, absl::StrCat(name, "=", value));
    }
  }
  // What the terminal is, whatever the environment said (sshd does so).
  if (options.terminal)
    put("TERM", absl::StrCat("TERM=", options.terminal->term));
  return env;
}

absl::StatusOr<std::string> ResolveExecutable(const SpawnOptions& options) {
  if (!options.executable.empty()) return options.executable;
  return ResolveExecutable(options, BuildEnvironment(options));
}

absl::StatusOr<std::string> ResolveExecutable(
    const SpawnOptions& options, const std::vector<std::string>& env) {
  if (!options.executable.empty()) return options.executable;
  return FindExecutable(options.argv[0], FindPath(env), options.cwd);
}

absl::StatusOr<std::vector<std::string>> CandidateExecutables(
    const SpawnOptions& options) {
  const std::vector<std::string> env = BuildEnvironment(options);
  return ExecutableCandidates(options.argv[0], FindPath(env), options.cwd);
}

absl::Status ValidateSpawnOptions(const SpawnOptions& options) {
  if (options.argv.empty() || options.argv[0].empty()) {
    return absl::InvalidArgumentError(
        "argv is empty: argv[0] must name the program");
  }
  for (size_t i = 0; i < options.argv.size(); ++i) {
    if (options.argv[i].find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("argv[", i, "] contains a NUL byte"));
    }
  }
  for (const auto& [name, value] : options.env) {
    // Names may be any bytes of any length (env_bytes): escaped and cut,
    // so that a message stays a short line of text.
    if (!ValidEnvName(name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "env name \"", absl::CHexEscape(name.substr(0, 80)),
          "\" is invalid: it must be non-empty without '=' or NUL"));
    }
    if (value.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("env ", absl::CHexEscape(name.substr(0, 80)),
                       " value contains a NUL byte"));
    }
  }
  if (options.umask && *options.umask > 0777) {
    return absl::InvalidArgumentError(
        absl::StrFormat("umask is 0%o: it must be 0 to 0777", *options.umask));
  }
  if (options.cwd.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError("cwd contains a NUL byte");
  }
  // argv[0] names the file unless `executable` does (then it is only what
  // the child sees, any string).
  if (options.executable.empty()) {
    REXEC_RETURN_IF_ERROR(CheckPathLength(options.argv[0], "argv[0]"));
  }
  REXEC_RETURN_IF_ERROR(CheckPathLength(options.cwd, "cwd"));
  bool seen[kStdioTargets] = {};
  bool pty = false;
  for (const StdioFd& fd : options.stdio) {
    if (fd.target < 0 || fd.target >= kStdioTargets || seen[fd.target]) {
      return absl::InvalidArgumentError(
          absl::StrCat("stdio fd ", fd.target, " is out of range (0 to ",
                       kStdioTargets - 1, ") or given twice"));
    }
    seen[fd.target] = true;
    pty |= fd.kind == StdioKind::kPty;
  }
  if (pty != options.terminal.has_value()) {
    return absl::InvalidArgumentError(
        "a pty stdio fd needs terminal options, and terminal options a pty "
        "stdio fd");
  }
  return absl::OkStatus();
}

}  // namespace rexec::process
