#!/usr/bin/env bash
# run-hub.sh -- wg-relay's CPU per forwarded packet for a hub with many spokes
# against a single link, in one run, the two cases interleaved.
#
#   sudo src-test/bench/run-hub.sh          # ~1 min per case and rep on an idle machine
#
# Topology (its own namespaces, never the tests' wgr-*, run-bench's wgb-* nor
# the anchors' hb-*):
#   wgh-gen (10.77.0.11) --veth--+-- br0 in wgh-lan
#   wgh-relay (10.77.0.1) -veth--+
# No default routes: nothing leaves these namespaces. wgh-gen owns
# 10.77.128.0/17 (a local route on lo), which wgh-relay reaches via 10.77.0.11.
#
# Where the spokes are (SPOKES_AT):
#   ips    (default) spoke k at 10.77.128.(1+k):40000, its own address as
#          spokes behind different NATs have; the relay sends to 1000
#          addresses through one gateway, and after priming ONE socket in
#          wgh-gen receives for all of them, so that the kernel's delivery work
#          -- which on veth runs in the relay's context and counts in its CPU --
#          is the same per datagram as for the single link's one socket
#   ports  spoke k at 10.77.0.11:20001+k, each its own socket to the end: the
#          relay's CPU then also pays for waking 1000 receiving sockets
#
# Cases, each on its own relay (--workers 1, RELAY_ARGS, default
# --max-links-per-peer 1024; single on port 51820, hub on 51821, both running
# side by side in wgh-relay), one generator process (HubBench) per run that owns
# every peer's socket in wgh-gen:
#   single   peer "hub" with ONE link (to spoke0): an ordinary pair, routed by
#            source endpoint
#   hub      peer "hub" with SPOKES links (default 1000): a hub, its datagrams
#            routed by the receiver index through the session index
# Per relay start: the hub and its spokes are registered over the control
# channel (HubBench register: peer add, pubkey, link add; at the first start of
# each case -- later starts load the roster the relay wrote then, unless
# REGISTER=each). Every HubBench run binds the spokes' sockets, primes the
# session index (an initiation from each spoke, the hub's response to each) and
# sends the hub's transport data from its one socket to the spokes in turn
# (DIRECTION=both: and the spokes' to the hub, half the rate each way).
#
# STARTS times: start both relays, an unrecorded WARMUP s flat-out run on each
# (JIT), then RUNS rounds, each a run paced at RATE pps for DUR s on both (the
# comparison: same offered rate) and, with DUR_FLAT > 0 (default 0), a
# flat-out run of DUR_FLAT s on both (the generator's own cost differs between
# the cases there, so the rates and with them the batch per wake-up differ:
# no like-for-like comparison); stop both. Within a round the
# order alternates, single then hub, then hub then single (ABBA), so that a
# drift of the machine falls on both cases alike; the ratio hub / single is
# taken within each round (the neighbouring minute), then its median over
# all rounds. Between relay starts the CPU per packet of one case moves by
# more than 5 % here (JIT, memory layout), hence several starts.
#
# Figures:
#   relay µs/pkt  relay CPU / datagrams delivered to the sinks. The CPU is the
#                 sum of sum_exec_runtime over the relay JVM's threads
#                 (/proc/PID/task/*/schedstat, ns; this kernel has no IRQ time
#                 accounting, so softirq work run in the relay's context -- the
#                 veth/bridge delivery of what it sends -- is in it, as in the
#                 tick counts) and, for comparison with run-bench.sh, utime +
#                 stime ticks (/proc/PID/stat, 10 ms resolution)
#   other CPU s   busy time of all CPUs not charged to the relay, the generator
#                 or ksoftirqd; a run with more than OTHER_MAX is repeated up to
#                 RETRIES times
#
# Pinning (PIN): "pinned" = generator (and registration) on CPU 0, relay on
# CPU 1; "unpinned" = everything floats.
#
# TABLE_ONLY=DIR prints the tables of the run in DIR (also of one that was
# interrupted: results.tsv is written run by run) and exits.
# Environment: STARTS RUNS CASES SPOKES SPOKES_AT RATE RATE_BATCH DUR DUR_FLAT WARMUP DIRECTION SIZE
# PIN REGISTER=once|each OTHER_MAX RETRIES IDLE_WAIT OUT BUILD=0 (skip mvn)
# RELAY_CP GEN_CP RELAY_MAIN RELAY_ARGS RELAY_JAVA_OPTS GEN_JAVA_OPTS
# MVN_ARGS (extra mvn arguments, e.g. -o -Dmaven.repo.local=...)
# PERF=1 samples the relay during each paced run (perf record -g -F 1999, JIT
# symbols from -XX:+DumpPerfMapAtExit) and prints each case's top symbols and
# the kernel / JIT / libjvm shares (perturbs the CPU figures a little, alike
# for both cases).
# JFR=1 records each relay start with JFR's profile settings (costs CPU: do
# not read µs/pkt from such a run).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

