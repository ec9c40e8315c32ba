#!/usr/bin/env bash
# anchors-prime-paced.sh -- EXT_PRIME for shared/bench/run_anchors.sh: 4 s of the
# paced load (RATE pps, default 50000, bursts of 4, 128 B: what the measured paced run
# sends) through the relay on the run's own flows, before run_anchors' flat-out warm-up,
# so that the relay's JIT has seen both load patterns before anything is measured
# (docs/benchmarks.md, section 10.4):
#
#   EXT_PRIME=src-test/bench/anchors-prime-paced.sh EXT_WAIT=2 src-test/bench/run-anchors.sh
#
# run_anchors.sh runs it with RELAY, PAIRS ("SRC=SINK ...", sources in hb-a or hb-b) and
# ID0 in the environment; WORK is where run-anchors.sh built udpblast (default /tmp/bench).
set -euo pipefail
WORK=${WORK:-/tmp/bench}
args=()
for p in $PAIRS; do
  src=${p%%=*}
  ns=hb-a
  [ "${src%:*}" = 10.77.0.12 ] && ns=hb-b
  args+=(-f "$ns,$src,$RELAY")
done
flows=$(( $(wc -w <<<"$PAIRS") / 2 ))
cd "$WORK"
taskset -c 0 ./udpblast -i "$ID0" -d 4 -r "${RATE:-50000}" -b 4 -s 128 -w 300 "${args[@]}" \
  -l "hb-b,10.77.0.12:20001,$flows" -l "hb-a,10.77.0.11:20001,$flows" >/dev/null
