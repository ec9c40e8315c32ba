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
# XDP=1: default CASES "direct mmsg1 xdp wgrelay1 wgxdp" -- adds wg-relay's XDP
# fast path (wgxdp, anchors-wgrelay-xdp.sh: --xdp-interface eth0 --xdp-mode
# drv, --workers 1) next to the shared XDP_TX reference (xdp), and prints the
# BPF run time per packet of both programs and their ratio per rep.  A case
# named wgxdp* in CASES does the same without XDP=1.
# Needs root, jq, bpftool, taskset, clang, make, gcc, libbpf-dev (Debian:
# apt-get install -y --no-install-recommends jq bpftool clang make libbpf-dev).
# Environment: CASES PIN_MODES REPS EXT_WARMUP BENCH_SRC WORK OUT BUILD=0 XDP=1
# RELAY_CP RELAY_MAIN RELAY_JAVA_OPTS WG_RELAY_XDP_HELPER WG_RELAY_XDP_OBJECT,
# and all of run_anchors.sh's own.
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
if [ "${XDP:-0}" = 1 ]; then CASES=${CASES:-direct mmsg1 xdp wgrelay1 wgxdp}; fi
CASES=${CASES:-direct naive mmsg1 mmsg2 wgrelay1 wgrelay2}
EXT_CMD="$HERE/anchors-wgrelay.sh"
case " $CASES " in
  *" wgxdp"*)   # anchors-wgrelay-xdp.sh runs wgxdp* itself, hands the rest on
    EXT_CMD="$HERE/anchors-wgrelay-xdp.sh"
    [ -x "${WG_RELAY_XDP_HELPER:-$ROOT/bpf/build/wg-relay-xdp-helper}" ] ||
      { echo "XDP helper not built: make -C $ROOT/bpf" >&2; exit 1; }
    : >"$OUT.wgxdp-bpf" ;;
esac
CASES=$CASES PIN_MODES=${PIN_MODES:-pinned} REPS=${REPS:-3} \
  EXT_CMD="$EXT_CMD" EXT_WARMUP=${EXT_WARMUP:-3} OUT=$OUT "$WORK/run_anchors.sh"

# ratios of relay CPU µs per delivered packet, within each rep (same run,
# neighbouring minutes), then their median over reps; every wgrelay* case
# (variants too) against fwd-mmsg x1 and fwd-naive, and wgrelayN against
# fwd-mmsg xN. Then issue #14's other two figures the same way: p99 at the
# paced rate as a ratio, flat-out loss as a difference in points.
echo "# wg-relay as a ratio of the references', per rep and pin mode; median last"
jq -rs '
  def r2: . * 100 | round / 100;
  def med: sort | .[(length - 1) / 2 | floor];
  map(select(.kind != "warmup" and .received > 0)
      | .upp = (if .relay_cpu_s == null then null else .relay_cpu_s / .received * 1e6 end))
  | (map(.case) | unique | map(select(startswith("wgrelay")))) as $ours
  | group_by([.pin, .kind]) | .[] | . as $g
  | [ group_by(.rep)[] | map({key: .case, value: .}) | from_entries ] as $reps
  | $ours[] as $a
  | ($a | split("_")[0] | ltrimstr("wgrelay") | if . == "" then "1" else . end) as $n
  | ([ "mmsg1", "naive" ] + (if $n != "1" then [ "mmsg\($n)" ] else [] end)) | unique | .[] as $b
  | ( [ $reps[] | select(.[$a].upp != null and .[$b].upp != null) | .[$a].upp / .[$b].upp ] as $x
      | select($x | length > 0)
      | "\($g[0].pin) \($g[0].kind) µs/pkt \($a)/\($b): \($x | map(r2) | join(" ")) -> median \($x | med | r2)" ),
    ( select($g[0].kind == "rate")
      | [ $reps[] | select(.[$a] != null and .[$b] != null and .[$b].p99_us > 0) | .[$a].p99_us / .[$b].p99_us ] as $x
      | select($x | length > 0)
      | "\($g[0].pin) rate p99 \($a)/\($b): \($x | map(r2) | join(" ")) -> median \($x | med | r2)" ),
    ( select($g[0].kind == "flat")
      | [ $reps[] | select(.[$a] != null and .[$b] != null) | .[$a].loss_pct - .[$b].loss_pct ] as $x
      | select($x | length > 0)
      | "\($g[0].pin) flat loss points \($a)-\($b): \($x | map(r2) | join(" ")) -> median \($x | med | r2)" )' "$OUT.jsonl" | tee -a "$OUT.md"

