#!/usr/bin/env bash
# run-bench.sh -- wg-relay's forwarding rate, loss, latency, CPU and
# allocation per forwarded packet, next to a direct baseline, in one go.
#
#   sudo src-test/bench/run-bench.sh        # ~2 minutes per rep on an idle machine
#
# Topology (its own namespaces, never the tests' wgr-* nor the anchors' hb-*):
#   wgb-a (10.78.0.11) --veth--+
#   wgb-b (10.78.0.12) --veth--+-- br0 in wgb-lan
#   wgb-relay (10.78.0.1) -veth+
# No default routes: nothing leaves these namespaces.
#
# Load: org.wgrelay.loadgen.LoadGenerator, one process in wgb-a and one in
# wgb-b. Flow k of a (10.78.0.11:PORT+k) and flow k of b (10.78.0.12:PORT+k)
# are two registered, linked peers; each socket sends to the relay (or, in
# the direct case, straight to its partner) and counts what comes back, like
# a WireGuard peer. FLOWS=1 gives exactly 2 peers.
#
# Cases, in this order, each rep:
#   direct            a <-> b, no relay: the generator/path ceiling
#   wN-PEERS          the relay with --workers N (WORKERS), with a roster of
#                     only the flows' peers ("small") or padded with
#                     filler peers (linked in pairs) to PEERS entries
# Each case: an unrecorded WARMUP s flat-out run (JIT), then a flat-out run
# of DUR_FLAT s (rate, loss, CPU/packet, allocation/packet) and a paced run
# at RATE pps total of DUR_RATE s (latency). RATE defaults to 20 kpps: the
# Java generator, both JVMs on one vCPU, cannot pace much more here; the
# table shows the rate achieved. Before each run the script waits (up to
# IDLE_WAIT s) for an idle machine, and repeats (up to RETRIES times) a run
# in which other processes used more than OTHER_MAX CPU-s; the table's
# medians leave out runs that stayed disturbed.
#
# Pinning (PIN): "pinned" = both generator processes on CPU 0 and the relay
# on CPU 1 (as the anchors); "unpinned" = everything floats.
#
# Figures:
#   fwd kpps      datagrams delivered to the sinks per second (first to last)
#   loss %        1 - received / sent, both directions
#   relay µs/pkt  relay utime+stime (/proc/PID/stat, whole JVM: event loops,
#                 GC, JIT) / delivered datagrams
#   alloc B/pkt   bytes allocated in the relay JVM during the run / delivered
#                 datagrams: "all" threads and the event-loop threads alone
#                 (ThreadMXBean.getThreadAllocatedBytes via AllocProbe)
#   p50/p99 µs    one-way latency of the paced run, sender clock before the
#                 send to the sink's user-space receive (CLOCK_MONOTONIC)
#
# Environment: REPS DUR_FLAT DUR_RATE RATE RATE_BATCH FLOWS SIZE WORKERS
# PEERS PIN WARMUP GEN_WARMUP OUT BUILD=0 (skip mvn) RELAY_JAVA_OPTS
# GEN_JAVA_OPTS RELAY_CP GEN_CP RELAY_MAIN OTHER_MAX RETRIES IDLE_WAIT
# THREAD_REGEX (which relay threads count as event loops), JFR=1 (record
# the relay with JFR and print the event loops' allocation sites; costs CPU).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

REPS=${REPS:-1}
DUR_FLAT=${DUR_FLAT:-4}
DUR_RATE=${DUR_RATE:-3}
RATE=${RATE:-20000}
RATE_BATCH=${RATE_BATCH:-8}
FLOWS=${FLOWS:-1}
SIZE=${SIZE:-128}
WORKERS=${WORKERS-1 2}
PEERS=${PEERS-small 10000}
PIN=${PIN:-pinned}
WARMUP=${WARMUP:-3}
GEN_WARMUP=${GEN_WARMUP:-1}
OTHER_MAX=${OTHER_MAX:-0.8}   # a run with more foreign CPU-s than this ...
RETRIES=${RETRIES:-2}         # ... is repeated up to RETRIES times
IDLE_WAIT=${IDLE_WAIT:-180}   # max s to wait for an idle machine before a run
OUT=${OUT:-$ROOT/src-test/target/bench/run-$(date -u +%Y%m%dT%H%M%SZ)}
BUILD=${BUILD:-1}
JFR=${JFR:-0}
RELAY_JAVA_OPTS=${RELAY_JAVA_OPTS:-}
GEN_JAVA_OPTS=${GEN_JAVA_OPTS:--Dio.netty.leakDetection.level=disabled -Xms256m}
THREAD_REGEX=${THREAD_REGEX:-(?i).*(loop|worker|epoll|relay-io).*}
JFR_THREADS=${JFR_THREADS:-worker|[Ll]oop|epoll}

