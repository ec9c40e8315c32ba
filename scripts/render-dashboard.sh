#!/usr/bin/env bash
# Renders docs/metrics-dashboard.png from real data: runs the quickstart in network
# namespaces (a relay, two wg-quick peers on wireguard-go, a misbehaving "stranger"),
# puts load and typical mistakes on it for ~80 s, scrapes /metrics every second and plots
# the panels of docs/grafana-dashboard.json with matplotlib. Also keeps the ctl outputs
# of the run (wg show, wg peer list, ...) in the output directory for the docs.
#   sudo scripts/render-dashboard.sh [OUT_DIR]      (default: target/dashboard-demo)
# Needs root, wireguard-go, wireguard-tools, iproute2, python3-matplotlib; WG_RELAY may
# name the launcher (default ./wg-relay, which builds the relay when needed).
# Traffic stays inside the namespaces it creates (10.77.0.0/16, no default routes).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${1:-$ROOT/target/dashboard-demo}
WG_RELAY=${WG_RELAY:-$ROOT/wg-relay}
SECONDS_TOTAL=${DEMO_SECONDS:-80}
PNG=${PNG:-$ROOT/docs/metrics-dashboard.png}
[ "$(id -u)" = 0 ] || { echo "render-dashboard.sh: run as root (network namespaces)" >&2; exit 1; }
/usr/bin/python3 -c 'import matplotlib' 2>/dev/null \
  || { echo "render-dashboard.sh: apt-get install python3-matplotlib" >&2; exit 1; }

