#!/usr/bin/env bash
# The image, built and run for real (deploy/image.sh, with its base from
# Debian's archive cached in WORK) and called with this build's CLI through
# published loopback ports: spawn and exec as the image's unprivileged user,
# health on the main and the probe port, rexecd as PID 1 reaping orphans
# and draining on `podman stop` with exit 0 (also at podman's default stop
# timeout, with a child that ignores SIGTERM); and the root variant with only
# the capabilities the DaemonSet grants, running a policy's child as
# `nobody`.
#
#   image_test.sh SOURCE_DIR WORK_DIR REXEC
set -euo pipefail
src=$1 work=$2 rexec=$3
export REXEC_IMAGE_CACHE="$work/cache"
mkdir -p "$work"
image() { bash "$src/deploy/image.sh" "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
containers=()
cleanup() {
  for c in "${containers[@]}"; do podman rm -f -t 0 "$c" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT

image build

# $1: name; the rest: podman run options, then the image and rexecd's flags.
start() {
  local name=$1
  shift
  containers+=("$name")
  podman rm -f -t 0 "$name" >/dev/null 2>&1 || true
  image podman run -d --name "$name" "$@" >/dev/null
}
port() { podman port "$1" "$2/tcp" | head -1; }
wait_healthy() {
  for _ in $(seq 50); do
    "$rexec" --server "$1" health >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  podman logs "$2" >&2 || true
  fail "$2 never said SERVING on $1"
}

name=rexec-image-test-$$
start "$name" -p 127.0.0.1::50051 -p 127.0.0.1::50052 localhost/rexecd:latest \
  --front haproxy --listen 0.0.0.0:50051 --insecure \
  --health-listen 0.0.0.0:50052 --shutdown-grace 5s
api=$(port "$name" 50051)
health=$(port "$name" 50052)
wait_healthy "$api" "$name"

[ "$("$rexec" --server "$api" spawn -- id -u)" = 10001 ] \
  || fail "the image does not run as uid 10001"
[ "$("$rexec" --server "$api" exec -- 'echo $((6 * 7))')" = 42 ] \
  || fail "exec"
[ "$("$rexec" --server "$health" health --service rexec.v1.ChildProcess)" = SERVING ] \
  || fail "health on the probe port"
[ "$("$rexec" --server "$api" spawn -- cat /proc/1/comm)" = rexecd ] \
  || fail "rexecd is not PID 1"
"$rexec" --server "$api" exec -- 'grep -qx haproxy /proc/[0-9]*/comm' \
  || fail "no haproxy before rexecd (--front)"
# ...which its children, the same user, cannot look into.
"$rexec" --server "$api" exec -- \
  'for p in /proc/[0-9]*; do grep -qx haproxy $p/comm 2>/dev/null && exec cat $p/environ; done' \
  >/dev/null 2>&1 && fail "a child could read haproxy's /proc (it is dumpable)"
"$rexec" --server "$api" --version | grep -q "^rexec 0\." || fail "rexec --version"

# As PID 1, orphans come to rexecd, which reaps them: no zombie stays.
"$rexec" --server "$api" spawn -- sh -c '(sleep 0.2 &) ; exit 0'
# Until the orphan is gone (a zombie keeps its name), 10 s at most.
for _ in $(seq 50); do
  sleep 0.2
  "$rexec" --server "$api" exec -- 'grep -qx sleep /proc/[0-9]*/comm' \
    >/dev/null 2>&1 || break
done
zombies=$("$rexec" --server "$api" exec -- \
  'cat /proc/[0-9]*/stat 2>/dev/null' | awk '$3 == "Z"' | wc -l)
[ "$zombies" = 0 ] || fail "$zombies zombies in the container"

# podman stop is SIGTERM: the running call is stopped by the drain, its
# client told so, and rexecd exits 0.
"$rexec" --server "$api" spawn -- sleep 300 > "$work/stopped.out" 2>&1 &
client=$!
# Once its child runs, 10 s at most.
for _ in $(seq 50); do
  "$rexec" --server "$api" exec -- 'grep -qx sleep /proc/[0-9]*/comm' \
    >/dev/null 2>&1 && break
  sleep 0.2
done
podman stop -t 30 "$name" >/dev/null
code=0
wait $client || code=$?
[ "$code" = 143 ] || fail "the call during the stop ended with $code: $(cat "$work/stopped.out")"
grep -q "the server was shutting down" "$work/stopped.out" \
  || fail "the client was not told: $(cat "$work/stopped.out")"
[ "$(podman inspect --format '{{.State.ExitCode}}' "$name")" = 0 ] \
  || fail "rexecd exited $(podman inspect --format '{{.State.ExitCode}}' "$name"): $(podman logs "$name" 2>&1 | tail -5)"

# With the image's own flags, `podman stop` at its default timeout (10 s)
# ends a drain whose child ignores SIGTERM with rexecd's exit 0, not the
# runtime's SIGKILL (137).
defaults=rexec-image-test-defaults-$$
sock="$work/defaults"
rm -rf "$sock" && mkdir -p "$sock" && chown 10001:10001 "$sock"
start "$defaults" -v "$sock:/run/rexec" localhost/rexecd:latest
wait_healthy "unix:$sock/rexecd.sock" "$defaults"
"$rexec" --server "unix:$sock/rexecd.sock" spawn -- \
  sh -c 'trap "" TERM; exec sleep 300' > "$work/stubborn.out" 2>&1 &
client=$!
for _ in $(seq 50); do
  "$rexec" --server "unix:$sock/rexecd.sock" exec -- \
    'grep -qx sleep /proc/[0-9]*/comm' >/dev/null 2>&1 && break
  sleep 0.2
done
podman stop "$defaults" >/dev/null
wait $client || true
[ "$(podman inspect --format '{{.State.ExitCode}}' "$defaults")" = 0 ] \
  || fail "with the image's flags, podman stop ended rexecd with $(podman inspect --format '{{.State.ExitCode}}' "$defaults"): $(podman logs "$defaults" 2>&1 | tail -5)"
grep -q "the server was shutting down" "$work/stubborn.out" \
  || fail "the stubborn child's client was not told: $(cat "$work/stubborn.out")"

# The root variant with only what the DaemonSet grants: a policy's child
# runs as nobody.
etc="$work/etc"
rm -rf "$etc" && mkdir -p "$etc"
echo "ci $(printf %s image-test-token | sha256sum | cut -d' ' -f1)" > "$etc/tokens"
cat > "$etc/policy.yaml" <<YAML
rules:
  - name: ci
    identities: [ci]
    rpcs: [Spawn]
    programs: ["/usr/bin/*"]
    default_user: nobody
    users: [nobody]
YAML
printf image-test-token > "$work/token"
chmod 0644 "$etc"/*
# A token goes over a unix socket (or TLS), never plaintext TCP: the socket
# is in a folder shared with this host, as a sidecar's emptyDir.
run="$work/run"
rm -rf "$run" && mkdir -p "$run"
root=rexec-image-test-root-$$
start "$root" --cap-drop all --cap-add SETUID,SETGID,KILL \
  -v "$etc:/etc/rexec:ro" -v "$run:/run/rexec" localhost/rexecd:root \
  --front haproxy --listen unix:/run/rexec/rexecd.sock \
  --token-file /etc/rexec/tokens \
  --policy /etc/rexec/policy.yaml
rootapi=unix:$run/rexecd.sock
wait_healthy "$rootapi" "$root"
[ "$("$rexec" --server "$rootapi" --token-file "$work/token" spawn -- id -u)" = 65534 ] \
  || fail "the root variant did not run the child as nobody: $(podman logs "$root" 2>&1 | tail -5)"
echo "image: ok"
