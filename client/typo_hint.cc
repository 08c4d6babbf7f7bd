#include "client/typo_hint.h"

#include <algorithm>

#include "CLI/CLI.hpp"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace rexec::client {
namespace {

// Farther than this is not a typo but another word.
constexpr size_t kMaxEdits = 2;

// Optimal string alignment distance: Levenshtein's edits plus a swap of
// neighbours ("spwan"), each costing one.
size_t Distance(absl::string_view a, absl::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1,
                                     std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] =
          std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::vector<std::string> SubcommandNames(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands({})) {
    names.push_back(sub->get_name());
  }
  return names;
}

// Every long flag `app` and its parents take, with its dashes.
std::vector<std::string> LongFlags(const CLI::App* app) {
  std::vector<std::string> flags;
  for (; app != nullptr; app = app->get_parent()) {
    for (const CLI::Option* option : app->get_options({})) {
      for (const std::string& name : option->get_lnames()) {
        flags.push_back("--" + name);
      }
    }
  }
  return flags;
}

}  // namespace

std::string Nearest(absl::string_view typed,
                    const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = kMaxEdits + 1;
  for (const std::string& candidate : candidates) {
    const size_t distance = Distance(typed, candidate);
    // A word of two letters is within two edits of any other.
    if (distance < best_distance && distance < candidate.size()) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

Unknown ExplainUnknown(const CLI::App& app, const CLI::App* chosen) {
  std::vector<std::string> left = app.remaining();
  if (chosen != nullptr) {
    std::vector<std::string> more = chosen->remaining();
    left.insert(left.end(), more.begin(), more.end());
  }
  // An unknown long flag anywhere (a short one after the command may be
  // the command's own: main explains that).
  for (const std::string& arg : left) {
    if (!absl::StartsWith(arg, "--") || arg == "--") continue;
    const std::string flag = arg.substr(0, arg.find('='));
    Unknown unknown{absl::StrCat("unknown flag ", flag)};
    if (std::string near = Nearest(flag, LongFlags(chosen ? chosen : &app));
        !near.empty()) {
      absl::StrAppend(&unknown.text, " (did you mean ", near, "?)");
      unknown.suggested = true;
    }
    return unknown;
  }
  if (chosen == nullptr && !left.empty() && !absl::StartsWith(left[0], "-")) {
    const std::vector<std::string> names = SubcommandNames(app);
    Unknown unknown{absl::StrCat("unknown command \"", left[0], "\"")};
    if (std::string near = Nearest(left[0], names); !near.empty()) {
      absl::StrAppend(&unknown.text, " (did you mean \"", near, "\"?)");
      unknown.suggested = true;
    } else {
      absl::StrAppend(&unknown.text, "; the commands are ",
                      absl::StrJoin(names, ", "));
    }
    return unknown;
  }
  return {};
}

}  // namespace rexec::client
