#!/usr/bin/env bash
# Runs the whole wg-relay test suite: the XDP program's fixtures and helper protocol
# (make -C bpf test), then unit, loopback integration and end-to-end tests with real
# WireGuard peers in network namespaces (mvn verify), then each fuzz target for a bounded
# time (scripts/fuzz.sh; WG_RELAY_FUZZ_SECONDS per target, default 45, 0 skips), then a
# 3-minute soak of a relay process under mixed load (src-test/bench/soak.sh;
# SOAK_MINUTES=0 skips it). Namespace, XDP and BPF tests need
# root; elsewhere they skip with a message, except under CI=true, where a missing
# prerequisite fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --tests
if [ "$(id -u)" -eq 0 ]; then
  make -s -C bpf test
elif [ "${CI:-}" = "true" ]; then
  echo "CI=true but not root: the BPF and namespace tests cannot run" >&2
  exit 1
else
  echo "not root: skipping make -C bpf test (BPF_PROG_TEST_RUN and namespaces need root)" >&2
fi
mvn -B -ntp verify "$@"
fuzz_seconds="${WG_RELAY_FUZZ_SECONDS:-45}"
if [ "$fuzz_seconds" != 0 ]; then
  scripts/fuzz.sh "$fuzz_seconds" "$@"
fi

# The soak's CI criterion. Three minutes cannot show 1 MB/h (the 1-hour bound), so here
# each check is one that a real leak fails within the run and noise does not:
#  - no "LEAK:" from Netty's detector at paranoid level: any ByteBuf not released, on
#    every path the load takes (forward, every drop reason, roaming, control);
#  - open descriptors and threads flat (+4 at most): a control connection, socket or
#    thread leaked per cycle adds ~30 in the two steady minutes;
#  - heap after a full GC: slope <= 10 MB/h after a 60 s warm-up (the bounded tables
#    are full by then); three runs measured -2.5 to +2.0 MB/h, while one leaked 16-byte
#    object per flood datagram is 55 MB/h and 1 KB per control verb 18 MB/h;
#  - RSS (after a full GC and a malloc trim): slope <= 1024 MB/h, a coarse net only. In
#    three minutes the JIT is still compiling and RSS moves by +-10 MB between samples
#    even after the trim (four short runs: -156 to +77 MB/h); a native leak of ~100 B
#    per received datagram (3,000 a second) exceeds it. A leaked direct buffer is the
#    leak detector's catch; RSS at 1 MB/h is the 1-hour run's (docs/security.md);
#  - every roam committed, every verb answered ok, legit loss under 1 %.
SOAK_MINUTES=${SOAK_MINUTES:-3}
if [ "$SOAK_MINUTES" != 0 ]; then
  BUILD=0 WARMUP=60 MAX_HEAP_SLOPE=10 MAX_RSS_SLOPE=1024 NETTY_LEAK=paranoid \
    OUT=src-test/target/soak/ci src-test/bench/soak.sh "$SOAK_MINUTES"
fi