STARTS=${STARTS:-2}
RUNS=${RUNS:-4}
CASES=${CASES:-single hub}
SPOKES=${SPOKES:-1000}
RATE=${RATE:-20000}
RATE_BATCH=${RATE_BATCH:-8}
DUR=${DUR:-6}
DUR_FLAT=${DUR_FLAT:-0}
WARMUP=${WARMUP:-3}
DIRECTION=${DIRECTION:-hub}
SIZE=${SIZE:-128}
PIN=${PIN:-pinned}
REGISTER=${REGISTER:-once}
OTHER_MAX=${OTHER_MAX:-0.8}
RETRIES=${RETRIES:-2}
IDLE_WAIT=${IDLE_WAIT:-180}
OUT=${OUT:-$ROOT/src-test/target/bench/hub-$(date -u +%Y%m%dT%H%M%SZ)}
BUILD=${BUILD:-1}
[ -z "${TABLE_ONLY:-}" ] || BUILD=0
JFR=${JFR:-0}
RELAY_ARGS=${RELAY_ARGS---max-links-per-peer 1024}
RELAY_JAVA_OPTS=${RELAY_JAVA_OPTS:-}
GEN_JAVA_OPTS=${GEN_JAVA_OPTS:--Dio.netty.leakDetection.level=disabled -Xms256m}

NS_LAN=wgh-lan NS_R=wgh-relay NS_G=wgh-gen
R_IP=10.77.0.1 G_IP=10.77.0.11 PORT0=20000 SPOKE_NET=10.77.128.0/17 SPOKE_BASE=10.77.128.1:40000
SPOKES_AT=${SPOKES_AT:-ips}
SPOKE_ARGS=()
[ "$SPOKES_AT" = ips ] && SPOKE_ARGS=(--spoke-ips "$SPOKE_BASE")
declare -A R_PORT=([single]=51820 [hub]=51821) RPIDS=() CONTROLS=()
HZ=$(getconf CLK_TCK)

[ "$(id -u)" = 0 ] || { echo "run as root (network namespaces)" >&2; exit 1; }
command -v java >/dev/null || { echo "need java" >&2; exit 1; }

if [ "$BUILD" = 1 ]; then
  # shellcheck disable=SC2086
  (cd "$ROOT" && mvn -q ${MVN_ARGS:-} -Dmaven.test.skip=true package -pl relay-server,src-test -am)
fi
LIB="$ROOT/relay-server/target/lib/*"
RELAY_CP=${RELAY_CP:-$ROOT/relay-server/target/relay-server.jar:$LIB}
GEN_CP=${GEN_CP:-$ROOT/src-test/target/classes:$ROOT/relay-server/target/relay-server.jar:$LIB}
RELAY_MAIN=${RELAY_MAIN:-$(unzip -p "${RELAY_CP%%:*}" META-INF/MANIFEST.MF 2>/dev/null | sed -n 's/^Main-Class: *//p' | tr -d '\r')}
RELAY_MAIN=${RELAY_MAIN:-org.wgrelay.server.daemon.Main}
[ -f "${GEN_CP%%:*}/org/wgrelay/loadgen/HubBench.class" ] ||
  { echo "build first: mvn -q -Dmaven.test.skip=true package -pl relay-server,src-test -am" >&2; exit 1; }

