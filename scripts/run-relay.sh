#!/usr/bin/env bash
# Sets up everything wg-relay needs on a fresh Debian machine, builds it, and runs the
# relay with the roster in ./wg-roster (empty until you add peers). Extra arguments go
# to 'wg-relay serve', e.g.  scripts/run-relay.sh --port 51820 --workers 2
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# Maven 3.8 prints stray ANSI resets even with -B -q: keep its output for a failure only,
# so that the relay's startup line is the first thing a newcomer reads.
build_log=$(mktemp)
trap 'rm -f "$build_log"' EXIT
echo "building wg-relay (mvn package, output in case of failure only)..." >&2
if ! mvn -B -ntp -q -DskipTests package -pl relay-server -am >"$build_log" 2>&1; then
  cat "$build_log" >&2
  echo "the build failed; the Maven output is above" >&2
  exit 1
fi
rm -f "$build_log"
exec ./wg-relay serve --roster "${WG_RELAY_ROSTER:-./wg-roster}" "$@"
