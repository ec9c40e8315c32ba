#!/usr/bin/env bash
# Runs the whole wg-relay test suite: the XDP program's fixtures and helper protocol
# (make -C bpf test), then unit, loopback integration and end-to-end tests with real
# WireGuard peers in network namespaces (mvn verify), then each fuzz target for a bounded
# time (scripts/fuzz.sh; WG_RELAY_FUZZ_SECONDS per target, default 45, 0 skips). Namespace, XDP and BPF tests need
# root; elsewhere they skip with a message, except under CI=true, where a missing
# prerequisite fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --tests
if [ "$(id -u)" -eq 0 ]; then
  make -s -C bpf test
elif [ "${CI:-}" = "true" ]; then
  echo "CI=true but not root: the BPF and namespace tests cannot run" >&2
  exit 1
else
  echo "not root: skipping make -C bpf test (BPF_PROG_TEST_RUN and namespaces need root)" >&2
fi
mvn -B -ntp verify "$@"
fuzz_seconds="${WG_RELAY_FUZZ_SECONDS:-45}"
if [ "$fuzz_seconds" != 0 ]; then
  scripts/fuzz.sh "$fuzz_seconds" "$@"
fi
