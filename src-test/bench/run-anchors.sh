#!/usr/bin/env bash
# run-anchors.sh -- the shared reference relays (shared/bench: fwd-naive,
# fwd-mmsg, optionally XDP_TX) and wg-relay in ONE run_anchors.sh run, so
# that wg-relay's CPU µs per forwarded packet is quoted as a ratio against
# references measured on the same machine at the same time.
#
#   sudo src-test/bench/run-anchors.sh          # ~6 min idle; longer on a busy machine
#
# Copies shared/bench to WORK (it is read-only where shared), builds it,
# runs CASES (default: direct naive mmsg1 mmsg2 wgrelay1 wgrelay2; add xdp
# xdp-thr for the kernel fast-path references) with our relay started by
# anchors-wgrelay.sh, then prints per-rep ratios of relay µs/pkt.
# Needs root, jq, bpftool, taskset, clang, make, gcc, libbpf-dev (Debian:
# apt-get install -y --no-install-recommends jq bpftool clang make libbpf-dev).
# Environment: CASES PIN_MODES REPS EXT_WARMUP BENCH_SRC WORK OUT BUILD=0
# RELAY_CP RELAY_MAIN RELAY_JAVA_OPTS, and all of run_anchors.sh's own.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BENCH_SRC=${BENCH_SRC:-$ROOT/../shared/bench}
WORK=${WORK:-/tmp/bench}
OUT=${OUT:-$WORK/results/anchors-wgrelay-$(date -u +%Y%m%dT%H%M%SZ)}
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
if [ "${BUILD:-1}" = 1 ]; then
  (cd "$ROOT" && mvn -q -Dmaven.test.skip=true package -pl relay-server -am)
fi
mkdir -p "$WORK" && chmod -R u+w "$WORK" && cp -rf "$BENCH_SRC"/. "$WORK"/ && chmod -R u+w "$WORK"
make -s -C "$WORK"
mkdir -p "$(dirname "$OUT")"
export ANCHOR_OUT=$OUT
[ -z "${RELAY_CP:-}" ] || export RELAY_CP
[ -z "${RELAY_MAIN:-}" ] || export RELAY_MAIN
[ -z "${RELAY_JAVA_OPTS:-}" ] || export RELAY_JAVA_OPTS
CASES=${CASES:-direct naive mmsg1 mmsg2 wgrelay1 wgrelay2} PIN_MODES=${PIN_MODES:-pinned} REPS=${REPS:-3} \
  EXT_CMD="$HERE/anchors-wgrelay.sh" EXT_WARMUP=${EXT_WARMUP:-3} OUT=$OUT "$WORK/run_anchors.sh"

# ratios of relay CPU µs per delivered packet, within each rep (same run,
# neighbouring minutes), then their median over reps
echo "# wg-relay µs/pkt as a ratio of the references', per rep and pin mode; median last"
jq -rs '
  def r2: . * 100 | round / 100;
  def med: sort | .[(length - 1) / 2 | floor];
  map(select(.kind != "warmup" and .relay_cpu_s != null and .received > 0)
      | .upp = .relay_cpu_s / .received * 1e6)
  | group_by([.pin, .kind]) | .[] | . as $g
  | [ group_by(.rep)[] | map({key: .case, value: .upp}) | from_entries ] as $reps
  | [ "wgrelay1/mmsg1", "wgrelay1/naive", "wgrelay2/mmsg2", "wgrelay2/naive" ] | .[] as $q
  | ($q | split("/")) as [$a, $b]
  | [ $reps[] | select(.[$a] != null and .[$b] != null) | .[$a] / .[$b] ] as $x
  | select($x | length > 0)
  | "\($g[0].pin) \($g[0].kind) \($q): \($x | map(r2) | join(" ")) -> median \($x | med | r2)"' "$OUT.jsonl"
