#!/usr/bin/env bash
# Builds and runs the whole test suite twice: the normal build (build/), then
# the reliability build (build-sanitize/) with AddressSanitizer,
# LeakSanitizer and UndefinedBehaviorSanitizer in every binary, where any
# finding fails the run. Every test's rexecd must also exit 0 on SIGTERM,
# which is where leaks show. The normal build's run includes the cgroup
# lane (tests/vm/): the cgroup tests again in a qemu guest whose cgroup v2
# has every controller, skipped where the machine cannot boot one. Then it
# builds the libFuzzer targets with clang (build-fuzz/) and runs each for
# a bounded time (about a minute in all); a crash, leak or slow input fails
# the run.
set -euo pipefail
cd "$(dirname "$0")/.."

cmake -S . -B build
cmake --build build -j2
ctest --test-dir build --output-on-failure -j2

cmake -S . -B build-sanitize -DREXEC_SANITIZE=ON
cmake --build build-sanitize -j2
ctest --test-dir build-sanitize --output-on-failure -j2

cmake -S . -B build-fuzz -DREXEC_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ \
  -DBUILD_TESTING=OFF
cmake --build build-fuzz -j2 --target fuzzers
ctest --test-dir build-fuzz --output-on-failure -j2
