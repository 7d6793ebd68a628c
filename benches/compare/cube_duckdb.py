#!/usr/bin/env python3
"""Times DuckDB on the performance area's four queries over an order-line CSV (not run by CI).

    /tmp/acrm-pyenv/bin/python benches/compare/cube_duckdb.py ORDERS.csv [--threads 2] [--runs 3]

ORDERS.csv has the header of `synthesize --kind orders` (acrm::synth::OrderLineSynth):
order_id,line_no,customer_id,order_date,channel,region,category,product,quantity,amount,cost.
The load and the queries are those of tests/data/performance/reference.py, imported from
there, so the timed SQL is the SQL that made the reference numbers: the CSV is read into an
in-memory table (ids as text, money as DECIMAL(18,2)); then, each timed on its own with the
result fetched into Python, best and median of --runs:
  cube             GROUP BY CUBE (category, channel, region), seven measures including
                   count(DISTINCT order_id) and count(DISTINCT customer_id)
  cube_no_distinct the same cube without the two distinct counts
  rollup           GROUP BY ROLLUP (year, quarter, month) of order_date, the same measures
  pop              revenue, distinct customers and orders per (year, category) and per year,
                   for 2023 and 2024 (the inputs of the LMDI decomposition)
  mix_rate         revenue and margin per (year, category) and per year, 2023 and 2024
The LMDI and mix/rate arithmetic on those few rows is not timed (microseconds).

Prints one JSON object: seconds per step, rows per result, the table's line count, DuckDB's
version and thread count, and this process's peak RSS (resource.getrusage, which includes
the Python interpreter, about 30 MB of it).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent / "tests" / "data" / "performance"))
from reference import CUBE, CUBE_NO_DISTINCT, MIX_RATE, POP, ROLLUP, load  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("csv", type=Path, help="order-line CSV")
    p.add_argument("--threads", type=int, default=2, help="DuckDB threads (default 2)")
    p.add_argument("--runs", type=int, default=3, help="runs of each query (default 3)")
    args = p.parse_args()
    if not args.csv.is_file():
        sys.exit(f"no such file: {args.csv}")

    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads = {args.threads}")
    t0 = time.perf_counter()
    load(con, args.csv)
    load_s = time.perf_counter() - t0
    lines = con.execute("SELECT count(*) FROM t").fetchone()[0]

    queries = {"cube": CUBE, "cube_no_distinct": CUBE_NO_DISTINCT, "rollup": ROLLUP,
               "pop": POP, "mix_rate": MIX_RATE}
    steps = {}
    for name, sql in queries.items():
        times, n = [], 0
        for _ in range(args.runs):
            t0 = time.perf_counter()
            n = len(con.execute(sql).fetchall())
            times.append(time.perf_counter() - t0)
        steps[name] = {"best_s": min(times), "median_s": statistics.median(times), "runs_s": times,
                       "rows": n}
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "csv": str(args.csv), "csv_bytes": args.csv.stat().st_size, "lines": lines,
        "duckdb": duckdb.__version__, "threads": args.threads, "cores": os.cpu_count(),
        "load_s": load_s, "queries": steps,
        "peak_rss_bytes": rss if sys.platform == "darwin" else rss * 1024,
    }, indent=1))


if __name__ == "__main__":
    main()
