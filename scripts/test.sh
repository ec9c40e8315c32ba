#!/usr/bin/env bash
# Runs the whole wg-relay test suite: the XDP program's fixtures and helper protocol
# (make -C bpf test), then unit, loopback integration and end-to-end tests with real
# WireGuard peers in network namespaces (mvn verify). Namespace, XDP and BPF tests need
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
exec mvn -B -ntp verify "$@"
