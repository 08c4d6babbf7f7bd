#!/usr/bin/env bash
# Regenerates the committed gRPC stubs (rexec/v1/child_process_pb2*.py) from
# the API's proto, with Debian's protoc and grpc_python_plugin. The stubs are
# committed so that the package needs no build step; tests/test_generated.py
# fails when they no longer match the proto.
# Usage: generate.sh [OUT_DIR]   (default: this directory)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
protos=$(cd "$here/../../protos" && pwd)
out=${1:-$here}
protoc -I "$protos" --python_out="$out" --grpc_python_out="$out" \
  --plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin \
  "$protos/rexec/v1/child_process.proto"