mkdir -p "$OUT"
T=$(mktemp -d /tmp/wgh.XXXXXX)
GPID=

# ---- topology -------------------------------------------------------------
topo_down() {
  local ns
  for ns in $NS_R $NS_G $NS_LAN; do ip netns del "$ns" 2>/dev/null || true; done
}
topo_up() {
  topo_down
  local ns port ip
  ip netns add $NS_LAN
  ip netns exec $NS_LAN sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip netns exec $NS_LAN sysctl -qw net.bridge.bridge-nf-call-iptables=0 \
    net.bridge.bridge-nf-call-ip6tables=0 net.bridge.bridge-nf-call-arptables=0 2>/dev/null || true
  ip -n $NS_LAN link add br0 type bridge stp_state 0 forward_delay 0
  ip -n $NS_LAN link set lo up
  ip -n $NS_LAN link set br0 up
  for ns in $NS_R $NS_G; do
    case $ns in $NS_R) port=to-relay ip=$R_IP ;; *) port=to-gen ip=$G_IP ;; esac
    ip netns add "$ns"
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip link add eth0 netns "$ns" type veth peer name "$port" netns $NS_LAN
    ip -n $NS_LAN link set "$port" master br0 up
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "$ip/24" dev eth0
    ip -n "$ns" link set eth0 up
  done
  ip -n $NS_G route add local $SPOKE_NET dev lo
  ip -n $NS_R route add $SPOKE_NET via $G_IP
  ip netns exec $NS_G ping -q -c1 -W1 $R_IP >/dev/null
}

cleanup() {
  local p
  [ -z "$GPID" ] || kill "$GPID" 2>/dev/null || true
  for p in "${RPIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  topo_down
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- helpers --------------------------------------------------------------
jget() {  # jget KEY JSON -> the number under KEY (flat JSON)
  sed -n "s/.*\"$1\":\(-\{0,1\}[0-9.eE+]*\).*/\1/p" <<<"$2" | head -1
}
jnum() { local v; v=$(jget "$@"); echo "${v:-0}"; }  # integer KEY, 0 when absent
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat; }
ksoftirqd_ticks() {
  local s=0 p
  for p in $(ps -eo pid=,comm= | awk '$2 ~ /^ksoftirqd\// { print $1 }'); do
    s=$((s + $(awk '{ print $14 + $15 }' /proc/"$p"/stat 2>/dev/null || echo 0)))
  done
  echo $s
}
wait_idle() {  # up to IDLE_WAIT s, until < 5 % of a CPU is busy for 0.5 s
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
relay_ticks() { awk '{ print $14 + $15 }' /proc/"$1"/stat; }
relay_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }'; }
udp_rcvbuf_errs() { ip netns exec "$1" awk '/^Udp:/ && ++n == 2 { print $6 }' /proc/net/snmp; }

