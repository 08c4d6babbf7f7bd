#!/usr/bin/env bash
# The rexec image, built and run here with podman and no registry: the
# Debian 12 base is made from Debian's archive (mmdebstrap, kept in a cache
# folder), and deploy/Containerfile builds rexecd and rexec from this tree.
#
#   deploy/image.sh                   build, then run
#   deploy/image.sh build             localhost/rexecd:latest (runs as uid
#                                     10001) and localhost/rexecd:root (for
#                                     a policy that runs children as others)
#   deploy/image.sh run [FLAGS...]    localhost/rexecd in the foreground, its
#                                     port 50051 on 127.0.0.1:50051 of this
#                                     host; FLAGS go to rexecd (default:
#                                     --listen 0.0.0.0:50051 --insecure,
#                                     reachable only through that loopback
#                                     port)
#   deploy/image.sh base              only localhost/debian:bookworm, the
#                                     Debian 12 base (the package test's)
#   deploy/image.sh podman ARGS...    podman, with what this host needs
#
# REXEC_IMAGE_CACHE is the cache folder (default: build/deploy-cache).
set -euo pipefail
cd "$(dirname "$0")/.."
cache=${REXEC_IMAGE_CACHE:-build/deploy-cache}
base=localhost/debian:bookworm

# A container may not raise its limits past what this host allows, which
# podman's defaults (a million open files) can exceed: our hard limits, and
# no more processes than there can be pids. And crun cannot run on a cgroup
# v1 or hybrid host, where runc can.
host_podman() {
  local options=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)")
  local nproc pids
  nproc=$(ulimit -Hu)
  pids=$(cat /proc/sys/kernel/pid_max)
  if [ "$nproc" = unlimited ] || [ "$nproc" -gt "$pids" ]; then nproc=$pids; fi
  options+=(--ulimit "nproc=$nproc:$nproc")
  local runtime=()
  if [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ] && command -v runc >/dev/null; then
    runtime=(--runtime runc)
  fi
  local command=$1
  shift
  case "$command" in
    run|build|create) podman "${runtime[@]}" "$command" "${options[@]}" "$@" ;;
    *) podman "${runtime[@]}" "$command" "$@" ;;
  esac
}

# localhost/debian:bookworm, made once and kept.
base() {
  mkdir -p "$cache"
  local tarball="$cache/debian-bookworm.tar"
  if [ ! -s "$tarball" ]; then
    echo "image.sh: making the Debian 12 base from Debian's archive" >&2
    mmdebstrap --quiet --variant=minbase --format=tar bookworm "$tarball.part"
    mv "$tarball.part" "$tarball"
  fi
  if ! podman image exists "$base" || [ "$tarball" -nt "$cache/imported" ]; then
    podman import --quiet "$tarball" "$base" >/dev/null
    touch "$cache/imported"
  fi
}

build() {
  base
  local commit
  commit=$(git rev-parse --short=12 HEAD 2>/dev/null || true)
  for target in rexecd rexecd-root; do
    local tag=latest
    [ "$target" = rexecd-root ] && tag=root
    host_podman build --quiet --build-arg "DEBIAN=$base" \
      --build-arg "REXEC_COMMIT=$commit" --target "$target" \
      -f deploy/Containerfile -t "localhost/rexecd:$tag" . >/dev/null
  done
  echo "image.sh: built localhost/rexecd:latest and localhost/rexecd:root" >&2
}

run() {
  local flags=("$@")
  [ ${#flags[@]} -eq 0 ] && flags=(--listen 0.0.0.0:50051 --insecure)
  echo "image.sh: rexecd on 127.0.0.1:50051; try: rexec health" >&2
  host_podman run --rm -p 127.0.0.1:50051:50051 \
    localhost/rexecd:latest "${flags[@]}"
}

case "${1:-all}" in
  all) build && run ;;
  build) build ;;
  base) base ;;
  run) shift; run "$@" ;;
  podman) shift; host_podman "$@" ;;
  *) echo "image.sh: unknown command \"$1\" (build, base, run or podman)" >&2; exit 2 ;;
esac
