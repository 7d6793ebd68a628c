#!/usr/bin/env python3
"""The performance area side by side: DuckDB against acrm's `cube` example (not run by CI).

    cargo build --release --example cube
    /tmp/acrm-pyenv/bin/python benches/compare/cube_vs_duckdb.py ORDERS.csv [--runs 3]

Each run starts each tool in a fresh process and measures its wall time and peak RSS
(os.wait4's rusage of that child alone):
  duckdb  benches/compare/cube_duckdb.py ORDERS.csv --threads 2 --runs 1: the CSV loaded into
          an in-memory table, then the four queries of tests/data/performance/reference.py
          (CUBE with its two exact distinct counts, ROLLUP, the pop and mix_rate inputs),
          with its own timings of each step;
  acrm    target/release/examples/cube ORDERS.csv --compare 2023:2024 --json: the load and
          the same four tables (the decompositions computed, not only their inputs), with
          its own timings of each step.
Prints one JSON object with every run and the medians, and the ratios of the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def run(cmd: list[str]) -> tuple[float, int, dict]:
    """Wall seconds, peak RSS in bytes and the JSON the command printed."""
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        sys.exit(f"{cmd[0]} failed with status {status}")
    # Linux reports ru_maxrss in KiB.
    return wall, usage.ru_maxrss * 1024, json.loads(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csv")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--compare", default="2023:2024")
    args = ap.parse_args()
    binary = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release/examples/cube"
    tools = {
        "duckdb": [sys.executable, str(ROOT / "benches/compare/cube_duckdb.py"), args.csv,
                   "--threads", "2", "--runs", "1"],
        "acrm": [str(binary), args.csv, "--compare", args.compare, "--json"],
    }
    runs: dict[str, list[dict]] = {k: [] for k in tools}
    for _ in range(args.runs):
        for name, cmd in tools.items():
            wall, rss, out = run(cmd)
            if name == "duckdb":
                q = out["queries"]
                steps = {"load_s": out["load_s"], "cube_s": q["cube"]["best_s"],
                         "rollup_s": q["rollup"]["best_s"],
                         "pop_s": q["pop"]["best_s"], "mix_rate_s": q["mix_rate"]["best_s"],
                         "lines": out["lines"]}
            else:
                steps = {"load_s": out["load_ms"] / 1e3, "cube_s": out["cube_ms"] / 1e3,
                         "rollup_s": out["rollup_ms"] / 1e3,
                         "change_s": out["change_ms"] / 1e3, "lines": out["lines"]}
            runs[name].append({"wall_s": wall, "peak_rss_bytes": rss, **steps})
    med = {name: {k: statistics.median(r[k] for r in rs) for k in rs[0]}
           for name, rs in runs.items()}
    d, a = med["duckdb"], med["acrm"]
    print(json.dumps({
        "csv": args.csv,
        "runs": runs,
        "median": med,
        "ratio_wall": d["wall_s"] / a["wall_s"],
        "ratio_cube": d["cube_s"] / a["cube_s"],
        "ratio_peak_rss": a["peak_rss_bytes"] / d["peak_rss_bytes"],
    }, indent=1))


if __name__ == "__main__":
    main()