other_relay() {  # the PID of the relay that is not CASE's, if running
  local k
  for k in "${!RPIDS[@]}"; do [ "$k" = "$1" ] || echo "${RPIDS[$k]}"; done
}
relay_show() {  # relay_show CASE: one `wg show` over the control channel, without a JVM
  local control=${CONTROLS[$1]}
  ip netns exec $NS_R timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/${control##*:};
    echo '{\"id\":1,\"verb\":\"wg show\"}' >&3; head -1 <&3" 2>/dev/null || true
}

start_relay() {  # start_relay CASE START
  local c=$1 rep=$2 ts=() opts=() log=$OUT/relay-$1-$2.log roster=$T/roster-$1-$2 i pid
  [ "$PIN" = pinned ] && ts=(taskset -c 1)
  [ "${PERF:-0}" = 1 ] && opts+=(-XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit -XX:+PreserveFramePointer)
  [ "$JFR" = 1 ] && opts+=("-XX:StartFlightRecording=filename=$OUT/relay-$c-$rep.jfr,settings=profile,dumponexit=true")
  rm -f "$roster"
  [ "$REGISTER" = each ] || [ ! -f "$T/roster-$c" ] || cp "$T/roster-$c" "$roster"
  # shellcheck disable=SC2086
  ip netns exec $NS_R "${ts[@]}" java $RELAY_JAVA_OPTS "${opts[@]}" -cp "$RELAY_CP" "$RELAY_MAIN" serve \
    --bind $R_IP --port "${R_PORT[$c]}" --roster "$roster" --workers 1 \
    --control 127.0.0.1:0 --metrics 127.0.0.1:0 $RELAY_ARGS >"$log" 2>&1 &
  pid=$!
  RPIDS[$c]=$pid
  for i in $(seq 1 300); do
    grep -q 'wg-relay listening' "$log" && break
    kill -0 "$pid" 2>/dev/null || { echo "relay exited at start:" >&2; cat "$log" >&2; unset "RPIDS[$c]"; exit 1; }
    sleep 0.1
  done
  grep -q 'wg-relay listening' "$log" || { echo "relay not ready after 30 s:" >&2; cat "$log" >&2; exit 1; }
  CONTROLS[$c]=$(sed -n 's/.*wg-relay listening.* control=\([^ ]*\).*/\1/p' "$log" | head -1)
  if [ ! -s "$roster" ]; then
    local spokes=1 ts0=()
    [ "$c" = hub ] && spokes=$SPOKES
    [ "$PIN" = pinned ] && ts0=(taskset -c 0)
    ip netns exec $NS_R "${ts0[@]}" java -cp "$GEN_CP" org.wgrelay.loadgen.HubBench register \
      --control "${CONTROLS[$c]}" --local "$G_IP:$PORT0" --spokes "$spokes" "${SPOKE_ARGS[@]}" >"$T/register.json" 2>"$T/register.err" ||
      { echo "registration failed:" >&2; cat "$T/register.err" >&2; exit 1; }
    echo "  $c: registered over the control channel: $(cat "$T/register.json")" | tee -a "$OUT/summary.md"
    cp "$roster" "$T/roster-$c"
  fi
}

stop_relay() {  # stop_relay CASE
  local pid=${RPIDS[$1]:-}
  [ -n "$pid" ] || return 0
  kill "$pid"; wait "$pid" 2>/dev/null || true; unset "RPIDS[$1]"
}

run_gen() {  # run_gen CASE DUR RATE TAG -> JSON in RESULT
  local c=$1 dur=$2 rate=$3 tag=$4 ts=() spokes=1 i
  [ "$c" = hub ] && spokes=$SPOKES
  [ "$PIN" = pinned ] && ts=(taskset -c 0)
  local args=(--relay "$R_IP:${R_PORT[$c]}" --local "$G_IP:$PORT0" --spokes "$spokes" "${SPOKE_ARGS[@]}" --direction "$DIRECTION"
    --duration "$dur" --size "$SIZE" --warmup 1 --ready-file "$T/ready" --go-file "$T/go")
  [ "$rate" -gt 0 ] && args+=(--rate "$rate" --batch "$RATE_BATCH")
  rm -f "$T/go" "$T/ready"
  # shellcheck disable=SC2086
  ip netns exec $NS_G "${ts[@]}" java $GEN_JAVA_OPTS -cp "$GEN_CP" org.wgrelay.loadgen.HubBench run "${args[@]}" \
    >"$OUT/$tag.json" 2>"$OUT/$tag.err" &
  GPID=$!
  for i in $(seq 1 1200); do
    [ -f "$T/ready" ] && break
    kill -0 "$GPID" 2>/dev/null || break
    sleep 0.1
  done
  [ -f "$T/ready" ] || { echo "generator not ready:" >&2; cat "$OUT/$tag.err" >&2; exit 1; }
  sleep 0.3  # the relay finishes what the priming woke
  local s0 s1 c0 c1 n0 n1 b0 b1 k0 k1 rr0 rr1 sr0 sr1 o0 o1 other
  s0=$(relay_show "$c")
  rr0=$(udp_rcvbuf_errs $NS_R) sr0=$(udp_rcvbuf_errs $NS_G)
  other=$(other_relay "$c")
  o0=0; [ -z "$other" ] || o0=$(relay_ticks "$other")
  c0=$(relay_ticks "${RPIDS[$c]}") n0=$(relay_ns "${RPIDS[$c]}") b0=$(busy_ticks) k0=$(ksoftirqd_ticks)
  local perf=
  if [ "${PERF:-0}" = 1 ] && [ "$rate" -gt 0 ]; then
    perf record -q -g -F 1999 -p "${RPIDS[$c]}" -o "$OUT/perf-$tag.data" >/dev/null 2>&1 &
    perf=$!
  fi
  touch "$T/go"
  wait "$GPID" || { echo "generator failed:" >&2; cat "$OUT/$tag.err" >&2; GPID=; exit 1; }
  GPID=
  [ -z "$perf" ] || { kill -INT "$perf"; wait "$perf" 2>/dev/null || true; }
  c1=$(relay_ticks "${RPIDS[$c]}") n1=$(relay_ns "${RPIDS[$c]}") b1=$(busy_ticks) k1=$(ksoftirqd_ticks)
  o1=0; [ -z "$other" ] || o1=$(relay_ticks "$other")
  rr1=$(udp_rcvbuf_errs $NS_R) sr1=$(udp_rcvbuf_errs $NS_G)
  s1=$(relay_show "$c")
  local m
  m=$(grep '^{' "$OUT/$tag.json" | tail -1)
  m=$(awk -v m="$m" -v c=$((c1 - c0)) -v n="$(awk -v a="$n0" -v b="$n1" 'BEGIN { printf "%.0f", b - a }')" -v hz="$HZ" -v busy=$((b1 - b0)) -v ks=$((k1 - k0)) \
      -v gen="$(jget cpu_s "$m")" -v fwd=$(( $(jnum fwd_packets "$s1") - $(jnum fwd_packets "$s0") )) \
      -v nr="$(jnum drop_no_route "$s1")" -v rr=$((rr1 - rr0)) -v sr=$((sr1 - sr0)) -v idle=$((o1 - o0)) 'BEGIN {
      sub(/}$/, "", m)
      printf "%s,\"relay_cpu_s\":%.3f,\"relay_cpu_ns\":%.0f,\"relay_fwd\":%d,\"relay_drop_no_route_total\":%d,\"relay_rcvbuf_drops\":%d,\"sink_rcvbuf_drops\":%d,\"busy_s\":%.2f,\"ksoftirqd_s\":%.2f,\"idle_relay_s\":%.2f,\"other_cpu_s\":%.2f}",
        m, c / hz, n, fwd, nr, rr, sr, busy / hz, ks / hz, idle / hz, (busy - ks - c - idle) / hz - gen }')
  RESULT=$m
}

