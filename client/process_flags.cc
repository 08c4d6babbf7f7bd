#include "client/process_flags.h"

#include <utility>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/time/time.h"

namespace rexec::client {
namespace {

// "nofile=64": prlimit(1)'s names.
void SetLimit(const std::string& text, v1::ResourceLimits* out) {
  using Setter = void (v1::ResourceLimits::*)(uint64_t);
  static const std::pair<const char*, Setter> kNames[] = {
      {"cpu", &v1::ResourceLimits::set_cpu_seconds},
      {"as", &v1::ResourceLimits::set_address_space_bytes},
      {"nofile", &v1::ResourceLimits::set_open_files},
      {"nproc", &v1::ResourceLimits::set_processes},
      {"fsize", &v1::ResourceLimits::set_file_size_bytes},
      {"core", &v1::ResourceLimits::set_core_size_bytes},
  };
  const size_t eq = text.find('=');
  uint64_t value;
  if (eq != std::string::npos &&
      absl::SimpleAtoi(absl::string_view(text).substr(eq + 1), &value)) {
    for (const auto& [name, set] : kNames) {
      if (text.compare(0, eq, name) == 0) return (out->*set)(value);
    }
  }
  throw CLI::ValidationError(
      "--limit", "\"" + text +
                     "\" is not NAME=NUMBER with NAME one of cpu, as, "
                     "nofile, nproc, fsize, core");
}

void SetDuration(const std::string& flag, const std::string& text,
                 google::protobuf::Duration* out) {
  absl::Duration d;
  if (!absl::ParseDuration(text, &d) || d < absl::ZeroDuration()) {
    throw CLI::ValidationError(
        flag, "\"" + text + "\" is not a duration like 30s, 1m or 500ms");
  }
  int64_t nanos = absl::ToInt64Nanoseconds(d);
  out->set_seconds(nanos / 1'000'000'000);
  out->set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
}

}  // namespace

void ProcessFlags::AddTo(CLI::App* command) {
  // One value per flag: a repeatable flag must not swallow the command.
  command
      ->add_option("--env", env_,
                   "set K=V in the child's environment (repeatable)")
      ->allow_extra_args(false);
  command->add_flag("--clear-env", clear_env_,
                    "start from an empty environment");
  command->add_option("--cwd", cwd_, "working directory of the child");
  command->add_option("--timeout", timeout_,
                      "stop the child after this long, e.g. 30s");
  command->add_option("--kill-signal", kill_signal_,
                      "signal that starts a stop (default SIGTERM)");
  command->add_option("--kill-grace", kill_grace_,
                      "time before SIGKILL follows (default 5s)");
  command->add_option("--user", user_,
                      "run as this user (name or id), as sudo -u does");
  command->add_option("--group", group_,
                      "primary group (name or id); default: the user's");
  command
      ->add_option("--groups", groups_,
                   "a supplementary group (repeatable); default: the "
                   "user's")
      ->allow_extra_args(false);
  command
      ->add_option("--limit", limits_,
                   "a resource limit NAME=VALUE (repeatable): cpu "
                   "(seconds), as, fsize, core (bytes), nofile, nproc")
      ->allow_extra_args(false);
}

v1::ProcessOptions ProcessFlags::ToProto() const {
  v1::ProcessOptions options;
  for (const std::string& pair : env_) {
    size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw CLI::ValidationError("--env",
                                 "\"" + pair + "\" is not of the form K=V");
    }
    (*options.mutable_env())[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  options.set_clear_env(clear_env_);
  options.set_cwd(cwd_);
  options.set_kill_signal(kill_signal_);
  if (!timeout_.empty()) {
    SetDuration("--timeout", timeout_, options.mutable_timeout());
  }
  if (!kill_grace_.empty()) {
    SetDuration("--kill-grace", kill_grace_, options.mutable_kill_grace());
  }
  options.set_user(user_);
  options.set_group(group_);
  for (const std::string& g : groups_) options.add_groups(g);
  for (const std::string& limit : limits_) {
    SetLimit(limit, options.mutable_limits());
  }
  return options;
}

}  // namespace rexec::client
