#!/usr/bin/env bash
# soak.sh -- runs the relay under a mixed load for a given time and fails when its
# memory, descriptors or threads grow.
#
#   src-test/bench/soak.sh [MINUTES]      # default 60; needs no root, loopback only
#
# The relay runs as its own process (as in production: the daemon's main class, its
# class path, RELAY_JAVA_OPTS) on 127.0.0.1, two workers. Around it:
#   legit     org.wgrelay.loadgen.LoadGenerator: LEGIT_FLOWS linked pairs on 127.0.0.1
#             exchanging type-4 datagrams at LEGIT_PPS in all (registered in the roster
#             file the relay starts with); their loss must stay under LOSS_MAX %
#   roaming   org.wgrelay.soak.SoakDriver (RoamingLoad): stamped pairs whose peers move
#             to a new ip:port every 10 s per pair with the whole MAC1 / response /
#             transport sequence; each move must commit
#   forgery   (ForgeryLoad) initiations with valid MAC1s from addresses that never
#             confirm: candidates expire, strikes, blocklist entries
#   flood     (FloodLoad) FLOOD_PPS datagrams a second from ever new source addresses
#             (3.2 million in 127.200/13): junk, unmatched initiations, unknown sources
#   control   (ControlChurn) a verb every 200 ms on a fresh connection per cycle: peer
#             add/pubkey/update/remove, link add/remove, blocklist add/remove, wg show,
#             peer list, drop sources, show config, help; and a subscriber
# Every 10 s the driver samples the relay: VmRSS (as found, and after a full GC and a
# malloc trim: the figure judged; see RelaySampler) and Threads (/proc/PID/status), open
# descriptors (/proc/PID/fd), the heap after a full collection (the relay's platform
# MBeans through the attach API), GC pauses other than those collections and the packet
# counters (/metrics). See SoakDriver and RelaySampler for how.
#
# Verdict, over the samples after WARMUP seconds (least squares): RSS slope <=
# MAX_RSS_SLOPE MB/h, heap-after-GC slope <= MAX_HEAP_SLOPE MB/h, descriptors and threads
# flat (the highest count of the last third of the steady samples at most FD_SLACK /
# THREAD_SLACK above that of the first third), every roam and verb done, legit loss
# under LOSS_MAX %, and no "LEAK:" line from Netty's leak detector in the relay's log
# (NETTY_LEAK level: paranoid for runs of 10 minutes or less, else simple, the default).
# Exit 0 on pass, 1 on fail. OUT gets samples.csv, summary.txt, soak.png (with gnuplot),
# relay.log, loadgen.json and class histograms at the end of the warm-up and at the end
# (hist-warm.txt, hist-end.txt; hist-diff.txt: live bytes per class, end minus warm-up),
# and nmt-diff.txt (native memory by JVM area, end against the end of the warm-up).
#
# Environment: WARMUP (s; default 600, or a third of the run if that is less)
# MAX_RSS_SLOPE (1) MAX_HEAP_SLOPE (1) FD_SLACK (4) THREAD_SLACK (4) LOSS_MAX (1)
# LEGIT_FLOWS (4) LEGIT_PPS (2000) FLOOD_PPS (1000) ROAM_PAIRS (3) FORGED_PAIRS (3)
# RELAY_JAVA_OPTS ("-XX:+ExitOnOutOfMemoryError -Xms128m -Xmx128m -XX:+AlwaysPreTouch
# -XX:SoftRefLRUPolicyMSPerMB=0 -XX:NativeMemoryTracking=summary": a
# heap of fixed size, touched at start, so that RSS does not follow G1 growing and
# shrinking the heap around the sampler's full collections (measured: +-100 MB between
# samples with only -Xmx256m); the heap's own growth is the heap-after-GC figure, RSS
# then shows what grows outside it: direct buffers, metaspace, threads, malloc; soft
# references cleared at every collection, so that the heap after GC counts only what is
# strongly reachable: otherwise the JDK's soft caches of reflection and jar data leave it
# ~1 s per free MB (here ~2 min) after their last use, a 3 MB step down in a short run;
# native memory tracking, so that nmt-diff.txt says which JVM area RSS growth is in)
# NETTY_LEAK OUT BUILD=0 (skip mvn; CI builds first) MVN_OPTS (extra mvn arguments)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

