#!/usr/bin/env bash
# Installs what rexec needs from Debian 12's archive, and only what is
# missing (no apt-get update when nothing is).
#
#   install-deps.sh           everything: build, tests, image and manifests
#   install-deps.sh build     only what building rexecd and rexec needs (the
#                             image's build stage uses this)
set -euo pipefail

build=(
  cmake g++ make pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libcli11-dev libspdlog-dev nlohmann-json3-dev libyaml-cpp-dev
  libssl-dev libcap-dev libmicrohttpd-dev libseccomp-dev
  # the man pages (from --help) and the Debian package's dependencies
  help2man dpkg-dev
)
tests=(
  libgtest-dev libgmock-dev
  python3-grpcio python3-protobuf
  openssl iproute2 util-linux
  # --front's tests (tests/e2e/front_test.cc, the TLS tests behind it)
  haproxy
  clang libclang-rt-14-dev
  nodejs
  # clients/python: its tests, CPython's test_subprocess that
  # tests/cpython_suite.py runs against it, and what its packaging test
  # uses (pip install into a venv with no index, mypy on the type hints)
  python3-pytest libpython3.11-testsuite
  # the completion scripts, run by the shells they are for
  bash-completion zsh fish
  python3-venv python3-setuptools python3-mypy
  # clients/go, offline in GOPATH mode. golang-github-golang-protobuf-1-5-dev
  # by name: grpc's packages would take the older 1-3 (1.3.5), which builds
  # and then panics on this API's oneofs.
  golang-go golang-google-grpc-dev golang-google-protobuf-dev
  golang-github-golang-protobuf-1-5-dev protoc-gen-go protoc-gen-go-grpc
  # deploy/: the image (runc: crun cannot run on a cgroup v1 or hybrid host)
  podman buildah mmdebstrap runc uidmap
)
# tests/vm/: the cgroup tests in a virtual machine with Debian's own kernel,
# booted from an initramfs of busybox and the kernel's modules. Without
# their recommends (a GUI, UEFI firmware, the kernel's firmware and
# AppArmor): the guest needs none of them.
vm=(qemu-system-x86 linux-image-amd64 busybox-static)

case "${1:-all}" in
  build) packages=("${build[@]}") ;;
  all) packages=("${build[@]}" "${tests[@]}") ;;
  *) echo "install-deps.sh: unknown set \"$1\" (build or all)" >&2; exit 2 ;;
esac
# kubectl (with kustomize) renders the manifests; a machine may have one
# from elsewhere, else Debian's.
# npm comes with some builds of nodejs (NodeSource's), else on its own.
# kubectl is not installed here: Debian 12's (kubernetes-client 1.20) has
# kustomize v2, too old for deploy/kubernetes (components, labels); the
# machines this runs on have a kubectl with kustomize v5.
if [ "${1:-all}" = all ]; then
  command -v npm >/dev/null || packages+=(npm)
fi

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}
missing=()
for p in "${packages[@]}"; do
  installed "$p" || missing+=("$p")
done
missing_vm=()
if [ "${1:-all}" = all ]; then
  for p in "${vm[@]}"; do
    installed "$p" || missing_vm+=("$p")
  done
fi

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
if [ ${#missing[@]} -gt 0 ] || [ ${#missing_vm[@]} -gt 0 ]; then
  $sudo apt-get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  # The image's build stage wants no more than it asked for.
  recommends=()
  [ "${1:-all}" = build ] && recommends=(--no-install-recommends)
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${recommends[@]}" "${missing[@]}"
fi
if [ ${#missing_vm[@]} -gt 0 ]; then
  echo "installing: ${missing_vm[*]}"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing_vm[@]}"
fi

# clients/node's dependencies from the npm registry, as its lockfile pins
# them; again only when the lockfile changed since they were installed.
if [ "${1:-all}" = all ]; then
  node_dir=$(cd "$(dirname "$0")/../clients/node" && pwd)
  if ! cmp -s "$node_dir/package-lock.json" "$node_dir/node_modules/.rexec-lock"; then
    echo "installing: clients/node's npm packages"
    (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$node_dir/package-lock.json" "$node_dir/node_modules/.rexec-lock"
  fi
fi
