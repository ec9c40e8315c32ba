# anchors-lib.sh -- sourced by the EXT_CMDs anchors-wgrelay.sh and
# anchors-wgrelay-xdp.sh: the relay's class path and main class, the case
# run_anchors.sh is running, and the roster made from its PAIRS.
# Expects HERE (the caller's directory) and, from run_anchors.sh, ANCHOR_OUT
# and PAIRS.
ROOT=$(cd "$HERE/../.." && pwd)
RELAY_CP=${RELAY_CP:-$ROOT/relay-server/target/relay-server.jar:$ROOT/relay-server/target/lib/*}
RELAY_MAIN=${RELAY_MAIN:-$(unzip -p "${RELAY_CP%%:*}" META-INF/MANIFEST.MF 2>/dev/null | sed -n 's/^Main-Class: *//p' | tr -d '\r')}
RELAY_MAIN=${RELAY_MAIN:-org.wgrelay.server.daemon.Main}

# The last "# CASE PIN rep N" header run_anchors.sh wrote to $ANCHOR_OUT.relay
# just before starting the relay (it does not pass the case name).
anchor_header() {
  grep '^# ' "${ANCHOR_OUT:?set ANCHOR_OUT to run_anchors.sh OUT}.relay" | tail -1
}

# Workers for a case: the digits its name ends in (wgrelay2 -> 2), else 1.
anchor_workers() {
  local w=${1##*[!0-9]}
  echo "${w:-1}"
}

# Writes a roster with two peers and one link per pair of PAIRS ("SRC=SINK
# ..."), so SINK's traffic goes back to SRC as well; prints its path.
anchor_roster() {
  local roster i=0 p links=()
  roster=$(mktemp /tmp/wgb-anchor-roster.XXXXXX)
  for p in $PAIRS; do
    echo "peer s$i ${p%%=*}" >>"$roster"
    echo "peer d$i ${p#*=}" >>"$roster"
    links+=("link s$i d$i")
    i=$((i + 1))
  done
  printf '%s\n' "${links[@]}" >>"$roster"
  echo "$roster"
}
