#!/usr/bin/env bash
# The README's "Generating a client" commands, run as written from the
# repository's root in a scratch copy: each generator must accept the
# proto, and each language's code must land where the proto's options say.
# Usage: generate_test.sh REPOSITORY_ROOT
set -euo pipefail
root=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$root/protos" "$work/"
# The shell block after the "### Generating a client" heading.
awk '/^### Generating a client/ {section = 1}
     section && /^```sh$/ {block = 1; next}
     block && /^```$/ {exit}
     block {print}' "$root/README.md" >"$work/commands.sh"
grep -q protoc "$work/commands.sh" || { echo "no commands found in README.md" >&2; exit 1; }
(cd "$work" && bash -euo pipefail commands.sh)

fail=0
expect() {  # expect FILE PATTERN: FILE exists under out/ and holds PATTERN
  if [ ! -f "$work/out/$1" ]; then
    echo "FAIL: no out/$1" >&2
    fail=1
  elif ! grep -q -- "$2" "$work/out/$1"; then
    echo "FAIL: out/$1 does not hold $2" >&2
    fail=1
  fi
}
expect rexec/v1/child_process.grpc.pb.h "class ChildProcess"
expect rexec/v1/child_process_pb2_grpc.py "class ChildProcessStub"
expect rexec/v1/child_process_services_pb.rb "module Rexec"
expect rexec/v1/child_process_pb.rb '^  module V1$'
expect Rexec/V1/ChildProcessClient.php "namespace Rexec\\\\V1;"
expect Rexec/V1/GPBMetadata/ChildProcess.php "namespace Rexec\\\\V1\\\\GPBMetadata;"
expect com/github/rexec/v1/SpawnRequest.java "package com.github.rexec.v1;"
expect com/github/rexec/v1/ChildProcessProto.java "class ChildProcessProto"
expect ChildProcess.cs "namespace Rexec.V1"
expect rexec/v1/ChildProcess.pbobjc.h "RXCSpawnRequest"
expect rexec/v1/child_process.pb.go "^package rexecpb$"
expect rexec/v1/child_process_grpc.pb.go "func NewChildProcessClient"
exit $fail