MINUTES=${1:-60}
DURATION=$((MINUTES * 60))
WARMUP=${WARMUP:-$((DURATION / 3 < 600 ? DURATION / 3 : 600))}
MAX_RSS_SLOPE=${MAX_RSS_SLOPE:-1}
MAX_HEAP_SLOPE=${MAX_HEAP_SLOPE:-1}
FD_SLACK=${FD_SLACK:-4}
THREAD_SLACK=${THREAD_SLACK:-4}
LOSS_MAX=${LOSS_MAX:-1}
LEGIT_FLOWS=${LEGIT_FLOWS:-4}
LEGIT_PPS=${LEGIT_PPS:-2000}
FLOOD_PPS=${FLOOD_PPS:-1000}
ROAM_PAIRS=${ROAM_PAIRS:-3}
FORGED_PAIRS=${FORGED_PAIRS:-3}
RELAY_JAVA_OPTS=${RELAY_JAVA_OPTS:--XX:+ExitOnOutOfMemoryError -Xms128m -Xmx128m -XX:+AlwaysPreTouch -XX:SoftRefLRUPolicyMSPerMB=0 -XX:NativeMemoryTracking=summary}
if [ "$MINUTES" -le 10 ]; then NETTY_LEAK=${NETTY_LEAK:-paranoid}; else NETTY_LEAK=${NETTY_LEAK:-simple}; fi
OUT=${OUT:-$ROOT/src-test/target/soak/run-$(date -u +%Y%m%dT%H%M%SZ)}
BUILD=${BUILD:-1}

command -v java >/dev/null || { echo "need a JDK" >&2; exit 1; }
if [ "$BUILD" = 1 ]; then
  # shellcheck disable=SC2086
  (cd "$ROOT" && mvn -q ${MVN_OPTS:-} -Dmaven.test.skip=true package -pl relay-server,src-test -am)
fi
LIB="$ROOT/relay-server/target/lib/*"
RELAY_CP="$ROOT/relay-server/target/relay-server.jar:$LIB"
DRIVER_CP="$ROOT/src-test/target/classes:$RELAY_CP"
RELAY_MAIN=$(unzip -p "$ROOT/relay-server/target/relay-server.jar" META-INF/MANIFEST.MF 2>/dev/null |
  sed -n 's/^Main-Class: *//p' | tr -d '\r') || true
RELAY_MAIN=${RELAY_MAIN:-org.wgrelay.server.daemon.Main}
[ -f "$ROOT/src-test/target/classes/org/wgrelay/soak/SoakDriver.class" ] ||
  { echo "build first: mvn -q -Dmaven.test.skip=true package -pl relay-server,src-test -am" >&2; exit 1; }

