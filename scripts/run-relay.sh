#!/usr/bin/env bash
# Sets up everything wg-relay needs on a fresh Debian machine, builds it, and runs the
# relay with the roster in ./wg-roster (empty until you add peers). Extra arguments go
# to 'wg-relay serve', e.g.  scripts/run-relay.sh --port 51820 --workers 2
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
mvn -B -ntp -q -DskipTests package -pl relay-server -am
exec ./wg-relay serve --roster "${WG_RELAY_ROSTER:-./wg-roster}" "$@"
