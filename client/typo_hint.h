// TypoHint says what a command line that does not parse most likely meant:
// the subcommand or flag nearest to the one typed ("spwan" -> "spawn",
// --tiemout -> --timeout), as git and kubectl do. Pure functions.
#ifndef REXEC_CLIENT_TYPO_HINT_H_
#define REXEC_CLIENT_TYPO_HINT_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace CLI {
class App;
}  // namespace CLI

namespace rexec::client {

// The candidate within two edits of `typed` (a letter inserted, deleted,
// changed, or two neighbours swapped), the nearest first and the earliest of
// equals; "" when none is that near.
std::string Nearest(absl::string_view typed,
                    const std::vector<std::string>& candidates);

// What is wrong with a command line that `app` failed to parse, when it is
// an unknown subcommand or flag: `unknown command "spwan" (did you mean
// "spawn"?)`, `unknown flag --tiemout (did you mean --timeout?)`. `chosen`
// is the subcommand the parser reached (or null). `text` is "" when the
// error is of another kind.
struct Unknown {
  std::string text;
  bool suggested = false;  // a nearest valid name is in it
};
Unknown ExplainUnknown(const CLI::App& app, const CLI::App* chosen);

}  // namespace rexec::client

#endif  // REXEC_CLIENT_TYPO_HINT_H_
