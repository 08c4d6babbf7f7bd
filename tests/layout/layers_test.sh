#!/usr/bin/env bash
# The layering check (scripts/check_layers.py) passes on the tree as it is,
# and fails on each kind of wrong arrow, injected into a copy: a room that
# must not reach gRPC or protobuf including it (directly, or through a
# header of a room it may use), and a lower room including a higher one.
set -euo pipefail
source_dir=$1
check="python3 $source_dir/scripts/check_layers.py"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

$check "$source_dir"
echo "ok: the tree as it is"

# expect_refused FILE LINE_TO_ADD WORDS_OF_THE_REFUSAL
expect_refused() {
  rm -rf "$work/tree" && mkdir "$work/tree"
  cp -r "$source_dir/common" "$source_dir/server" "$source_dir/client" \
    "$work/tree/"
  printf '%s\n' "$2" >> "$work/tree/$1"
  if out=$($check "$work/tree"); then
    echo "FAIL: $1 with '$2' passed the check" >&2
    exit 1
  fi
  if ! grep -qF -- "$3" <<< "$out"; then
    echo "FAIL: $1 with '$2' was refused, but not as '$3':" >&2
    echo "$out" >&2
    exit 1
  fi
  echo "ok: refused $1 + $2"
}

expect_refused server/table/supervisor.h '#include <grpcpp/alarm.h>' \
  "the table room includes grpcpp/alarm.h (grpc)"
expect_refused server/table/session_log.cc '#include "rexec/v1/child_process.pb.h"' \
  "the table room includes rexec/v1/child_process.pb.h (messages)"
expect_refused server/plan/launch_plan.cc '#include <grpcpp/grpcpp.h>' \
  "the plan room includes grpcpp/grpcpp.h (grpc)"
# Through a header of a room the plan may use: auth's gRPC side.
expect_refused server/plan/launch_plan.cc '#include "server/auth/authenticator.h"' \
  "the plan room reaches grpcpp/server_context.h (grpc) (through server/auth/authenticator.h)"
expect_refused server/process/child.cc '#include "google/protobuf/message.h"' \
  "the process room includes google/protobuf/message.h (protobuf)"
expect_refused server/process/poller.h '#include "rexec/v1/child_process.grpc.pb.h"' \
  "the process room includes rexec/v1/child_process.grpc.pb.h (grpc)"
# A lower room including a higher one.
expect_refused server/table/supervisor.cc '#include "server/rpc/server_state.h"' \
  "the table room includes server/rpc/server_state.h (rpc)"
expect_refused server/process/child.h '#include "server/table/exit_report.h"' \
  "the process room includes server/table/exit_report.h (table)"
expect_refused server/auth/policy.cc '#include "server/plan/launch_plan.h"' \
  "the auth room includes server/plan/launch_plan.h (plan)"
expect_refused client/connection.cc '#include "server/process/child.h"' \
  "the client room includes server/process/child.h (process)"
echo "layers: every wrong arrow is refused"
