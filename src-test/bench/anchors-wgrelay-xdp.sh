#!/usr/bin/env bash
# anchors-wgrelay-xdp.sh -- EXT_CMD for shared/bench/run_anchors.sh: wg-relay
# with its XDP fast path (--xdp-interface eth0 --xdp-mode drv) inside
# hb-relay, plus what veth needs for XDP_TX and a BPF run-time meter.
#
# Like anchors-wgrelay.sh it writes a roster from PAIRS and execs wg-relay
# (exec keeps the PID, so run_anchors.sh reads the relay JVM's own CPU time
# -- with XDP that JVM is almost idle; the work is the BPF program's, which
# runs in the softirq of the CPU that sent into the veth).  Before the exec:
#
# * the no-op XDP_PASS program wg_relay_pass is attached to the bridge-side
#   peer of hb-relay's eth0 (PEER_NS, default hb-lan; found by ifindex), or
#   every XDP_TX frame would be dropped on veth.  It is detached again when
#   the relay exits (by the meter below, which outlives the exec).
# * a meter (a background bash loop, no forks while sampling) reads the
#   program's run_time_ns / run_cnt from the helper's fdinfo every 0.1 s
#   (needs kernel.bpf_stats_enabled=1; run_anchors.sh sets it) and splits
#   them into bursts of traffic separated by >= 0.3 s without packets.  Per
#   relay start run_anchors.sh sends three bursts: the EXT_WARMUP run, the
#   flat run, the paced run (the warm-up may be missed if the helper is slow
#   to attach, so consumers take the LAST two bursts of a relay start as flat
#   and paced).  Each burst is printed as one line
#     wgxdp-bpf burst=N run_time_ns=... run_cnt=... udp_in=... ns_per_run=... dur_s=...
#   (udp_in: hb-relay's Udp InDatagrams over the burst = datagrams that went
#   up to the userspace path instead of being forwarded in the kernel)
#   on stdout (= run_anchors' OUT.relay, under the "# CASE PIN rep N" line)
#   and appended to $ANCHOR_OUT.wgxdp-bpf with the case/pin/rep.
#
# Case name: as in anchors-wgrelay.sh, trailing digits = --workers (wgxdp ->
# 1); a case not named wgxdp* is handed to anchors-wgrelay.sh, so that this
# one EXT_CMD serves "wgrelay1 wgxdp" in the same run.  Helper and object: WG_RELAY_XDP_HELPER / WG_RELAY_XDP_OBJECT, default
# $ROOT/bpf/build/.  XDP_MODE (default drv), XDP_DEV (default eth0).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=anchors-lib.sh
. "$HERE/anchors-lib.sh"
export WG_RELAY_XDP_HELPER=${WG_RELAY_XDP_HELPER:-$ROOT/bpf/build/wg-relay-xdp-helper}
export WG_RELAY_XDP_OBJECT=${WG_RELAY_XDP_OBJECT:-$ROOT/bpf/build/wg_relay.bpf.o}
XDP_DEV=${XDP_DEV:-eth0} XDP_MODE=${XDP_MODE:-drv} PEER_NS=${PEER_NS:-hb-lan}

hdr=$(anchor_header)
read -r _ case_name pin _ rep <<<"$hdr"
# one EXT_CMD for all external cases: anything but wgxdp* is the plain relay
case $case_name in wgxdp*) ;; *) exec "$HERE/anchors-wgrelay.sh" ;; esac
workers=$(anchor_workers "$case_name")
anchor_variant "$case_name"
roster=$(anchor_roster)

# the bridge-side peer of XDP_DEV: the interface in PEER_NS whose ifindex is
# XDP_DEV's link index
link_idx=$(ip -j link show dev "$XDP_DEV" | jq '.[0].link_index')
peer_dev=$(ip -n "$PEER_NS" -j link show | jq -r --argjson i "$link_idx" '.[] | select(.ifindex == $i) | .ifname')
[ -n "$peer_dev" ] || { echo "anchors-wgrelay-xdp: no peer of $XDP_DEV (ifindex $link_idx) in $PEER_NS" >&2; exit 1; }
ip -n "$PEER_NS" link set dev "$peer_dev" xdpdrv off 2>/dev/null || true
ip -n "$PEER_NS" link set dev "$peer_dev" xdpdrv object "$WG_RELAY_XDP_OBJECT" section xdp program wg_relay_pass
pass_id=$(ip -n "$PEER_NS" -j link show dev "$peer_dev" | jq '.[0].xdp.prog.id')
echo "anchors-wgrelay-xdp: case=$case_name workers=$workers roster=$roster peer=$PEER_NS/$peer_dev pass_prog=$pass_id"

