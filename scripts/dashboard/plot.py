#!/usr/bin/env python3
"""Plots the panels of docs/grafana-dashboard.json from scrape.py's JSON lines.

  plot.py scrapes.jsonl out.png

Each panel is the dashboard's PromQL evaluated by hand: rate() is the increase over a
5 s window divided by its length; "sum by (x)" adds the series that share x.
"""
import json
import re
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

WINDOW = 5
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def load(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    t0 = rows[0]["t"]
    series = defaultdict(dict)  # (name, frozenset(labels)) -> {t: value}
    for row in rows:
        t = row["t"] - t0
        for key, value in row["samples"].items():
            name, _, rest = key.partition("{")
            labels = frozenset(LABEL.findall(rest))
            series[(name, labels)][t] = value
    return series


def rate(points):
    ts = sorted(points)
    out_t, out_v = [], []
    for i, t in enumerate(ts):
        j = i
        while j > 0 and t - ts[j - 1] <= WINDOW + 0.5:
            j -= 1
        if j == i:
            continue
        dt = t - ts[j]
        dv = points[t] - points[ts[j]]
        out_t.append(t)
        out_v.append(max(dv, 0.0) / dt)
    return out_t, out_v


def select(series, name):
    return {labels: pts for (n, labels), pts in series.items() if n == name}


def sum_by(selected, *keys):
    grouped = defaultdict(lambda: defaultdict(float))
    for labels, pts in selected.items():
        d = dict(labels)
        group = tuple(d.get(k, "") for k in keys)
        for t, v in pts.items():
            grouped[group][t] += v
    return grouped


def main():
    series = load(sys.argv[1])
    fig, axes = plt.subplots(3, 2, figsize=(15, 11.5))
    fig.suptitle("wg-relay metrics dashboard: real /metrics scrapes, 1 s apart "
                 "(quickstart topology under load, scripts/render-dashboard.sh)", fontsize=12)

    ax = axes[0][0]
    for name, label in [("wgrelay_rx_packets_total", "received"),
                        ("wgrelay_forwarded_packets_total", "forwarded")]:
        for _, pts in select(series, name).items():
            ax.plot(*rate(pts), label=label)
    drops = sum_by(select(series, "wgrelay_dropped_packets_total"))
    for _, pts in drops.items():
        ax.plot(*rate(pts), label="dropped (all reasons)", color="tab:red")
    ax.set_title("Packets /s  rate(wgrelay_rx_packets_total), rate(wgrelay_forwarded_packets_total)", fontsize=9)
    ax.legend(fontsize=8)

    ax = axes[0][1]
    for (reason,), pts in sorted(sum_by(select(series, "wgrelay_dropped_packets_total"), "reason").items()):
        t, v = rate(pts)
        if max(v, default=0) > 0:
            ax.plot(t, v, label=reason)
    ax.set_title('Drops /s by reason  sum by (reason) (rate(wgrelay_dropped_packets_total))', fontsize=9)
    ax.legend(fontsize=8)

    ax = axes[1][0]
    for (peer,), pts in sorted(sum_by(select(series, "wgrelay_peer_forwarded_bytes_total"), "peer").items()):
        t, v = rate(pts)
        if max(v, default=0) > 0:
            ax.plot(t, [x * 8 / 1e6 for x in v], label=peer)
    ax.set_yscale("symlog", linthresh=0.1)
    ax.set_title("Forwarded Mbit/s by peer (log)  rate(wgrelay_peer_forwarded_bytes_total) * 8", fontsize=9)
    ax.legend(fontsize=8)

    ax = axes[1][1]
    for (peer,), pts in sorted(sum_by(select(series, "wgrelay_peer_rx_bytes_total"), "peer").items()):
        t, v = rate(pts)
        if max(v, default=0) > 0:
            ax.plot(t, [x * 8 / 1e6 for x in v], label=peer)
    ax.set_yscale("symlog", linthresh=0.1)
    ax.set_title("Received Mbit/s by peer (log)  rate(wgrelay_peer_rx_bytes_total) * 8", fontsize=9)
    ax.legend(fontsize=8)

    ax = axes[2][0]
    for (peer, reason), pts in sorted(
            sum_by(select(series, "wgrelay_peer_dropped_packets_total"), "peer", "reason").items()):
        t, v = rate(pts)
        if max(v, default=0) > 0:
            ax.plot(t, v, label=f"{peer} {reason}")
    ax.set_title("Drops /s by peer  rate(wgrelay_peer_dropped_packets_total)", fontsize=9)
    ax.legend(fontsize=8)

    ax = axes[2][1]
    for name in ["wgrelay_peers", "wgrelay_links", "wgrelay_blocklist_entries", "wgrelay_xdp_attached"]:
        for _, pts in select(series, name).items():
            ts = sorted(pts)
            ax.step(ts, [pts[t] for t in ts], where="post", label=name)
    ax.set_title("Roster and state  wgrelay_peers, _links, _blocklist_entries, _xdp_attached", fontsize=9)
    ax.legend(fontsize=8)

    for row in axes:
        for ax in row:
            ax.set_xlabel("seconds", fontsize=8)
            ax.grid(alpha=0.3)
            ax.tick_params(labelsize=8)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(sys.argv[2], dpi=80)


if __name__ == "__main__":
    main()