# ---- XDP: BPF run time per packet, ours (wgxdp) against the XDP_TX reference
# xdp: run_anchors' relay CPU is the program's run_time_ns over each run;
#      run_cnt only from xdp_ref.sh's stats line at stop (flat + paced run).
# wgxdp: the meter of anchors-wgrelay-xdp.sh, its last two bursts per relay
#        start (flat, paced; the first is the warm-up).
# "ns/pkt" = BPF run time / datagrams delivered to the sinks (the same
# quantity as run_anchors' relay µs/pkt for xdp); "ns/run" = run_time_ns /
# run_cnt (every frame the program saw, forwarded or not).
if [ -s "$OUT.wgxdp-bpf" ]; then
  ref=$(awk '/^# / { c = $2; p = $3; r = $5 }
             /^\{"relay":"xdp"/ { printf "{\"case\":\"%s\",\"pin\":\"%s\",\"rep\":%s,\"s\":%s}\n", c, p, r, $0 }' "$OUT.relay" | jq -s .)
  ours=$(awk '{ o = "{"; for (i = 1; i <= NF; i++) { split($i, kv, "=");
                  v = (kv[2] ~ /^[0-9.]+$/) ? kv[2] : "\"" kv[2] "\""; o = o (i > 1 ? "," : "") "\"" kv[1] "\":" v }
                print o "}" }' "$OUT.wgxdp-bpf" | jq -s .)
  {
    echo
    echo "# BPF run time per packet: wgxdp (wg_relay_xdp) vs xdp (XDP_TX reference), per rep"
    echo "| pin | rep | xdp ns/pkt flat | wgxdp ns/pkt flat | ratio flat | xdp ns/run flat+@rate | wgxdp ns/run flat+@rate | ratio ns/run | wgxdp ns/run flat | wgxdp ns/run @rate | wgxdp JVM µs/pkt flat | wgxdp % up to userspace flat |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
    jq -rs --argjson ref "$ref" --argjson ours "$ours" '
      def r(d): if . == null then "–" else . * pow(10; d) | round / pow(10; d) | tostring end;
      def med: sort | .[(length - 1) / 2 | floor];
      map(select(.kind != "warmup")) as $runs
      | [ $runs[] | select(.case == "xdp" or (.case | startswith("wgxdp"))) | {pin, rep} ] | unique | map(
          . as $k
          | ($runs | map(select(.pin == $k.pin and .rep == $k.rep))) as $rr
          | ($rr | map(select(.case == "xdp" and .kind == "flat"))[0]) as $xf
          | ($rr | map(select(.case == "xdp" and .kind == "rate"))[0]) as $xr
          | ($rr | map(select((.case | startswith("wgxdp")) and .kind == "flat"))[0]) as $wf
          | ($rr | map(select((.case | startswith("wgxdp")) and .kind == "rate"))[0]) as $wr
          | ($ref | map(select(.case == "xdp" and .pin == $k.pin and .rep == $k.rep))[0].s) as $xs
          | ($ours | map(select(.pin == $k.pin and .rep == $k.rep))) as $b
          | ($b | sort_by(.burst)) as $b
          | (if ($b | length) >= 2 then $b[-2] else null end) as $b2
          | (if ($b | length) >= 1 then $b[-1] else null end) as $b3
          | { pin: $k.pin, rep: $k.rep,
              x_pp: (if $xf and $xf.received > 0 then $xf.relay_cpu_s * 1e9 / $xf.received else null end),
              w_pp: (if $b2 and $wf and $wf.received > 0 then $b2.run_time_ns / $wf.received else null end),
              x_run: (if $xs and $xs.run_cnt > 0 then $xs.run_time_ns / $xs.run_cnt else null end),
              w_run: (if $b2 and $b3 then ($b2.run_time_ns + $b3.run_time_ns) / ($b2.run_cnt + $b3.run_cnt) else null end),
              w_run_f: $b2.ns_per_run, w_run_r: $b3.ns_per_run,
              w_up: (if $b2 and $b2.run_cnt > 0 then $b2.udp_in / $b2.run_cnt * 100 else null end),
              w_jvm: (if $wf and $wf.received > 0 then $wf.relay_cpu_s * 1e6 / $wf.received else null end) }
          | .q_pp = (if .x_pp and .w_pp then .w_pp / .x_pp else null end)
          | .q_run = (if .x_run and .w_run then .w_run / .x_run else null end)) as $rows
      | ($rows[] | "| \(.pin) | \(.rep) | \(.x_pp | r(1)) | \(.w_pp | r(1)) | \(.q_pp | r(2)) | \(.x_run | r(1)) | \(.w_run | r(1)) | \(.q_run | r(2)) | \(.w_run_f | r(1)) | \(.w_run_r | r(1)) | \(.w_jvm | r(2)) | \(.w_up | r(2)) |"),
        ($rows | group_by(.pin)[] | "\(.[0].pin): median ratio wgxdp/xdp ns/pkt flat \([.[].q_pp | select(. != null)] | med | r(2)), ns/run \([.[].q_run | select(. != null)] | med | r(2)) (goal <= 1.5)")
    ' "$OUT.jsonl"
  } | tee -a "$OUT.md"
fi
