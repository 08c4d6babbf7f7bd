#!/usr/bin/env bash
# Packs @rexec/child_process as an npm tarball into DIR (default: here),
# with the repository's protos copied in: in the tree, protos/ is a link to
# them, which npm pack would leave out. Prints the tarball's name.
#   pack.sh [DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "${1:-.}" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -rL "$here/package.json" "$here/package-lock.json" "$here/README.md" \
  "$here/index.d.ts" "$here/lib" "$here/register.js" "$here/protos" "$stage/"
(cd "$stage" && npm pack --silent --pack-destination "$out")
