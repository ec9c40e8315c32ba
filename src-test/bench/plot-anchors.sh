#!/usr/bin/env bash
# plot-anchors.sh -- PNG plots of one run_anchors.sh run (src-test/bench/run-anchors.sh),
# from its OUT.jsonl alone:
#
#   src-test/bench/plot-anchors.sh RUN.jsonl [OUTDIR] [CASES] [PIN]
#
#   OUTDIR/anchors-cpu.png      relay CPU µs per delivered packet per case, flat out and
#                               paced: median bar, min-max whisker, one dot per rep
#   OUTDIR/anchors-loss.png     loss % against the offered rate (tx pps), one point per
#                               run, flat-out and paced runs of every case
#   OUTDIR/anchors-latency.png  one-way latency at the paced rate: the 50th, 99th and
#                               99.9th percentiles udpblast reports, per case (median over
#                               reps), as a sketch of the CDF's tail (log axes; the run's
#                               JSON holds these three quantiles only)
#
# CASES (default: every case in the run, in the run's order, without "direct" for the
# CPU plot) and PIN (default pinned) select what is drawn. Needs jq and gnuplot
# (pngcairo). OUTDIR defaults to the directory of RUN.jsonl. YMAX caps the CPU plot's axis
# (a disturbed rep far above the rest would squash it; say so where the plot is shown).
set -euo pipefail
RUN=${1:?usage: plot-anchors.sh RUN.jsonl [OUTDIR] [CASES] [PIN]}
OUTDIR=${2:-$(dirname "$RUN")}
PIN=${4:-pinned}
command -v gnuplot >/dev/null || { echo "plot-anchors: gnuplot missing (apt-get install gnuplot-nox)" >&2; exit 1; }
mkdir -p "$OUTDIR"
CASES=${3:-$(jq -rs --arg pin "$PIN" '[.[] | select(.pin == $pin and .kind != "warmup") | .case]
  | reduce .[] as $c ([]; if index([$c]) then . else . + [$c] end) | join(" ")' "$RUN")}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
title="$(basename "$RUN" .jsonl), $PIN, medians of $(jq -s 'map(.rep) | max' "$RUN") reps"

# ---- µs/pkt: one row per case: index name flat_med flat_min flat_max rate_med rate_min rate_max
jq -rs --arg cases "$CASES" --arg pin "$PIN" '
  def med: sort | .[(length - 1) / 2 | floor];
  def st: if length == 0 then "NaN NaN NaN" else "\(med) \(min) \(max)" end;
  ($cases | split(" ") | map(select(. != "" and . != "direct"))) as $C
  | map(select(.pin == $pin and .relay_cpu_s != null and .received > 0)
        | .upp = .relay_cpu_s / .received * 1e6) as $all
  | range(0; $C | length) as $i | $C[$i] as $c
  | "\($i) \($c) \([$all[] | select(.case == $c and .kind == "flat") | .upp] | st) \([$all[] | select(.case == $c and .kind == "rate") | .upp] | st)"
' "$RUN" >"$T/cpu.dat"
jq -rs --arg cases "$CASES" --arg pin "$PIN" '
  ($cases | split(" ") | map(select(. != "" and . != "direct"))) as $C
  | .[] | select(.pin == $pin and .relay_cpu_s != null and .received > 0 and .kind != "warmup")
  | (.case as $c | $C | index($c)) as $i | select($i != null)
  | "\($i) \(.kind) \(.relay_cpu_s / .received * 1e6)"
' "$RUN" >"$T/cpu-reps.dat"
awk '$2 == "flat" { print $1, $3 }' "$T/cpu-reps.dat" >"$T/cpu-reps-flat.dat"
awk '$2 == "rate" { print $1, $3 }' "$T/cpu-reps.dat" >"$T/cpu-reps-rate.dat"

# ---- loss against the offered rate: per case one block "tx_pps loss_pct"
jq -rs --arg cases "$CASES" --arg pin "$PIN" '
  ($cases | split(" ") | map(select(. != ""))) as $C
  | $C[] as $c
  | "# \($c)",
    (.[] | select(.pin == $pin and .case == $c and .kind != "warmup") | "\(.tx_pps / 1000) \(.loss_pct)"),
    "", ""
' "$RUN" >"$T/loss.dat"

# ---- latency quantiles: per case one block "latency_us quantile"
jq -rs --arg cases "$CASES" --arg pin "$PIN" '
  def med: sort | .[(length - 1) / 2 | floor];
  ($cases | split(" ") | map(select(. != ""))) as $C
  | $C[] as $c
  | [.[] | select(.pin == $pin and .case == $c and .kind == "rate")] as $r
  | select($r | length > 0)
  | "# \($c)",
    "\([$r[].p50_us] | med) 0.5", "\([$r[].p99_us] | med) 0.99", "\([$r[].p999_us] | med) 0.999",
    "", ""
' "$RUN" >"$T/lat.dat"

ncases=$(wc -l <"$T/cpu.dat")
nlat=$(grep -c '^# ' "$T/lat.dat" || true)
{
  echo "set terminal pngcairo noenhanced size 1000,560 font ',10'"
  echo "set grid ytics"
  echo "set key top left"
  # -- CPU per packet
  echo "set output '$OUTDIR/anchors-cpu.png'"
  echo "set title 'relay CPU per delivered packet ($title)'"
  echo "set ylabel 'relay CPU µs per delivered packet'"
  echo "set yrange [0:${YMAX:-*}]"
  echo "set xrange [-0.6:$ncases - 0.4]"
  echo "set xtics rotate by -20"
  echo "set boxwidth 0.35"
  echo "set style fill solid 0.5 border -1"
  echo "plot '$T/cpu.dat' using (\$1 - 0.18):3:xtic(2) with boxes lc rgb '#4477aa' title 'flat out (median)', \\"
  echo "     '' using (\$1 - 0.18):3:4:5 with yerrorbars lc rgb 'black' pt -1 notitle, \\"
  echo "     '' using (\$1 + 0.18):6 with boxes lc rgb '#ee7733' title 'paced (median)', \\"
  echo "     '' using (\$1 + 0.18):6:7:8 with yerrorbars lc rgb 'black' pt -1 notitle, \\"
  echo "     '$T/cpu-reps-flat.dat' using (\$1 - 0.18):2 with points pt 7 ps 0.6 lc rgb '#222222' title 'one rep', \\"
  echo "     '$T/cpu-reps-rate.dat' using (\$1 + 0.18):2 with points pt 7 ps 0.6 lc rgb '#222222' notitle"
  # -- loss against offered rate
  echo "reset"
  echo "set terminal pngcairo noenhanced size 1000,560 font ',10'"
  echo "set grid"
  echo "set key top left"
  echo "set output '$OUTDIR/anchors-loss.png'"
  echo "set title 'loss against offered rate ($title; one point per run)'"
  echo "set xlabel 'offered rate, kpps (udpblast tx)'"
  echo "set ylabel 'loss %'"
  echo "set yrange [-2:*]"
  echo -n "plot "
  i=0
  for c in $CASES; do
    [ $i -gt 0 ] && echo -n ", "
    echo -n "'$T/loss.dat' index $i using 1:2 with points pt $((5 + i % 8)) ps 1.2 title '$c'"
    i=$((i + 1))
  done
  echo
  # -- latency quantiles
  echo "reset"
  echo "set terminal pngcairo noenhanced size 1000,560 font ',10'"
  echo "set grid"
  echo "set key bottom right"
  echo "set output '$OUTDIR/anchors-latency.png'"
  echo "set title 'one-way latency at the paced rate: p50, p99, p99.9 ($title)'"
  echo "set xlabel 'latency, µs (log)'"
  echo "set ylabel 'quantile (axis: -log10(1 - q))'"
  echo "set logscale x"
  echo "set ytics ('p50' 0.30103, 'p90' 1, 'p99' 2, 'p99.9' 3)"
  echo "set yrange [0:3.3]"
  echo -n "plot "
  i=0
  for c in $(grep '^# ' "$T/lat.dat" | cut -c3-); do
    [ $i -gt 0 ] && echo -n ", "
    echo -n "'$T/lat.dat' index $i using 1:(-log10(1 - \$2)) with linespoints lw 2 pt 7 title '$c'"
    i=$((i + 1))
  done
  echo
} >"$T/plot.gp"
[ "$nlat" -gt 0 ] || { echo "plot-anchors: no paced runs in $RUN" >&2; exit 1; }
gnuplot "$T/plot.gp"
echo "plots: $OUTDIR/anchors-cpu.png $OUTDIR/anchors-loss.png $OUTDIR/anchors-latency.png"
