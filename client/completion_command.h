// `rexec completion bash|zsh|fish` prints a shell completion script made
// from the CLI's own command and flag tree, as `kubectl completion` does:
// a command or flag added to rexec is completed without anyone editing a
// script. Session names for attach, logs and kill come from `rexec ps` on
// the server the command line names so far.
//
// Used on main's thread only.
#ifndef REXEC_CLIENT_COMPLETION_COMMAND_H_
#define REXEC_CLIENT_COMPLETION_COMMAND_H_

#include <string>

#include "client/cli_command.h"

namespace rexec::client {

// The script for `shell` ("bash", "zsh" or "fish") over `app`'s tree.
std::string CompletionScript(const CLI::App& app, const std::string& shell);

class CompletionCommand : public CliCommand {
 public:
  void AddTo(CLI::App& app) override;
  const CLI::App* Chosen() const override;
  int Run(const Target& target) override;

 private:
  const CLI::App* app_ = nullptr;
  CLI::App* command_ = nullptr;
  std::string shell_;
};

}  // namespace rexec::client

#endif  // REXEC_CLIENT_COMPLETION_COMMAND_H_
