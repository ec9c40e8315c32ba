# anchors-lib.sh -- sourced by the EXT_CMDs anchors-wgrelay.sh and
# anchors-wgrelay-xdp.sh: the relay's class path, main class and JVM options,
# the case run_anchors.sh is running, and the roster made from its PAIRS.
# Expects HERE (the caller's directory) and, from run_anchors.sh, ANCHOR_OUT
# and PAIRS.
#
# Case names: PREFIX[N][_VARIANT], e.g. wgrelay1, wgrelay2_old. N = --workers
# (default 1). A VARIANT picks RELAY_JAVA_OPTS_<VARIANT> and RELAY_CP_<VARIANT>
# when they are set (exported), so one run can hold several JVM settings or
# builds side by side; otherwise RELAY_JAVA_OPTS and RELAY_CP. RELAY_JAVA_OPTS
# unset means the options the launchers ship (default_java_opts in ./wg-relay).
ROOT=$(cd "$HERE/../.." && pwd)
RELAY_CP=${RELAY_CP:-$ROOT/relay-server/target/relay-server.jar:$ROOT/relay-server/target/lib/*}
if [ -z "${RELAY_JAVA_OPTS+set}" ]; then
  RELAY_JAVA_OPTS=$(sed -n 's/^default_java_opts="\(.*\)"$/\1/p' "$ROOT/wg-relay")
fi
RELAY_MAIN=${RELAY_MAIN:-$(unzip -p "${RELAY_CP%%:*}" META-INF/MANIFEST.MF 2>/dev/null | sed -n 's/^Main-Class: *//p' | tr -d '\r')}
RELAY_MAIN=${RELAY_MAIN:-org.wgrelay.server.daemon.Main}

# The last "# CASE PIN rep N" header run_anchors.sh wrote to $ANCHOR_OUT.relay
# just before starting the relay (it does not pass the case name).
anchor_header() {
  grep '^# ' "${ANCHOR_OUT:?set ANCHOR_OUT to run_anchors.sh OUT}.relay" | tail -1
}

# Workers for a case: the digits its name ends in before any _VARIANT
# (wgrelay2 -> 2, wgrelay2_old -> 2), else 1.
anchor_workers() {
  local n=${1%%_*}
  local w=${n##*[!0-9]}
  echo "${w:-1}"
}

# Sets RELAY_JAVA_OPTS and RELAY_CP for a case: those of its _VARIANT if set.
anchor_variant() {
  local v
  case $1 in *_*) v=${1#*_} ;; *) return 0 ;; esac
  [ "$v" = "${v//[^A-Za-z0-9]/}" ] || return 0
  local o="RELAY_JAVA_OPTS_$v" c="RELAY_CP_$v"
  [ -z "${!o+set}" ] || RELAY_JAVA_OPTS=${!o}
  [ -z "${!c:-}" ] || RELAY_CP=${!c}
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
