#!/usr/bin/env bash
# The Go client's tests, offline, with Debian 12's Go packages in GOPATH
# mode (see README.md): the committed rexecpb/ must be what generate.sh
# makes, then go vet and go test against a real rexecd.
# Writes nothing into the source tree: the GOPATH (a symlink to this
# folder) and Go's build cache live in a temporary directory, removed at
# exit; REXEC_GO_CACHE names a build cache to keep instead.
# Usage: run-tests.sh PATH_TO_REXECD
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: run-tests.sh PATH_TO_REXECD" >&2
  exit 2
fi
rexecd=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

bash "$here/generate.sh" "$tmp/generated"
if ! diff -r "$here/rexecpb" "$tmp/generated/rexecpb" >"$tmp/generated.diff"; then
  head -n 40 "$tmp/generated.diff" >&2
  echo "run-tests.sh: rexecpb/ is not what generate.sh makes: run clients/go/generate.sh" >&2
  exit 1
fi

# Only this GOPATH and Debian's, no module download, no user go env file.
export GO111MODULE=off GOFLAGS= GOPROXY=off GOENV=off
export GOPATH="$tmp/gopath:/usr/share/gocode"
export GOCACHE="${REXEC_GO_CACHE:-$tmp/gocache}"
package_dir=$tmp/gopath/src/github.com/rexec/rexec/clients/go
mkdir -p "$(dirname "$package_dir")"
ln -s "$here" "$package_dir"
cd "$package_dir"

# github.com/golang/protobuf 1.3.5 (golang-goprotobuf-dev) builds but panics
# on every message with a oneof; 1.4 and later are built on
# google.golang.org/protobuf (golang-github-golang-protobuf-1-5-dev).
if ! go list -deps github.com/golang/protobuf/proto | grep -qx google.golang.org/protobuf/proto; then
  echo "run-tests.sh: github.com/golang/protobuf in $GOPATH is older than 1.4:" \
    "install golang-github-golang-protobuf-1-5-dev" >&2
  exit 1
fi

go vet ./...
# -race: the package is goroutines around one stream.
REXECD=$rexecd go test -race -count=1 -timeout 5m ./...