measure() {  # measure CASE DUR RATE TAG: run_gen, repeated while others used the CPUs
  local try
  for try in $(seq 0 "$RETRIES"); do
    wait_idle
    run_gen "$@"
    if awk -v o="$(jget other_cpu_s "$RESULT")" -v m="$OTHER_MAX" 'BEGIN { exit !(o <= m) }' ||
       [ "$try" = "$RETRIES" ]; then
      RESULT="${RESULT%\}},\"retries\":$try}"
      return 0
    fi
    echo "  ($4: other CPU $(jget other_cpu_s "$RESULT") s > $OTHER_MAX: repeating)"
  done
}

record() {  # record CASE KIND REP JSON
  local j=$4 rx upp upt
  rx=$(jget received "$j")
  upp=$(awk -v c="$(jget relay_cpu_ns "$j")" -v n="$rx" 'BEGIN { printf "%.3f", (n > 0 ? c / n / 1e3 : -1) }')
  upt=$(awk -v c="$(jget relay_cpu_s "$j")" -v n="$rx" 'BEGIN { printf "%.2f", (n > 0 ? c / n * 1e6 : -1) }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" \
    "$(jget sent "$j")" "$rx" "$(jget relay_fwd "$j")" "$(jget rx_pps "$j")" "$(jget loss_pct "$j")" \
    "$(jget relay_cpu_ns "$j")" "$upp" "$upt" "$(jget cpu_s "$j")" "$(jget other_cpu_s "$j")" \
    "$(jget ksoftirqd_s "$j")" "$(jget p99_us "$j")" "$start" >>"$OUT/results.tsv"
  echo "$j" | sed "s/^{/{\"case\":\"$1\",\"kind\":\"$2\",\"rep\":$3,/" >>"$OUT/results.jsonl"
  printf '  %-6s %-4s rep %d  sent %8d  delivered %8d (relay fwd %8d)  %7.0f pps  loss %5.2f%%  relay %s µs/pkt (ticks: %s)  gen cpu %s s  other %s s  ksoftirqd %s s\n' \
    "$1" "$2" "$3" "$(jget sent "$j")" "$rx" "$(jget relay_fwd "$j")" "$(jget rx_pps "$j")" "$(jget loss_pct "$j")" \
    "$upp" "$upt" "$(jget cpu_s "$j")" "$(jget other_cpu_s "$j")" "$(jget ksoftirqd_s "$j")"
}

perf_report() {  # perf_report CASE PID START: shares and top symbols of its paced runs
  local c=$1 pid=$2 f
  for f in "$OUT"/perf-"$c"-rate-*.data; do
    [ -f "$f" ] && [ ! -f "$f.txt" ] || continue
    perf report -i "$f" --no-children --sort dso,sym --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' |
      grep -E '^ +[0-9]' | head -40 >"$f.txt"
    perf report -i "$f" --no-children --sort dso --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -8 >"$f.dso.txt"
    { echo "# perf $c $(basename "$f"): by dso"; cat "$f.dso.txt"; echo "# top symbols"; head -25 "$f.txt"; } >>"$OUT/perf.txt"
  done
}

# ---- tables ---------------------------------------------------------------
tables() {
  # Per kind: median [min-max] over reps of each case, and the ratio hub / single
  # within each rep (neighbouring minutes), then its median [min-max].
  awk -F'\t' -v omax="$OTHER_MAX" '
    function sort(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t } }
    function med(s, d,   a, n) { n = split(s, a, " "); if (n == 0) return "-"; sort(a, n)
      return sprintf(d " [" d "–" d "]", n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2, a[1], a[n]) }
    NR == 1 { next }
    { k = $2; kinds[k] = 1; ok = ($13 + 0 <= omax) ? "" : "*"
      v[k, $1, "upp"] = v[k, $1, "upp"] " " $10; v[k, $1, "upt"] = v[k, $1, "upt"] " " $11
      v[k, $1, "pps"] = v[k, $1, "pps"] " " $7 / 1000; v[k, $1, "loss"] = v[k, $1, "loss"] " " $8
      v[k, $1, "gen"] = v[k, $1, "gen"] " " $12
      u[k, $3, $1] = $10; t[k, $3, $1] = $11; dist[k, $3] = dist[k, $3] ok; reps[$3] = 1 }
    END {
      for (k in kinds) {
        printf "\n%s runs (median [min–max] over rounds)\n\n", k == "rate" ? "Paced" : "Flat-out"
        print "| case | fwd kpps | loss % | relay µs/pkt (schedstat) | relay µs/pkt (ticks) | generator CPU s |"
        print "|---|---|---|---|---|---|"
        for (ci = 1; ci <= 2; ci++) { c = ci == 1 ? "single" : "hub"
          printf "| %s | %s | %s | %s | %s | %s |\n", c, med(v[k, c, "pps"], "%.1f"), med(v[k, c, "loss"], "%.2f"),
            med(v[k, c, "upp"], "%.3f"), med(v[k, c, "upt"], "%.2f"), med(v[k, c, "gen"], "%.2f") }
        rs = ""; rt = ""; line = ""; cs = ""
        for (r = 1; (k, r, "hub") in u || (k, r, "single") in u; r++) {
          if (!((k, r, "hub") in u) || !((k, r, "single") in u) || u[k, r, "single"] <= 0) continue
          x = u[k, r, "hub"] / u[k, r, "single"]; y = t[k, r, "single"] > 0 ? t[k, r, "hub"] / t[k, r, "single"] : 0
          rs = rs " " x; rt = rt " " y; line = line sprintf(" %.3f%s", x, dist[k, r])
          if (dist[k, r] == "") cs = cs " " x
        }
        printf "\nratio hub / single, relay µs/pkt, per round:%s\n", line
        printf "median %s (schedstat); from ticks %s; undisturbed rounds only: %s\n", med(rs, "%.3f"), med(rt, "%.3f"), med(cs, "%.3f")
      }
      print "\n(* = a run of that round stayed disturbed: other CPU > " omax " s after retries)"
    }' "$OUT/results.tsv" | tee -a "$OUT/summary.md"
}