NS_LAN=wgb-lan NS_R=wgb-relay NS_A=wgb-a NS_B=wgb-b
R_IP=10.78.0.1 A_IP=10.78.0.11 B_IP=10.78.0.12 R_PORT=51820
HZ=$(getconf CLK_TCK)

[ "$(id -u)" = 0 ] || { echo "run as root (network namespaces)" >&2; exit 1; }
command -v java >/dev/null && command -v jar >/dev/null || { echo "need a JDK (java, jar)" >&2; exit 1; }

if [ "$BUILD" = 1 ]; then
  (cd "$ROOT" && mvn -q -Dmaven.test.skip=true package -pl relay-server,src-test -am)
fi
LIB="$ROOT/relay-server/target/lib/*"
RELAY_CP=${RELAY_CP:-$ROOT/relay-server/target/relay-server.jar:$LIB}
GEN_CP=${GEN_CP:-$ROOT/src-test/target/classes:$LIB}
# the daemon's main class, from the jar's manifest unless given
RELAY_JAR=${RELAY_CP%%:*}
RELAY_MAIN=${RELAY_MAIN:-$(unzip -p "$RELAY_JAR" META-INF/MANIFEST.MF 2>/dev/null | sed -n 's/^Main-Class: *//p' | tr -d '\r')}
RELAY_MAIN=${RELAY_MAIN:-org.wgrelay.server.daemon.Main}
[ -f "$ROOT/src-test/target/classes/org/wgrelay/loadgen/LoadGenerator.class" ] ||
  { echo "build first: mvn -q -Dmaven.test.skip=true package -pl relay-server,src-test -am" >&2; exit 1; }

mkdir -p "$OUT"
T=$(mktemp -d /tmp/wgb.XXXXXX)
RPID= GPIDS=()

# ---- topology -------------------------------------------------------------
topo_down() {
  local ns
  for ns in $NS_R $NS_A $NS_B $NS_LAN; do ip netns del "$ns" 2>/dev/null || true; done
}
topo_up() {
  topo_down
  local ns port ip
  ip netns add $NS_LAN
  ip netns exec $NS_LAN sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  # no iptables on bridged frames (br_netfilter, when loaded, costs ~10 % per packet)
  ip netns exec $NS_LAN sysctl -qw net.bridge.bridge-nf-call-iptables=0 \
    net.bridge.bridge-nf-call-ip6tables=0 net.bridge.bridge-nf-call-arptables=0 2>/dev/null || true
  ip -n $NS_LAN link add br0 type bridge stp_state 0 forward_delay 0
  ip -n $NS_LAN link set lo up
  ip -n $NS_LAN link set br0 up
  for ns in $NS_R $NS_A $NS_B; do
    case $ns in $NS_R) port=to-relay ip=$R_IP ;; $NS_A) port=to-a ip=$A_IP ;; *) port=to-b ip=$B_IP ;; esac
    ip netns add "$ns"
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip link add eth0 netns "$ns" type veth peer name "$port" netns $NS_LAN
    ip -n $NS_LAN link set "$port" master br0 up
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "$ip/24" dev eth0
    ip -n "$ns" link set eth0 up
  done
  # resolve ARP and fill the bridge FDB before anything is measured
  ip netns exec $NS_A ping -q -c1 -W1 $R_IP >/dev/null
  ip netns exec $NS_B ping -q -c1 -W1 $R_IP >/dev/null
  ip netns exec $NS_A ping -q -c1 -W1 $B_IP >/dev/null
}