relay_pid=$$   # the JVM after the exec below
meter() {
  local prog_id= helper= fd= f k v t0 rt cnt rt0 cnt0 prt pcnt up up0 pup quiet=0 active=0 n=0 sfd
  exec {sfd}<> <(:)   # read -t on it = sleep without a fork
  detach_pass() {
    # only our own pass program (xdp_ref.sh may have attached its own since)
    [ "$(ip -n "$PEER_NS" -j link show dev "$peer_dev" 2>/dev/null | jq '.[0].xdp.prog.id // 0')" = "$pass_id" ] &&
      ip -n "$PEER_NS" link set dev "$peer_dev" xdpdrv off 2>/dev/null
    return 0
  }
  emit() {   # emit: the burst that ended with the last sample
    n=$((n + 1))
    local line="wgxdp-bpf burst=$n run_time_ns=$((prt - rt0)) run_cnt=$((pcnt - cnt0)) udp_in=$((pup - up0))"
    line+=" ns_per_run=$(awk -v r=$((prt - rt0)) -v c=$((pcnt - cnt0)) 'BEGIN { printf "%.1f", c ? r / c : 0 }')"
    line+=" dur_s=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')"
    echo "$line"
    echo "case=$case_name pin=$pin rep=$rep $line" >>"$ANCHOR_OUT.wgxdp-bpf"
  }
  # wait for the attach (helper started by the JVM), up to 60 s
  for _ in $(seq 600); do
    kill -0 "$relay_pid" 2>/dev/null || { detach_pass; return; }
    prog_id=$(ip -j link show dev "$XDP_DEV" | jq -r '.[0].xdp.prog.id // empty')
    [ -n "$prog_id" ] && break
    read -t 0.1 -u $sfd || true
  done
  [ -n "$prog_id" ] || { echo "wgxdp-bpf: no XDP program on $XDP_DEV" >&2; detach_pass; return; }
  # the helper is a child of the JVM; look there first, then everywhere
  for f in $(for c in $(pgrep -P "$relay_pid"); do echo "/proc/$c/fdinfo/*"; done) /proc/[0-9]*/fdinfo/*; do
    [ -r "$f" ] || continue
    while read -r k v; do [ "$k" = prog_id: ] && [ "$v" = "$prog_id" ] && { helper=${f#/proc/}; helper=${helper%%/*}; fd=${f##*/}; break 2; }; done <"$f" 2>/dev/null
  done 2>/dev/null
  [ -n "$fd" ] || { echo "wgxdp-bpf: no process holds prog $prog_id" >&2; detach_pass; return; }
  echo "wgxdp-bpf: prog_id=$prog_id helper_pid=$helper fd=$fd"
  sample() {
    rt= cnt=
    while read -r k v; do case $k in run_time_ns:) rt=$v ;; run_cnt:) cnt=$v ;; esac; done <"/proc/$helper/fdinfo/$fd" 2>/dev/null
    # Udp InDatagrams of this namespace: what went up to the relay's socket
    local n_udp=0 a b
    while read -r a b v; do [ "$a" = Udp: ] && n_udp=$((n_udp + 1)) && [ $n_udp = 2 ] && up=$b; done </proc/net/snmp
    [ -n "$cnt" ]
  }
  sample || { detach_pass; return; }
  [ -n "$rt" ] || echo "wgxdp-bpf: no run_time_ns (kernel.bpf_stats_enabled=0?)" >&2
  rt=${rt:-0} prt=$rt pcnt=$cnt pup=$up
  while kill -0 "$relay_pid" 2>/dev/null && sample; do
    rt=${rt:-0}
    if [ $((cnt - pcnt)) -ge 100 ]; then      # traffic in the last 0.1 s
      [ $active = 1 ] || { active=1 rt0=$prt cnt0=$pcnt up0=$pup t0=$EPOCHREALTIME; }
      quiet=0
    elif [ $active = 1 ]; then
      quiet=$((quiet + 1))
      [ $quiet -lt 3 ] || { emit; active=0 quiet=0; }
    fi
    prt=$rt pcnt=$cnt pup=$up
    read -t 0.1 -u $sfd || true
  done
  [ $active = 0 ] || emit
  detach_pass
}
meter &

# shellcheck disable=SC2086
exec java ${RELAY_JAVA_OPTS:-} -cp "$RELAY_CP" "$RELAY_MAIN" serve --bind "${RELAY%:*}" --port "${RELAY##*:}" \
  --roster "$roster" --workers "$workers" --control 127.0.0.1:0 --metrics 127.0.0.1:0 \
  --xdp-interface "$XDP_DEV" --xdp-mode "$XDP_MODE"
