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

# Each phase says how long it took: the suite must stay under 25 minutes,
# and this is where to look first when it does not.
phase() {
  local name=$1 start=$SECONDS
  shift
  "$@"
  echo "run-tests.sh: ${name}: $((SECONDS - start)) s" >&2
}

# Line tables only (-g1, not -g): stack traces keep their files and lines,
# and the build takes a quarter less. Unity builds (each target's sources
# compiled a few at a time, so that gRPC's and protobuf's headers are read
# once per batch) take the plain build from about 290 to 200 s and the
# sanitizer build from 420 to 360 s; they also keep the sources free of
# file-local names that clash within a target.
unity=-DCMAKE_UNITY_BUILD=ON
cmake -S . -B build $unity -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG"
phase "build" cmake --build build -j2
phase "tests" ctest --test-dir build --output-on-failure -j2

cmake -S . -B build-sanitize $unity -DREXEC_SANITIZE=ON
phase "sanitizer build" cmake --build build-sanitize -j2
phase "sanitizer tests" ctest --test-dir build-sanitize --output-on-failure -j2

cmake -S . -B build-fuzz -DREXEC_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ \
  -DBUILD_TESTING=OFF
phase "fuzz build" cmake --build build-fuzz -j2 --target fuzzers
phase "fuzzers" ctest --test-dir build-fuzz --output-on-failure -j2