if [ -n "${TABLE_ONLY:-}" ]; then  # the tables of an earlier (or interrupted) run
  OUT=$TABLE_ONLY; trap - EXIT; rm -rf "$T"; tables; exit 0
fi

# ---- run ----------------------------------------------------------------
topo_up
printf 'case\tkind\trep\tsent\treceived\trelay_fwd\trx_pps\tloss_pct\trelay_cpu_ns\tus_per_pkt\tus_per_pkt_ticks\tgen_cpu_s\tother_cpu_s\tksoftirqd_s\tp99_us\tstart\n' >"$OUT/results.tsv"
: >"$OUT/results.jsonl"
{
  echo "# run-hub $(date -u +%Y-%m-%dT%H:%M:%SZ) $(git -C "$ROOT" log -1 --format='%h %s' 2>/dev/null || true)"
  echo "# host: nproc=$(nproc) kernel=$(uname -r) cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo) java=$(java -version 2>&1 | head -1)"
  echo "# load: single link vs hub with $SPOKES spokes at $SPOKES_AT, direction $DIRECTION, ${SIZE} B, paced ${RATE} pps (batch ${RATE_BATCH}) ${DUR} s, flat ${DUR_FLAT} s, warm-up ${WARMUP} s, ${STARTS} relay starts x ${RUNS} rounds, pin ${PIN}, relay args: ${RELAY_ARGS}"
} | tee "$OUT/summary.md"
t_start=$(date +%s)
reversed=$(echo "$CASES" | awk '{ for (i = NF; i > 0; i--) printf "%s%s", $i, (i > 1 ? " " : "") }')
rep=0
for start in $(seq 1 "$STARTS"); do
  order=$CASES; [ $((start % 2)) = 0 ] && order=$reversed
  for c in $order; do start_relay "$c" "$start"; done
  if [ "$WARMUP" != 0 ]; then
    for c in $order; do run_gen "$c" "$WARMUP" 0 "$c-warmup-$start"; done
  fi
  for run in $(seq 1 "$RUNS"); do
    rep=$((rep + 1))
    order=$CASES; [ $((rep % 2)) = 0 ] && order=$reversed
    for c in $order; do
      measure "$c" "$DUR" "$RATE" "$c-rate-$rep"; record "$c" rate "$rep" "$RESULT"
    done
    if [ "$DUR_FLAT" != 0 ]; then
      for c in $order; do
        measure "$c" "$DUR_FLAT" 0 "$c-flat-$rep"; record "$c" flat "$rep" "$RESULT"
      done
    fi
  done
  for c in $CASES; do
    relay_show "$c" >>"$OUT/relay-$c-$start.log"
    pid=${RPIDS[$c]}
    stop_relay "$c"
    [ "${PERF:-0}" != 1 ] || perf_report "$c" "$pid" "$start"
  done
done
echo "# total $(( $(date +%s) - t_start )) s" | tee -a "$OUT/summary.md"

tables
echo "raw: $OUT/results.tsv $OUT/results.jsonl  table: $OUT/summary.md"