cleanup() {
  local p
  for p in "${GPIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -n "$RPID" ]; then kill "$RPID" 2>/dev/null || true; wait "$RPID" 2>/dev/null || true; fi
  topo_down
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- helpers --------------------------------------------------------------
jget() {  # jget KEY JSON -> the number under KEY (flat JSON written by us)
  sed -n "s/.*\"$1\":\(-\{0,1\}[0-9.eE+]*\).*/\1/p" <<<"$2"
}
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat; }  # all CPUs
ksoftirqd_ticks() {  # deferred softirq work, charged to nobody we measure
  local s=0 p
  for p in $(ps -eo pid=,comm= | awk '$2 ~ /^ksoftirqd\// { print $1 }'); do
    s=$((s + $(awk '{ print $14 + $15 }' /proc/"$p"/stat 2>/dev/null || echo 0)))
  done
  echo $s
}
wait_idle() {  # wait (up to IDLE_WAIT s) until < 5 % of a CPU is busy for 0.5 s
  local t0=$SECONDS b0
  while :; do
    b0=$(busy_ticks); sleep 0.5
    [ $(( $(busy_ticks) - b0 )) -le $(( HZ / 40 )) ] && return 0
    if [ $((SECONDS - t0)) -ge "$IDLE_WAIT" ]; then
      echo "  (machine still busy after ${IDLE_WAIT}s, measuring anyway)" >&2; return 0
    fi
    sleep 1
  done
}
udp_rcvbuf_errs() { ip netns exec "$1" awk '/^Udp:/ && ++n == 2 { print $6 }' /proc/net/snmp; }
udp_sndbuf_errs() { ip netns exec "$1" awk '/^Udp:/ && ++n == 2 { print $7 }' /proc/net/snmp; }
relay_cpu_ticks() { awk '{ print $14 + $15 }' /proc/"$RPID"/stat; }
relay_alloc() {  # "<all threads> <event-loop threads>" bytes, from AllocProbe
  if [ -s "$T/alloc" ]; then awk '{ print $2, $3 }' "$T/alloc"; else echo "0 0"; fi
}

write_roster() {  # write_roster FILE PEERS PORT_BASE
  local file=$1 peers=$2 base=$3 i
  {
    echo "# wg-relay benchmark roster: $FLOWS flow pair(s) + filler up to $peers peers"
    for i in $(seq 1 "$FLOWS"); do
      echo "peer a$i $A_IP:$((base + i)) - bench flow"
      echo "peer b$i $B_IP:$((base + i)) - bench flow"
    done
    if [ "$peers" != small ]; then
      # filler peers: unique endpoints in a range no interface owns, linked in
      # pairs so that the link table is as large as the peer table
      awk -v n=$((peers - 2 * FLOWS)) 'BEGIN {
        for (i = 0; i < n; i++) printf "peer f%d 10.79.%d.%d:%d\n", i, int(i / 250) % 250, i % 250 + 1, 40000 + int(i / 62500)
      }'
    fi
    for i in $(seq 1 "$FLOWS"); do echo "link a$i b$i"; done
    if [ "$peers" != small ]; then
      awk -v n=$((peers - 2 * FLOWS)) 'BEGIN { for (i = 0; i + 1 < n; i += 2) printf "link f%d f%d\n", i, i + 1 }'
    fi
  } >"$file"
}

start_relay() {  # start_relay WORKERS ROSTER LOG [JFR_FILE]
  local w=$1 roster=$2 log=$3 jfr=${4:-} ts=() opts=() i
  [ "$PIN" = pinned ] && ts=(taskset -c 1)
  # small fixed TLABs: allocation samples are taken at TLAB refills, so that
  # the event loops' few MB/s yield thousands of samples, not dozens
  [ -n "$jfr" ] && opts+=(-XX:TLABSize=16k -XX:-ResizeTLAB
    "-XX:StartFlightRecording=filename=$jfr,settings=$T/alloc.jfc,dumponexit=true")
  rm -f "$T/alloc"
  # shellcheck disable=SC2086
  ip netns exec $NS_R "${ts[@]}" java $RELAY_JAVA_OPTS "${opts[@]}" \
    "-javaagent:$T/allocprobe.jar=$T/alloc,$THREAD_REGEX" -cp "$RELAY_CP" \
    "$RELAY_MAIN" serve --bind $R_IP --port $R_PORT --roster "$roster" --workers "$w" \
    --control 127.0.0.1:0 --metrics 127.0.0.1:0 >"$log" 2>&1 &
  RPID=$!
  for i in $(seq 1 300); do
    grep -q 'wg-relay listening' "$log" && break
    kill -0 "$RPID" 2>/dev/null || { echo "relay exited at start:" >&2; cat "$log" >&2; RPID=; exit 1; }
    sleep 0.1
  done
  grep -q 'wg-relay listening' "$log" || { echo "relay not ready after 30 s:" >&2; cat "$log" >&2; exit 1; }
  CONTROL=$(sed -n 's/.*wg-relay listening.* control=\([^ ]*\).*/\1/p' "$log" | head -1)
}