mkdir -p "$OUT"
RPID= GPID=
cleanup() {
  [ -z "$GPID" ] || kill "$GPID" 2>/dev/null || true
  if [ -n "$RPID" ]; then kill "$RPID" 2>/dev/null || true; wait "$RPID" 2>/dev/null || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free UDP port for the relay and a free block for the legit flows, below the
# ephemeral range so that no test's port-0 socket takes one meanwhile.
udp_free() { ! ss -Hlun "sport = :$1" 2>/dev/null | grep -q .; }
pick_port() {
  local p i
  for i in $(seq 1 50); do
    p=$((20000 + RANDOM % 9000))
    udp_free "$p" && { echo "$p"; return 0; }
  done
  echo "no free UDP port found" >&2; return 1
}
R_PORT=$(pick_port)
FLOW_BASE=$((R_PORT < 24500 ? R_PORT + 1000 : R_PORT - 1000))

{
  echo "# wg-relay soak: $LEGIT_FLOWS legit pairs"
  for i in $(seq 1 "$LEGIT_FLOWS"); do
    echo "peer legit${i}a 127.0.0.1:$((FLOW_BASE + i)) - soak legit"
    echo "peer legit${i}b 127.0.0.1:$((FLOW_BASE + 100 + i)) - soak legit"
  done
  for i in $(seq 1 "$LEGIT_FLOWS"); do echo "link legit${i}a legit${i}b"; done
} >"$OUT/roster"

# shellcheck disable=SC2086
java $RELAY_JAVA_OPTS "-Dio.netty.leakDetection.level=$NETTY_LEAK" -cp "$RELAY_CP" "$RELAY_MAIN" serve \
  --bind 127.0.0.1 --port "$R_PORT" --workers 2 --roster "$OUT/roster" \
  --control 127.0.0.1:0 --metrics 127.0.0.1:0 >"$OUT/relay.log" 2>&1 &
RPID=$!
for _ in $(seq 1 300); do
  grep -q 'wg-relay listening' "$OUT/relay.log" && break
  kill -0 "$RPID" 2>/dev/null || { echo "relay exited at start:" >&2; cat "$OUT/relay.log" >&2; RPID=; exit 1; }
  sleep 0.1
done
LISTEN=$(grep -m1 'wg-relay listening' "$OUT/relay.log") ||
  { echo "relay not ready after 30 s:" >&2; cat "$OUT/relay.log" >&2; exit 1; }
CONTROL=$(sed -n 's/.* control=\([^ ]*\).*/\1/p' <<<"$LISTEN")
METRICS=$(sed -n 's/.* metrics=\([^ ]*\).*/\1/p' <<<"$LISTEN")
echo "# soak ${MINUTES} min (warm-up ${WARMUP} s), relay pid $RPID udp 127.0.0.1:$R_PORT control $CONTROL metrics $METRICS, out $OUT"
echo "# relay: $RELAY_JAVA_OPTS -Dio.netty.leakDetection.level=$NETTY_LEAK; $(java -version 2>&1 | head -1)"

# The legit flows run a little longer than the driver, so that they cover every sample.
java -Dio.netty.leakDetection.level=disabled -cp "$DRIVER_CP" org.wgrelay.loadgen.LoadGenerator \
  --flow "127.0.0.1:$((FLOW_BASE + 1)),127.0.0.1:$R_PORT,$LEGIT_FLOWS" \
  --flow "127.0.0.1:$((FLOW_BASE + 101)),127.0.0.1:$R_PORT,$LEGIT_FLOWS" \
  --rate "$LEGIT_PPS" --batch 8 --duration $((DURATION + 15)) >"$OUT/loadgen.json" 2>"$OUT/loadgen.err" &
GPID=$!

verdict=0
java -cp "$DRIVER_CP" org.wgrelay.soak.SoakDriver --pid "$RPID" --relay "127.0.0.1:$R_PORT" \
  --control "$CONTROL" --metrics "$METRICS" --out "$OUT" --duration "$DURATION" --warmup "$WARMUP" \
  --roam-pairs "$ROAM_PAIRS" --forged-pairs "$FORGED_PAIRS" --flood-pps "$FLOOD_PPS" \
  --max-rss-slope "$MAX_RSS_SLOPE" --max-heap-slope "$MAX_HEAP_SLOPE" \
  --fd-slack "$FD_SLACK" --thread-slack "$THREAD_SLACK" || verdict=$?

# the generator stops by itself ~15 s after the driver's last sample (sooner, if the driver
# gave up early: then it is stopped)
for _ in $(seq 1 60); do kill -0 "$GPID" 2>/dev/null || break; sleep 1; done
kill "$GPID" 2>/dev/null || true
wait "$GPID" || { echo "load generator failed:" >&2; cat "$OUT/loadgen.err" >&2; verdict=1; }
GPID=
loss=$(sed -n 's/.*"loss_pct":\([0-9.]*\).*/\1/p' "$OUT/loadgen.json" | tail -1)
sent=$(sed -n 's/.*"sent":\([0-9]*\).*/\1/p' "$OUT/loadgen.json" | tail -1)
echo "legit_sent=$sent legit_loss_pct=$loss" | tee -a "$OUT/summary.txt"
if [ -z "$loss" ] || [ "${sent:-0}" -eq 0 ] || awk -v l="$loss" -v m="$LOSS_MAX" 'BEGIN { exit !(l > m) }'; then
  echo "FAIL: legit flows lost ${loss:-?} % (limit $LOSS_MAX %)" | tee -a "$OUT/summary.txt"; verdict=1
fi
kill "$RPID"; wait "$RPID" 2>/dev/null || true; RPID=
if grep -q 'LEAK:' "$OUT/relay.log"; then
  echo "FAIL: Netty reported a buffer leak (relay.log)" | tee -a "$OUT/summary.txt"; verdict=1
fi

# Live bytes per class, end of the run minus end of the warm-up, most grown first.
if [ -s "$OUT/hist-warm.txt" ] && [ -s "$OUT/hist-end.txt" ]; then
  awk 'FNR == 1 { f++ } $1 ~ /^[0-9]+:$/ { b[f, $4] = $3; n[$4] = 1 }
    END { for (c in n) if (b[2, c] - b[1, c] != 0) printf "%+12d B  %s\n", b[2, c] - b[1, c], c }' \
    "$OUT/hist-warm.txt" "$OUT/hist-end.txt" | sort -rn >"$OUT/hist-diff.txt"
fi

# ---- plot: RSS and heap after GC with the fitted RSS line; threads and descriptors;
# GC pause time per interval ---------------------------------------------------------
if command -v gnuplot >/dev/null && [ -s "$OUT/samples.csv" ]; then
  fit=$(awk -F, -v w="$WARMUP" 'NR > 1 && $1 >= w { n++; x = $1 / 60; y = $2 / 1024; sx += x; sy += y; sxx += x * x; sxy += x * y }
    END { if (n > 1) { b = (n * sxy - sx * sy) / (n * sxx - sx * sx); a = (sy - b * sx) / n; print a, b } else print 0, 0 }' \
    "$OUT/samples.csv")
  read -r fa fb <<<"$fit"
  rss_slope=$(sed -n 's/^rss_slope_mb_h=//p' "$OUT/summary.txt")
  heap_slope=$(sed -n 's/^heap_slope_mb_h=//p' "$OUT/summary.txt")
  gnuplot <<EOF || echo "(gnuplot failed; no plot)" >&2
set terminal pngcairo size 1000,1100 font ",10"
set output "$OUT/soak.png"
set datafile separator ","
set key top left opaque
set grid
set multiplot layout 4,1 title "wg-relay soak, ${MINUTES} min: legit ${LEGIT_PPS} pps, flood ${FLOOD_PPS} pps, roaming, forgery, control churn"
set xlabel "minutes"
set arrow from $WARMUP/60.0, graph 0 to $WARMUP/60.0, graph 1 nohead dt 2
set ylabel "RSS, MiB"
plot "$OUT/samples.csv" using (\$1/60):(\$13/1024) with lines lw 1 lc rgb "gray60" title "RSS as found", \
     "" using (\$1/60):(\$2/1024) with lines lw 2 lc rgb "dark-violet" title "RSS after full GC and malloc trim (least-squares slope after warm-up: ${rss_slope} MB/h)", \
     (x >= $WARMUP/60.0 ? $fa + $fb * x : 1/0) with lines dt 3 lw 2 lc rgb "black" title "fit"
set ylabel "MiB"
plot "$OUT/samples.csv" using (\$1/60):(\$3/1024) with lines lw 2 title "heap after full GC (slope after warm-up: ${heap_slope} MB/h)", \
     "" using (\$1/60):(\$4/1024) with lines lw 2 title "metaspace used"
set ylabel "count"
plot "$OUT/samples.csv" using (\$1/60):5 with steps lw 2 title "threads", \
     "" using (\$1/60):6 with steps lw 2 title "open descriptors"
set ylabel "ms per 10 s"
prev = 0
plot "$OUT/samples.csv" using (\$1/60):(d = \$8 - prev, prev = \$8, \$0 == 0 ? 0 : d) with impulses lw 2 title "GC pause time (young/mixed, without the sampler's full GCs)"
unset multiplot
EOF
fi
echo "samples: $OUT/samples.csv  summary: $OUT/summary.txt$( [ -s "$OUT/soak.png" ] && echo "  plot: $OUT/soak.png")"
if [ "$verdict" = 0 ]; then echo "soak: pass"; else echo "soak: FAIL" >&2; fi
exit "$verdict"
