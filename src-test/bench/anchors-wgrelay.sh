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
# name ending in digits N runs --workers N (wgrelay1, wgrelay2); a _VARIANT
# suffix selects other JVM options or another build (anchors-lib.sh).
# exec keeps the PID, so run_anchors.sh reads the relay JVM's own CPU time.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=anchors-lib.sh
. "$HERE/anchors-lib.sh"

case_name=$(anchor_header | awk '{ print $2 }')
workers=$(anchor_workers "$case_name")
anchor_variant "$case_name"
roster=$(anchor_roster)
# RELAY_AFTER_START[_VARIANT]: a command run in the background with the relay's
# PID as its argument (it is this shell's PID: exec keeps it), e.g. to change the
# scheduling of the JVM's threads for an experiment.
after=RELAY_AFTER_START
case $case_name in *_*) v="RELAY_AFTER_START_${case_name#*_}"; [ -z "${!v:-}" ] || after=$v ;; esac
# shellcheck disable=SC2086
if [ -n "${!after:-}" ]; then ${!after} $$ & fi
echo "anchors-wgrelay: case=$case_name workers=$workers roster=$roster java_opts=$RELAY_JAVA_OPTS cp=$RELAY_CP"
# shellcheck disable=SC2086
exec java ${RELAY_JAVA_OPTS:-} -cp "$RELAY_CP" "$RELAY_MAIN" serve --bind "${RELAY%:*}" --port "${RELAY##*:}" \
  --roster "$roster" --workers "$workers" --control 127.0.0.1:0 --metrics 127.0.0.1:0
