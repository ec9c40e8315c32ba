#!/usr/bin/env bash
# Runs the whole wg-relay test suite: unit, loopback integration, and end-to-end with
# real WireGuard peers in network namespaces (those need root; elsewhere they skip
# with a message, except under CI=true, where a missing prerequisite fails the run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --tests
exec mvn -B -ntp verify "$@"
