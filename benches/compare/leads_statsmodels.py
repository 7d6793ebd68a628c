#!/usr/bin/env python3
"""Time statsmodels' Logit on lead-scoring data of the shape acrm's bench fits.

The acrm side is the criterion bench benches/prospecting_leads.rs (groups
`lead_scoring_logit` at 1M rows and `lead_scoring_logit_10m` at 10M rows, 20 features);
this script times statsmodels on the same kind of data and prints both sides' numbers
when given acrm's medians (--acrm-1m-ms, --acrm-10m-ms, from `cargo bench --bench
prospecting_leads`). Not run by CI.

Data (numpy default_rng(seed), generated in the child that fits it, outside the timed
region): N rows x 20 features, each standard normal; labels Bernoulli(sigmoid(-1 +
sum_j beta_j x_j)) with beta_j = +-0.1 (j mod 5 + 1), + for even j (0-based): the
distribution of the Rust bench's generator (not the same draws).

Measured, in a fresh child process per (rows, threads) setting, --repeats times each (the
median is reported): `sm.Logit(y, sm.add_constant(X)).fit(method='newton', tol=1e-10,
maxiter=35, disp=False)` (statsmodels' default method and iteration cap, its tolerance
tightened to acrm's), timed with time.perf_counter (wall) and time.process_time (CPU, all threads: on a
machine shared with other work it shows the cost apart from the waiting); the constant column is added before
timing. Peak RSS is the child's ru_maxrss (os.wait4), data included.

Threads: once with OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=MKL_NUM_THREADS=1, once with them
unset (numpy's BLAS then uses every core).

Usage (from the repository root):
  /tmp/acrm-pyenv/bin/python benches/compare/leads_statsmodels.py --rows 1000000 10000000 \
      --acrm-1m-ms 120 --acrm-10m-ms 1200
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

FEATURES = 20

CHILD = r"""
import json, sys, time
import numpy as np
import statsmodels.api as sm
n, seed, repeats = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(seed)
beta = np.array([(0.1 if j % 2 == 0 else -0.1) * (j % 5 + 1) for j in range(20)])
X = rng.standard_normal((n, 20))
y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(-1.0 + X @ beta)))).astype(float)
Xc = sm.add_constant(X, prepend=True)
times, cpu = [], []
for _ in range(repeats):
    t, c = time.perf_counter(), time.process_time()
    res = sm.Logit(y, Xc).fit(method="newton", tol=1e-10, maxiter=35, disp=False)
    times.append(time.perf_counter() - t)
    cpu.append(time.process_time() - c)
print(json.dumps({"times_s": times, "cpu_s": cpu, "iterations": int(res.mle_retvals["iterations"]),
                  "converged": bool(res.mle_retvals["converged"]), "llf": float(res.llf)}))
"""

THREAD_VARS = ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"]


def run_child(rows: int, seed: int, repeats: int, one_thread: bool, python: str) -> dict:
    env = dict(os.environ)
    for v in THREAD_VARS:
        env.pop(v, None)
        if one_thread:
            env[v] = "1"
    proc = subprocess.Popen(
        [python, "-c", CHILD, str(rows), str(seed), str(repeats)],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"statsmodels child failed for {rows} rows (status {status})")
    result = json.loads(out)
    times = sorted(result["times_s"])
    result["median_s"] = times[len(times) // 2]
    result["median_cpu_s"] = sorted(result["cpu_s"])[len(times) // 2]
    result["peak_rss_mb"] = usage.ru_maxrss / 1024.0
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeats", type=int, default=3, help="fits per child (10M rows: 1)")
    ap.add_argument("--acrm-1m-ms", type=float, help="acrm's criterion median at 1M rows")
    ap.add_argument("--acrm-10m-ms", type=float, help="acrm's criterion median at 10M rows")
    ap.add_argument("--json-out", help="also write the results here")
    args = ap.parse_args()
    acrm_ms = {1_000_000: args.acrm_1m_ms, 10_000_000: args.acrm_10m_ms}
    results = []
    for rows in args.rows:
        repeats = 1 if rows >= 5_000_000 else args.repeats
        for one_thread in (True, False):
            r = run_child(rows, args.seed, repeats, one_thread, sys.executable)
            r.update(rows=rows, blas_threads="1" if one_thread else "default")
            a = acrm_ms.get(rows)
            if a:
                r["acrm_ms"] = a
                r["ratio"] = r["median_s"] * 1e3 / a
            results.append(r)
            print(
                f"{rows:>10} rows  BLAS threads {r['blas_threads']:>7}: statsmodels "
                f"{r['median_s']:.2f} s, CPU {r['median_cpu_s']:.2f} s ({r['iterations']} iterations, peak RSS "
                f"{r['peak_rss_mb']:.0f} MB)"
                + (f"; acrm {a:.0f} ms -> {r['ratio']:.1f}x" if a else ""),
                flush=True,
            )
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
