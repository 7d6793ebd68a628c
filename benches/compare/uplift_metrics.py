#!/usr/bin/env python3
"""Time scikit-uplift 0.5's metrics on 10M scored rows, the shape of acrm's bench.

The acrm side is the criterion bench benches/promotion_uplift_metrics.rs (group
`uplift_metrics`: qini_auc_score, uplift_at_k with k=0.3 overall, uplift_by_percentile with
10 bins overall, each from the arrays); this script times sklift on the same kind of data
and, given acrm's medians (--acrm-qini-ms, --acrm-at-k-ms, --acrm-by-percentile-ms, from
`cargo bench --bench promotion_uplift_metrics`), prints both sides and the ratio. Not run
by CI.

Data (numpy default_rng(seed), outside the timed region): treatment Bernoulli(1/2), score
standard normal, outcome Bernoulli(0.1 + 0.05 t [score > 0]): the distribution of the Rust
bench's generator (not the same draws). Each call is timed --repeats times with
time.perf_counter and the median reported. numpy's sorts are single-threaded.

Usage (from the repository root):
  /tmp/acrm-pyenv/bin/python benches/compare/uplift_metrics.py --rows 10000000 \
      --acrm-qini-ms 300 --acrm-at-k-ms 200 --acrm-by-percentile-ms 200
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings

import numpy as np
from sklift.metrics import qini_auc_score, uplift_at_k, uplift_by_percentile

warnings.filterwarnings("ignore")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--acrm-qini-ms", type=float)
    ap.add_argument("--acrm-at-k-ms", type=float)
    ap.add_argument("--acrm-by-percentile-ms", type=float)
    args = ap.parse_args()

    rng = np.random.default_rng(args.seed)
    n = args.rows
    t = (rng.random(n) < 0.5).astype(np.int64)
    s = rng.standard_normal(n)
    y = (rng.random(n) < 0.1 + 0.05 * t * (s > 0)).astype(np.int64)

    calls = {
        "qini_auc_score": (lambda: qini_auc_score(y, s, t), args.acrm_qini_ms),
        "uplift_at_k": (lambda: uplift_at_k(y, s, t, strategy="overall", k=0.3), args.acrm_at_k_ms),
        "uplift_by_percentile": (lambda: uplift_by_percentile(y, s, t, strategy="overall", bins=10),
                                 args.acrm_by_percentile_ms),
    }
    out = {"rows": n}
    for name, (call, acrm_ms) in calls.items():
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            call()
            times.append((time.perf_counter() - start) * 1e3)
        median = statistics.median(times)
        row = {"sklift_ms": round(median, 1)}
        if acrm_ms:
            row["acrm_ms"] = acrm_ms
            row["ratio"] = round(median / acrm_ms, 1)
        out[name] = row
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
