#!/usr/bin/env bash
# Installs what rexec needs to build and test, from Debian 12's archive, and
# only what is missing (no apt-get update when nothing is).
set -euo pipefail

packages=(
  cmake g++ make pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libgtest-dev libgmock-dev libcli11-dev libspdlog-dev nlohmann-json3-dev libyaml-cpp-dev libssl-dev libcap-dev
  python3-grpcio python3-protobuf
  openssl iproute2 util-linux
  clang libclang-rt-14-dev
  nodejs
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
