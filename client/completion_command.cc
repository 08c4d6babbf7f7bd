#include "client/completion_command.h"

#include <unistd.h>

#include <algorithm>
#include <iterator>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "client/command_support.h"

namespace rexec::client {
namespace {

// The subcommands whose one argument is a session.
constexpr const char* kSessionCommands[] = {"attach", "logs", "kill"};
// The connection flags `rexec ps` needs to reach the same server.
constexpr const char* kConnectionFlags[] = {
    "--server",  "--tls-ca",          "--tls-cert",
    "--tls-key", "--tls-server-name", "--token-file"};
constexpr const char* kShells[] = {"bash", "zsh", "fish"};

struct Flag {
  std::string name;        // "--timeout"
  std::string short_name;  // "-t" or ""
  std::string description;
  bool takes_value = false;
};

std::vector<Flag> FlagsOf(const CLI::App& app) {
  std::vector<Flag> flags;
  for (const CLI::Option* option : app.get_options({})) {
    if (option->get_lnames().empty()) continue;  // a positional
    Flag flag;
    flag.name = "--" + option->get_lnames().front();
    if (!option->get_snames().empty()) {
      flag.short_name = "-" + option->get_snames().front();
    }
    flag.description = option->get_description();
    flag.takes_value = option->get_expected_min() > 0;
    flags.push_back(std::move(flag));
  }
  return flags;
}

std::vector<std::string> Names(const std::vector<Flag>& flags,
                               bool with_value) {
  std::vector<std::string> names;
  for (const Flag& flag : flags) {
    if (with_value && !flag.takes_value) continue;
    names.push_back(flag.name);
    if (!flag.short_name.empty()) names.push_back(flag.short_name);
  }
  return names;
}

// A single-quoted shell word.
std::string Quoted(const std::string& text) {
  return absl::StrCat("'", absl::StrReplaceAll(text, {{"'", "'\\''"}}), "'");
}

// How the session names are listed: the ids and names of `rexec ps`.
constexpr char kPsToNames[] =
    "awk 'NR > 1 { print $1; if ($2 != \"-\") print $2 }'";

std::string BashScript(const CLI::App& app) {
  const std::vector<Flag> global = FlagsOf(app);
  std::vector<std::string> commands, valued = Names(global, true);
  std::string per_command;
  for (const CLI::App* sub : app.get_subcommands({})) {
    commands.push_back(sub->get_name());
    const std::vector<Flag> flags = FlagsOf(*sub);
    const std::vector<std::string> mine = Names(flags, true);
    valued.insert(valued.end(), mine.begin(), mine.end());
    absl::StrAppend(&per_command, "    ", sub->get_name(),
                    ") flags=", Quoted(absl::StrJoin(Names(flags, false), " ")),
                    " ;;\n");
  }
  std::sort(valued.begin(), valued.end());
  valued.erase(std::unique(valued.begin(), valued.end()), valued.end());
  return absl::StrCat(
      "# bash completion for rexec, made by `rexec completion bash` from its "
      "own\n# commands and flags. Load it with:\n"
      "#   source <(rexec completion bash)\n"
      "_rexec_sessions() {\n"
      "  # `rexec ps` on the server this command line names so far.\n"
      "  local args=() i\n"
      "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
      "    case \"${COMP_WORDS[i]}\" in\n"
      "      ",
      absl::StrJoin(kConnectionFlags, "|"),
      ") args+=(\"${COMP_WORDS[i]}\" \"${COMP_WORDS[i + 1]}\"); ((i++)) ;;\n"
      "      ",
      absl::StrJoin(kConnectionFlags, "=*|"),
      "=*) args+=(\"${COMP_WORDS[i]}\") ;;\n"
      "    esac\n"
      "  done\n"
      "  \"${COMP_WORDS[0]}\" \"${args[@]}\" ps 2>/dev/null | ",
      kPsToNames,
      "\n"
      "}\n"
      "_rexec() {\n"
      "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" "
      "prev=\"${COMP_WORDS[COMP_CWORD - 1]}\"\n"
      "  local command=\"\" i\n"
      "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
      "    case \"${COMP_WORDS[i]}\" in\n"
      "      --) [ -n \"$command\" ] && return 0 ;;  # the remote command: "
      "files\n"
      "      ",
      absl::StrJoin(valued, "|"),
      ") ((i++)) ;;\n"
      "      ",
      absl::StrJoin(commands, "|"),
      ") [ -z \"$command\" ] && command=${COMP_WORDS[i]} ;;\n"
      "    esac\n"
      "  done\n"
      "  case \"$prev\" in\n"
      "    ",
      absl::StrJoin(valued, "|"),
      ") return 0 ;;  # its value: files\n"
      "  esac\n"
      "  local flags=",
      Quoted(absl::StrJoin(Names(global, false), " ")),
      "\n"
      "  case \"$command\" in\n",
      per_command,
      "  esac\n"
      "  if [[ \"$cur\" == -* ]]; then\n"
      "    COMPREPLY=($(compgen -W \"$flags\" -- \"$cur\"))\n"
      "    return 0\n"
      "  fi\n"
      "  case \"$command\" in\n"
      "    \"\") COMPREPLY=($(compgen -W ",
      Quoted(absl::StrJoin(commands, " ")),
      " -- \"$cur\")) ;;\n"
      "    ",
      absl::StrJoin(kSessionCommands, "|"),
      ") COMPREPLY=($(compgen -W \"$(_rexec_sessions)\" -- \"$cur\")) ;;\n"
      "    completion) COMPREPLY=($(compgen -W ",
      Quoted(absl::StrJoin(kShells, " ")),
      " -- \"$cur\")) ;;\n"
      "  esac\n"
      "  return 0\n"
      "}\n"
      "complete -o default -F _rexec rexec\n");
}

// zsh runs the bash script through its bashcompinit, as for other tools
// whose completion is bash's.
std::string ZshScript(const CLI::App& app) {
  return absl::StrCat(
      "#compdef rexec\n"
      "# zsh completion for rexec, made by `rexec completion zsh`. Load it "
      "with:\n#   source <(rexec completion zsh)\n"
      "autoload -U +X bashcompinit && bashcompinit\n",
      BashScript(app));
}

std::string FishScript(const CLI::App& app) {
  std::vector<std::string> commands;
  for (const CLI::App* sub : app.get_subcommands({})) {
    commands.push_back(sub->get_name());
  }
  const std::string all = absl::StrJoin(commands, " ");
  std::string out = absl::StrCat(
      "# fish completion for rexec, made by `rexec completion fish`. Load it "
      "with:\n#   rexec completion fish | source\n"
      "complete -c rexec -f\n"
      "function __rexec_sessions\n"
      "    set -l args\n"
      "    set -l words (commandline -opc)\n"
      "    for i in (seq 2 (count $words))\n"
      "        switch $words[$i]\n"
      "            case ",
      absl::StrJoin(kConnectionFlags, " "),
      "\n"
      "                set -a args $words[$i] $words[(math $i + 1)]\n"
      "        end\n"
      "    end\n"
      "    $words[1] $args ps 2>/dev/null | ",
      kPsToNames,
      "\n"
      "end\n");
  auto add_flags = [&out](const std::string& condition,
                          const std::vector<Flag>& flags) {
    for (const Flag& flag : flags) {
      absl::StrAppend(&out, "complete -c rexec -n ", Quoted(condition), " -l ",
                      flag.name.substr(2));
      if (!flag.short_name.empty()) {
        absl::StrAppend(&out, " -s ", flag.short_name.substr(1));
      }
      if (flag.takes_value) absl::StrAppend(&out, " -r -F");
      absl::StrAppend(&out, " -d ", Quoted(flag.description.substr(0, 60)),
                      "\n");
    }
  };
  add_flags("true", FlagsOf(app));
  for (const CLI::App* sub : app.get_subcommands({})) {
    absl::StrAppend(
        &out, "complete -c rexec -n ",
        Quoted(absl::StrCat("not __fish_seen_subcommand_from ", all)), " -a ",
        sub->get_name(), " -d ", Quoted(sub->get_description().substr(0, 60)),
        "\n");
    add_flags(absl::StrCat("__fish_seen_subcommand_from ", sub->get_name()),
              FlagsOf(*sub));
  }
  absl::StrAppend(&out, "complete -c rexec -n ",
                  Quoted(absl::StrCat("__fish_seen_subcommand_from ",
                                      absl::StrJoin(kSessionCommands, " "))),
                  " -a '(__rexec_sessions)'\n", "complete -c rexec -n ",
                  Quoted("__fish_seen_subcommand_from completion"), " -a ",
                  Quoted(absl::StrJoin(kShells, " ")), "\n");
  return out;
}

}  // namespace

std::string CompletionScript(const CLI::App& app, const std::string& shell) {
  if (shell == "zsh") return ZshScript(app);
  if (shell == "fish") return FishScript(app);
  return BashScript(app);
}

void CompletionCommand::AddTo(CLI::App& app) {
  app_ = &app;
  command_ = app.add_subcommand(
      "completion",
      "print a completion script for bash, zsh or fish, e.g. "
      "source <(rexec completion bash)");
  command_->add_option("shell", shell_, "bash, zsh or fish")
      ->required()
      ->check(CLI::IsMember(
          std::vector<std::string>(std::begin(kShells), std::end(kShells))));
}

const CLI::App* CompletionCommand::Chosen() const {
  return command_->parsed() ? command_ : nullptr;
}

int CompletionCommand::Run(const Target&) {
  return WriteAll(STDOUT_FILENO, CompletionScript(*app_, shell_)) ? 0 : 1;
}

}  // namespace rexec::client
