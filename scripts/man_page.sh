#!/usr/bin/env bash
# Makes a program's man page from its own --help and --version (help2man),
# at build time from the binary just built: the page cannot drift from the
# help, which is the one text both come from. A program with subcommands
# (rexec) gets a COMMANDS section of each one's --help.
#
#   man_page.sh PROGRAM SECTION "ONE LINE ON WHAT IT IS" OUT.gz
set -euo pipefail
program=$1 section=$2 name=$3 out=$4
base=$(basename "$program")
page=${out%.gz}
include=$(mktemp)
trap 'rm -f "$include"' EXIT
# Run by name, so that the usage lines say "rexec", not the build's path.
export PATH="$(cd "$(dirname "$program")" && pwd):$PATH"
# Roff: a backslash is \e, and a line may not begin with a dot.
roff() { sed -e 's/\\/\\e/g' -e 's/^\./\\\&./'; }
subcommands=$("$base" --help | awk '/^Subcommands:/ { f = 1; next } f && /^  [a-z]/ { print $1 }')
if [ -n "$subcommands" ]; then
  {
    echo "[COMMANDS]"
    for sub in $subcommands; do
      echo ".SS \"$base $sub\""
      echo ".nf"
      "$base" "$sub" --help | roff
      echo ".fi"
    done
  } > "$include"
fi
extra=()
[ -s "$include" ] && extra=(--include "$include")
help2man --no-info --no-discard-stderr --section "$section" --name "$name" \
  "${extra[@]}" --output "$page" "$base"
gzip -9nf "$page"
