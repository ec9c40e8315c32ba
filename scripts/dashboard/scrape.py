#!/usr/bin/env python3
"""Scrapes a Prometheus text endpoint once a second into JSON lines (the metrics demo).

  scrape.py --url http://127.0.0.1:9108/metrics --seconds 80 --out scrapes.jsonl

Each line: {"t": <unix seconds>, "samples": {"name{labels}": value, ...}} with the
wgrelay_* series and a few JVM ones. Stops by itself after --seconds.
"""
import argparse
import json
import time
import urllib.request

KEEP = ("wgrelay_", "jvm_memory_used_bytes", "process_cpu_usage", "jvm_gc_pause_seconds_sum")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    start = time.time()
    with open(a.out, "w") as out:
        tick = 0
        while time.time() - start < a.seconds:
            t = time.time()
            try:
                text = urllib.request.urlopen(a.url, timeout=2).read().decode()
            except OSError as e:
                print(f"scrape failed: {e}")
                text = ""
            samples = {}
            for line in text.splitlines():
                if line.startswith("#") or not line.startswith(KEEP):
                    continue
                key, _, value = line.rpartition(" ")
                try:
                    samples[key] = float(value)
                except ValueError:
                    pass
            out.write(json.dumps({"t": t, "samples": samples}) + "\n")
            out.flush()
            tick += 1
            time.sleep(max(0.0, start + tick - time.time()))


if __name__ == "__main__":
    main()