relay_show() {  # one `wg show` over the control channel, without a JVM
  local port=${CONTROL##*:}
  [ -n "$port" ] || return 0
  ip netns exec $NS_R timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port;
    echo '{\"id\":1,\"verb\":\"wg show\"}' >&3; head -1 <&3" 2>/dev/null || true
}

stop_relay() {
  [ -n "$RPID" ] || return 0
  [ ! -s "$T/alloc" ] || echo "allocprobe event-loop threads: $(awk '{ print $5 }' "$T/alloc")" >>"$1"
  kill "$RPID"; wait "$RPID" 2>/dev/null || true; RPID=
}

run_gens() {  # run_gens TARGET(direct|relay) DUR RATE TAG -> merged JSON in RESULT
  local target=$1 dur=$2 rate=$3 tag=$4 ts=() fa=() fb=() i ra rb
  [ "$PIN" = pinned ] && ts=(taskset -c 0)
  for i in $(seq 1 "$FLOWS"); do
    if [ "$target" = direct ]; then ra=$B_IP:$((PORT_BASE + i)) rb=$A_IP:$((PORT_BASE + i))
    else ra=$R_IP:$R_PORT rb=$R_IP:$R_PORT; fi
    fa+=(--flow "$A_IP:$((PORT_BASE + i)),$ra") fb+=(--flow "$B_IP:$((PORT_BASE + i)),$rb")
  done
  local common=(--duration "$dur" --size "$SIZE" --warmup "$GEN_WARMUP" --go-file "$T/go")
  [ "$rate" -gt 0 ] && common+=(--rate $((rate / 2)) --batch "$RATE_BATCH")
  rm -f "$T/go" "$T/a.ready" "$T/b.ready"
  # shellcheck disable=SC2086
  ip netns exec $NS_A "${ts[@]}" java $GEN_JAVA_OPTS -cp "$GEN_CP" org.wgrelay.loadgen.LoadGenerator \
    --id0 1000 "${fa[@]}" "${common[@]}" --ready-file "$T/a.ready" >"$OUT/$tag.a.json" 2>"$OUT/$tag.a.err" &
  GPIDS=($!)
  # shellcheck disable=SC2086
  ip netns exec $NS_B "${ts[@]}" java $GEN_JAVA_OPTS -cp "$GEN_CP" org.wgrelay.loadgen.LoadGenerator \
    --id0 2000 "${fb[@]}" "${common[@]}" --ready-file "$T/b.ready" >"$OUT/$tag.b.json" 2>"$OUT/$tag.b.err" &
  GPIDS+=($!)
  for i in $(seq 1 600); do
    [ -f "$T/a.ready" ] && [ -f "$T/b.ready" ] && break
    sleep 0.1
  done
  sleep 0.3  # the relay finishes whatever the generators' own warm-up woke
  local c0=0 c1=0 a0 a1 rr0 rr1 rs0 rs1 sr0 sr1 b0 b1 k0 k1
  rr0=$(udp_rcvbuf_errs $NS_R) rs0=$(udp_sndbuf_errs $NS_R)
  sr0=$(( $(udp_rcvbuf_errs $NS_A) + $(udp_rcvbuf_errs $NS_B) ))
  if [ -n "$RPID" ]; then c0=$(relay_cpu_ticks); a0=$(relay_alloc); fi
  b0=$(busy_ticks) k0=$(ksoftirqd_ticks)
  touch "$T/go"
  wait "${GPIDS[@]}" || { echo "generator failed:" >&2; cat "$OUT/$tag".?.err >&2; exit 1; }
  GPIDS=()
  if [ -n "$RPID" ]; then
    sleep 0.3  # let AllocProbe write a sample taken after the run
    c1=$(relay_cpu_ticks); a1=$(relay_alloc)
  fi
  b1=$(busy_ticks) k1=$(ksoftirqd_ticks)
  rr1=$(udp_rcvbuf_errs $NS_R) rs1=$(udp_sndbuf_errs $NS_R)
  sr1=$(( $(udp_rcvbuf_errs $NS_A) + $(udp_rcvbuf_errs $NS_B) ))
  local m
  m=$(java -cp "$GEN_CP" org.wgrelay.loadgen.LoadGenerator merge "$OUT/$tag.a.json" "$OUT/$tag.b.json")
  # where datagrams were lost: the relay's socket queue (RcvbufErrors), its
  # sends (SndbufErrors), the sinks' socket queues
  m="${m%\}},\"relay_rcvbuf_drops\":$((rr1 - rr0)),\"relay_sndbuf_errors\":$((rs1 - rs0)),\"sink_rcvbuf_drops\":$((sr1 - sr0))}"
  # other CPU: busy time not charged to the generators, the relay or
  # ksoftirqd (tick-sampled; the generators' JVM exit lands here too)
  m=$(awk -v c=$((c1 - c0)) -v hz="$HZ" -v busy=$((b1 - b0)) -v ks=$((k1 - k0)) -v gen="$(jget cpu_s "$m")" \
      -v m="$m" 'BEGIN { sub(/}$/, "", m)
      printf "%s,\"busy_s\":%.2f,\"ksoftirqd_s\":%.2f,\"other_cpu_s\":%.2f", m, busy / hz, ks / hz, (busy - ks - c) / hz - gen }')
  if [ -n "$RPID" ]; then
    m=$(awk -v c=$((c1 - c0)) -v hz="$HZ" -v a0="$a0" -v a1="$a1" -v m="$m" 'BEGIN {
      split(a0, x, " "); split(a1, y, " ")
      printf "%s,\"relay_cpu_s\":%.3f,\"relay_alloc_bytes\":%d,\"relay_loop_alloc_bytes\":%d", m, c / hz, y[1] - x[1], y[2] - x[2]
    }')
  fi
  RESULT="$m}"
}

measure() {  # measure TARGET DUR RATE TAG: run_gens, repeated while others used the CPUs
  local try
  for try in $(seq 0 "$RETRIES"); do
    wait_idle
    run_gens "$@"
    if awk -v o="$(jget other_cpu_s "$RESULT")" -v m="$OTHER_MAX" 'BEGIN { exit !(o <= m) }' ||
       [ "$try" = "$RETRIES" ]; then
      RESULT="${RESULT%\}},\"retries\":$try}"
      return 0
    fi
    echo "  ($4: other CPU $(jget other_cpu_s "$RESULT") s > $OTHER_MAX: repeating)"
  done
}

record() {  # record CASE PEERS WORKERS KIND REP JSON
  local j=$6 rx cpu upp apl alp
  rx=$(jget received "$j")
  cpu=$(jget relay_cpu_s "$j")
  upp=- apl=- alp=-
  if [ -n "$cpu" ] && [ "$rx" -gt 0 ]; then
    upp=$(awk -v c="$cpu" -v n="$rx" 'BEGIN { printf "%.2f", c / n * 1e6 }')
    apl=$(awk -v a="$(jget relay_alloc_bytes "$j")" -v n="$rx" 'BEGIN { printf "%.1f", a / n }')
    alp=$(awk -v a="$(jget relay_loop_alloc_bytes "$j")" -v n="$rx" 'BEGIN { printf "%.1f", a / n }')
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" \
    "$(jget rx_pps "$j")" "$(jget loss_pct "$j")" "$(jget p50_us "$j")" "$(jget p99_us "$j")" \
    "${cpu:--}" "$rx" "$upp" "$apl" "$alp" "$(jget sent "$j")" "$(jget other_cpu_s "$j")" >>"$OUT/results.tsv"
  echo "$j" | sed "s/^{/{\"case\":\"$1\",\"peers\":\"$2\",\"workers\":\"$3\",\"kind\":\"$4\",\"rep\":$5,/" >>"$OUT/results.jsonl"
  printf '  %-10s %-4s rep %d %7.0f pps  loss %6.2f%% (drops: relay %s, sinks %s)  p50 %8.1f us  p99 %9.1f us  relay %s us/pkt  alloc %s B/pkt (loops %s)  other cpu %s s\n' \
    "$1" "$4" "$5" "$(jget rx_pps "$j")" "$(jget loss_pct "$j")" "$(jget relay_rcvbuf_drops "$j")" "$(jget sink_rcvbuf_drops "$j")" \
    "$(jget p50_us "$j")" "$(jget p99_us "$j")" "$upp" "$apl" "$alp" "$(jget other_cpu_s "$j")"
}

jfr_summary() {  # allocation sites of the event-loop threads (jdk.ObjectAllocationSample, by weight)
  jfr print --events jdk.ObjectAllocationSample --stack-depth 20 "$1" >"$T/jfr.txt"
  awk -v re="$JFR_THREADS" '
    function bytes(v, u) { return u == "kB" ? v * 1024 : u == "MB" ? v * 1048576 : u == "GB" ? v * 1073741824 : v }
    function frame(f) { gsub(/^[[:space:]]+|[[:space:]]+line:.*$/, "", f); sub(/\(.*$/, "", f); return f }
    /jdk.ObjectAllocationSample/ { cls = ""; w = 0; th = ""; top = ""; ours = "" }
    /objectClass = / { cls = $3 }
    /weight = / { w = bytes($3, $4) }
    /eventThread = / { th = $0 }
    /stackTrace = \[/ { inst = 1; next }
    inst && /^[[:space:]]*\]/ { inst = 0
      if (th ~ re) { key = cls "  at " top (ours != "" && ours != top ? "  via " ours : ""); tot[key] += w; all += w; n++ }
      next }
    inst && /line:/ { f = frame($0); if (top == "") top = f; if (ours == "" && f ~ /^org\.wgrelay\./) ours = f }
    END { printf "# %d samples, %.1f MB sampled weight, threads matching /%s/\n", n, all / 1048576, re
          for (k in tot) printf "%6.1f%%  %s\n", 100 * tot[k] / all, k }' "$T/jfr.txt" >"$T/jfr.agg"
  head -1 "$T/jfr.agg"
  tail -n +2 "$T/jfr.agg" | sort -rn -k1 | head -15
}

# ---- run ----------------------------------------------------------------
mkdir -p "$T/probe"
printf 'Premain-Class: org.wgrelay.loadgen.AllocProbe\n' >"$T/probe/MANIFEST.MF"
jar --create --file "$T/allocprobe.jar" --manifest "$T/probe/MANIFEST.MF" \
  -C "$ROOT/src-test/target/classes" org/wgrelay/loadgen/AllocProbe.class
if [ "$JFR" = 1 ]; then  # profile settings, allocation samples throttled at 10000/s instead of 300/s
  sed '/<event name="jdk.ObjectAllocationSample">/,/<\/event>/ s#>300/s<#>10000/s<#' \
    "$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")/lib/jfr/profile.jfc" >"$T/alloc.jfc"
fi
topo_up
printf 'case\tpeers\tworkers\tkind\trep\trx_pps\tloss_pct\tp50_us\tp99_us\trelay_cpu_s\treceived\tus_per_pkt\talloc_b_per_pkt\tloop_alloc_b_per_pkt\tsent\tother_cpu_s\n' >"$OUT/results.tsv"
: >"$OUT/results.jsonl"
{
  echo "# run-bench $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# host: nproc=$(nproc) kernel=$(uname -r) cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo) java=$(java -version 2>&1 | head -1)"
  echo "# load: ${FLOWS}+${FLOWS} flows, ${SIZE} B, flat ${DUR_FLAT} s, rate ${RATE} pps ${DUR_RATE} s, reps ${REPS}, pin ${PIN}, relay warm-up ${WARMUP} s"
} | tee "$OUT/summary.md"
t_start=$(date +%s)
for rep in $(seq 1 "$REPS"); do
  PORT_BASE=$((30000 + 100 * rep))  # re-draws the SO_REUSEPORT hash per rep
  measure direct "$DUR_FLAT" 0 "direct-flat-$rep"; record direct - - flat "$rep" "$RESULT"
  measure direct "$DUR_RATE" "$RATE" "direct-rate-$rep"; record direct - - rate "$rep" "$RESULT"
  for peers in $PEERS; do
    roster=$T/roster-$peers-$rep
    for w in $WORKERS; do
      c=w$w-$peers
      write_roster "$roster" "$peers" "$PORT_BASE"
      jfr=; [ "$JFR" = 1 ] && jfr=$OUT/relay-$c-$rep.jfr
      start_relay "$w" "$roster" "$OUT/relay-$c-$rep.log" "$jfr"
      [ "$WARMUP" = 0 ] || run_gens relay "$WARMUP" 0 "$c-warmup-$rep"
      measure relay "$DUR_FLAT" 0 "$c-flat-$rep"; record "$c" "$peers" "$w" flat "$rep" "$RESULT"
      measure relay "$DUR_RATE" "$RATE" "$c-rate-$rep"; record "$c" "$peers" "$w" rate "$rep" "$RESULT"
      relay_show >>"$OUT/relay-$c-$rep.log"
      stop_relay "$OUT/relay-$c-$rep.log"
      [ -z "$jfr" ] || { echo "# top allocation sites, $c (JFR ObjectAllocationSample, by weight)"; jfr_summary "$jfr"; } >>"$OUT/jfr-alloc.txt"
    done
  done
done
echo "# total $(( $(date +%s) - t_start )) s" | tee -a "$OUT/summary.md"

# ---- table: median over reps ---------------------------------------------
# Runs that others disturbed even after RETRIES (other CPU > OTHER_MAX) count
# only when a case has no clean run; such cells are marked with *.
awk -F'\t' -v rate="$RATE" -v omax="$OTHER_MAX" '
  function med(s,   a, n, i, j, t) {
    n = split(s, a, " "); if (n == 0 || a[1] == "-") return "-"
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  function pick(k, col) { return (k in clean) ? cv[k, col] : av[k, col] }
  function cell(k, col, d,   v) { v = med(pick(k, col)); if (v != "-" && d != "") v = sprintf(d, v); return v ((k in clean) ? "" : "*") }
  NR == 1 { next }
  { k = $1 SUBSEP $4; if (!($1 in seen)) { seen[$1] = 1; order[++nc] = $1; peers[$1] = $2; workers[$1] = $3 }
    ok = ($16 == "" || $16 + 0 <= omax); if (ok) clean[k] = 1
    for (c = 6; c <= 14; c++) { v = c == 6 ? $c / 1000 : $c; av[k, c] = av[k, c] " " v; if (ok) cv[k, c] = cv[k, c] " " v } }
  END {
    printf "| case | peers | workers | fwd kpps flat | loss %% flat | relay µs/pkt flat | alloc B/pkt flat (all / loops) | fwd kpps @%s | loss %% @%s | p50 µs @%s | p99 µs @%s | relay µs/pkt @%s |\n", rate, rate, rate, rate, rate
    print "|---|---|---|---|---|---|---|---|---|---|---|---|"
    for (i = 1; i <= nc; i++) {
      c = order[i]; f = c SUBSEP "flat"; r = c SUBSEP "rate"
      printf "| %s | %s | %s | %s | %s | %s | %s / %s | %s | %s | %s | %s | %s |\n", c, peers[c], workers[c],
        cell(f, 6, "%.1f"), cell(f, 7, "%.2f"), cell(f, 12, "%.2f"), cell(f, 13, "%.1f"), cell(f, 14, "%.1f"),
        cell(r, 6, "%.1f"), cell(r, 7, "%.2f"), cell(r, 8, "%.1f"), cell(r, 9, "%.0f"), cell(r, 12, "%.2f")
    }
    print ""
    print "(median over reps of undisturbed runs; * = only disturbed runs, see other_cpu_s in results.tsv; kpps = thousand datagrams per second)"
  }' "$OUT/results.tsv" | tee -a "$OUT/summary.md"
[ ! -s "$OUT/jfr-alloc.txt" ] || echo "JFR allocation sites: $OUT/jfr-alloc.txt"
echo "raw: $OUT/results.tsv $OUT/results.jsonl  table: $OUT/summary.md"
