#!/usr/bin/env bash
# Fuzzes each Jazzer @FuzzTest for a bounded time, one JVM per target (Jazzer fuzzes only one
# fuzz test per run), and fails on the first finding. Usage: scripts/fuzz.sh [seconds per target]
# (default 45: four targets stay under four minutes with the Maven start-up). A finding leaves its
# input as crash-<sha1> in the module directory: fix the bug, then move the input into the test's
# <Class>Inputs/<method>/ resource directory so every mvn test replays it. The generated corpus
# grows under <module>/.cifuzz-corpus/ (not in git) and is reused by the next run.
#
# Extra arguments after the seconds go to Maven (e.g. -Dmaven.repo.local=...).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-45}"
shift || true

# module  test class  (one @FuzzTest method each)
targets=(
  "relay-server DatagramPipelineFuzzTest"
  "relay-server ControlVerbsFuzzTest"
  "relay-server RosterFileFuzzTest"
)

# The build once, then each target without recompiling.
mvn -B -ntp -q -pl relay-server -am test-compile "$@"
for target in "${targets[@]}"; do
  read -r module class <<<"$target"
  log="$module/target/fuzz-$class.log"
  echo "fuzz: $class for ${seconds}s"
  # jazzer-junit 0.24.0 takes the duration from @FuzzTest(maxDuration); libFuzzer flags passed as
  # jazzer.internal.arg.N (N >= 1) come last on its command line and so override it.
  if ! JAZZER_FUZZ=1 mvn -B -ntp -pl "$module" -am surefire:test \
      -Dtest="$class" -Dsurefire.failIfNoSpecifiedTests=false \
      -Djazzer.internal.arg.0=fuzz \
      -Djazzer.internal.arg.1="-max_total_time=$seconds" \
      -Djazzer.internal.arg.2=-print_final_stats=1 \
      "$@" >"$log" 2>&1; then
    grep -v 'Instrumented ' "$log" | tail -60 >&2
    echo "fuzz: $class FOUND A PROBLEM (full log: $log)" >&2
    exit 1
  fi
  grep -E '^(#[0-9]+[[:space:]]+DONE|Done [0-9]+ runs)' "$log" || true
  echo "fuzz: log in $log"
done
echo "fuzz: no findings"
