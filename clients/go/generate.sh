#!/usr/bin/env bash
# Generates the Go code of protos/rexec/v1 into OUT/rexecpb (default: the
# rexecpb folder next to this script, where the committed copy lives), with
# Debian 12's protoc 3.21.12, protoc-gen-go 1.28.1 and protoc-gen-go-grpc
# 1.0 (packages protobuf-compiler, protoc-gen-go, protoc-gen-go-grpc). The
# files name protoc's version, so another version regenerates them with a
# different header; run-tests.sh checks the committed copy against this.
# Usage: generate.sh [OUT]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
mkdir -p "$out"
module=github.com/rexec/rexec/clients/go
protoc -I "$here/../../protos" \
  --go_out="$out" --go_opt=module="$module" \
  --go-grpc_out="$out" --go-grpc_opt=module="$module" \
  "$here/../../protos/rexec/v1/child_process.proto"
