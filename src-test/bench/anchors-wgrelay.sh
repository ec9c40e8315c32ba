#!/usr/bin/env bash
# anchors-wgrelay.sh -- EXT_CMD for shared/bench/run_anchors.sh: writes a
# roster from PAIRS and runs wg-relay on RELAY, inside hb-relay.
#
# run_anchors.sh starts it as `bash -c "exec $EXT_CMD"` (under taskset when
# pinned) with RELAY (ip:port) and PAIRS ("SRC=SINK ..." : the flow from SRC
# is forwarded to SINK) in the environment. Each pair becomes two peers and
# one link, so SINK's traffic goes back to SRC as well. The case name, which
# run_anchors.sh does not pass, is read from the last "# CASE PIN rep N" line
# that it writes to $ANCHOR_OUT.relay just before starting the relay; a case
# name ending in digits N runs --workers N (wgrelay1, wgrelay2).
# exec keeps the PID, so run_anchors.sh reads the relay JVM's own CPU time.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
RELAY_CP=${RELAY_CP:-$ROOT/relay-server/target/relay-server.jar:$ROOT/relay-server/target/lib/*}
RELAY_MAIN=${RELAY_MAIN:-$(unzip -p "${RELAY_CP%%:*}" META-INF/MANIFEST.MF 2>/dev/null | sed -n 's/^Main-Class: *//p' | tr -d '\r')}
RELAY_MAIN=${RELAY_MAIN:-org.wgrelay.server.server.Main}

case_name=$(grep '^# ' "${ANCHOR_OUT:?set ANCHOR_OUT to run_anchors.sh OUT}.relay" | tail -1 | awk '{ print $2 }')
workers=${case_name##*[!0-9]}
workers=${workers:-1}
roster=$(mktemp /tmp/wgb-anchor-roster.XXXXXX)
i=0 links=()
for p in $PAIRS; do
  echo "peer s$i ${p%%=*}" >>"$roster"
  echo "peer d$i ${p#*=}" >>"$roster"
  links+=("link s$i d$i")
  i=$((i + 1))
done
printf '%s\n' "${links[@]}" >>"$roster"
echo "anchors-wgrelay: case=$case_name workers=$workers roster=$roster"
# shellcheck disable=SC2086
exec java ${RELAY_JAVA_OPTS:-} -cp "$RELAY_CP" "$RELAY_MAIN" serve --bind "${RELAY%:*}" --port "${RELAY##*:}" \
  --roster "$roster" --workers "$workers" --control 127.0.0.1:0 --metrics 127.0.0.1:0