NS_R=wgd-relay NS_A=wgd-alice NS_B=wgd-bob NS_S=wgd-stranger
R_A=10.77.1.1 A=10.77.1.2 R_B=10.77.2.1 B=10.77.2.2 R_S=10.77.3.1 S=10.77.3.2
PORT=51820
mkdir -p "$OUT"
rm -f "$OUT"/*.jsonl "$OUT"/*.txt "$OUT"/*.conf "$OUT"/wg-roster
pids=()

cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for ns in $NS_A $NS_B; do
    ip netns exec "$ns" env WG_QUICK_USERSPACE_IMPLEMENTATION=wireguard-go \
      wg-quick down "$OUT/$ns.conf" >/dev/null 2>&1 || true
  done
  wait 2>/dev/null || true
  for ns in $NS_R $NS_A $NS_B $NS_S; do ip netns del "$ns" 2>/dev/null || true; done
}
trap cleanup EXIT
for ns in $NS_R $NS_A $NS_B $NS_S; do
  ip netns del "$ns" 2>/dev/null || true
  ip netns add "$ns"
  ip -n "$ns" link set lo up
done
link() { # relay-side-name relay-ip other-ns other-name other-ip
  ip link add "$1" netns $NS_R type veth peer name "$4" netns "$3"
  ip -n $NS_R addr add "$2/24" dev "$1"; ip -n $NS_R link set "$1" up
  ip -n "$3" addr add "$5/24" dev "$4"; ip -n "$3" link set "$4" up
}
link wgd-ra $R_A $NS_A wgd-a $A
link wgd-rb $R_B $NS_B wgd-b $B
link wgd-rs $R_S $NS_S wgd-s $S

in_relay() { ip netns exec $NS_R "$@"; }
ctl() { in_relay "$WG_RELAY" ctl "$@"; }

# 1. The relay.
in_relay "$WG_RELAY" serve --roster "$OUT/wg-roster" --workers 2 >"$OUT/relay.log" 2>&1 &
pids+=($!)
for _ in $(seq 120); do grep -q "wg-relay listening" "$OUT/relay.log" && break; sleep 0.5; done
grep "wg-relay listening" "$OUT/relay.log"

# 2. Keys and wg-quick configs: each peer's Endpoint is the relay, as seen from that peer.
a_key=$(wg genkey); b_key=$(wg genkey)
a_pub=$(echo "$a_key" | wg pubkey); b_pub=$(echo "$b_key" | wg pubkey)
cat >"$OUT/$NS_A.conf" <<CONF
[Interface]
PrivateKey = $a_key
Address = 10.78.0.1/24
ListenPort = 51000

[Peer]
PublicKey = $b_pub
AllowedIPs = 10.78.0.2/32
Endpoint = $R_A:$PORT
PersistentKeepalive = 25
CONF
cat >"$OUT/$NS_B.conf" <<CONF
[Interface]
PrivateKey = $b_key
Address = 10.78.0.2/24
ListenPort = 51000

[Peer]
PublicKey = $a_pub
AllowedIPs = 10.78.0.1/32
Endpoint = $R_B:$PORT
PersistentKeepalive = 25
CONF
chmod 600 "$OUT"/*.conf

# 3. Register the peers' public endpoints and keys, link them (the quickstart's steps).
ctl wg peer add alice $A:51000 "alice (wg-quick)" >/dev/null
ctl wg peer add bob $B:51000 "bob (wg-quick)" >/dev/null
ctl wg peer pubkey alice "$a_pub" >/dev/null
ctl wg peer pubkey bob "$b_pub" >/dev/null
ctl wg link add alice bob | tee "$OUT/link-add.txt"
ctl wg show config alice $R_A:$PORT | tee "$OUT/show-config-alice.txt"
# Load peers (type-4-shaped datagrams), and the mistakes the drop counters catch.
ctl wg peer add load-a $A:52000 >/dev/null
ctl wg peer add load-b $B:52000 >/dev/null
ctl wg link add load-a load-b >/dev/null
ctl wg peer add carol $S:53000 "registered, never linked" >/dev/null
ctl wg peer add mallory $S:54000 "wrong key stamped on its partner" >/dev/null
ctl wg peer add dave 10.77.3.99:54000 >/dev/null
ctl wg peer pubkey dave "$(wg genkey | wg pubkey)" >/dev/null
ctl wg link add mallory dave >/dev/null

for ns in $NS_A $NS_B; do
  ip netns exec "$ns" env WG_QUICK_USERSPACE_IMPLEMENTATION=wireguard-go \
    WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 wg-quick up "$OUT/$ns.conf" >/dev/null 2>&1
done

# 4. Scrape for SECONDS_TOTAL seconds while the timeline below runs.
in_relay /usr/bin/python3 scripts/dashboard/scrape.py --url http://127.0.0.1:9108/metrics \
  --seconds "$SECONDS_TOTAL" --out "$OUT/scrapes.jsonl" &
scraper=$!
T=scripts/dashboard/traffic.py
at() { sleep "$1"; shift; "$@"; }
bg() { "$@" >/dev/null 2>&1 & pids+=($!); }
# The tunnel: 50 pings/s alice -> bob for the whole run (each one forwarded twice).
bg ip netns exec $NS_A ping -q -i 0.02 -s 1000 -w $((SECONDS_TOTAL - 5)) 10.78.0.2
# Bulk load on the linked pair load-a <-> load-b: 2k, then 8k, then 4k datagrams/s each way.
bg bash -c "at() { sleep \$1; shift; \"\$@\"; }
  for rate_for in 2000:20 8000:20 4000:20; do
    rate=\${rate_for%:*} secs=\${rate_for#*:}
    ip netns exec $NS_A python3 $T transport --bind $A:52000 --to $R_A:$PORT --pps \$rate --seconds \$secs --size 1200 &
    ip netns exec $NS_B python3 $T transport --bind $B:52000 --to $R_B:$PORT --pps \$rate --seconds \$secs --size 1200 &
    wait
  done"
# Mistakes, from the stranger's namespace:
#  t=15..35  not WireGuard at all, and data from an endpoint nobody registered
bg at 15 ip netns exec $NS_S python3 $T junk --bind $S:40000 --to $R_S:$PORT --pps 300 --seconds 20
bg at 15 ip netns exec $NS_S python3 $T transport --bind $S:40001 --to $R_S:$PORT --pps 150 --seconds 20 --size 200
#  t=30..40  handshakes whose MAC1 matches no stamped key
bg at 30 ip netns exec $NS_S python3 $T init --bind $S:40002 --to $R_S:$PORT --pps 40 --seconds 10
#  t=35..50  a registered peer that has no link
bg at 35 ip netns exec $NS_S python3 $T transport --bind $S:53000 --to $R_S:$PORT --pps 120 --seconds 15 --size 200
#  t=45..55  handshakes that do not verify against the partner's stamped key
bg at 45 ip netns exec $NS_S python3 $T init --bind $S:54000 --to $R_S:$PORT --pps 60 --seconds 10
#  t=58      the operator blocks the stranger; its junk (t=60..70) is dropped at the gate
bg at 58 ip netns exec $NS_R "$WG_RELAY" ctl wg blocklist add $S 10m
bg at 60 ip netns exec $NS_S python3 $T junk --bind $S:40003 --to $R_S:$PORT --pps 200 --seconds 10
wait "$scraper"

# 5. What the operator sees afterwards.
ctl wg show | tee "$OUT/wg-show.txt"
ctl wg peer list > "$OUT/wg-peer-list.txt"
ctl wg show drop_sources > "$OUT/wg-show-drop-sources.txt"
ctl wg blocklist list > "$OUT/wg-blocklist-list.txt"
ip netns exec $NS_A wg show > "$OUT/wg-show-alice.txt"
cat "$OUT/wg-peer-list.txt"

/usr/bin/python3 scripts/dashboard/plot.py "$OUT/scrapes.jsonl" "$PNG"
echo "wrote $PNG from $(wc -l <"$OUT/scrapes.jsonl") scrapes"
