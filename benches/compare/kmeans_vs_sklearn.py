#!/usr/bin/env python3
"""Time acrm's k-means (the `cluster` example) against scikit-learn's KMeans on the same CSV.

Not run by CI. See README.md beside this file for the environment (it needs scikit-learn on
top of requirements.txt) and how to run it.

Data: a seeded synthetic set of N customers x 8 features (f0..f7) with k planted clusters:
numpy default_rng(seed) draws k centres uniform on [-4, 4]^8, cluster weights proportional
to 1, 2, ..., k (unequal), labels from those weights, and Gaussian noise with sd 1 around the
centres. It is written as CSV ('%.6f', header f0,...,f7) to --workdir and reused when a file
made with the same N, k and seed is already there (a sidecar .json records the settings).

Measured, --repeats times each, each run a fresh process; the median time is reported:
  scikit-learn  StandardScaler().fit_transform(X), then KMeans(n_clusters=k, n_init=n_init,
                init='k-means++', algorithm='lloyd', random_state=seed, max_iter=300,
                tol=1e-4).fit(...). Only scaler + fit is timed (time.perf_counter); reading the
                CSV (pandas.read_csv) is not.
  acrm          `cluster FILE --k K --n-init N --seed S --json` (examples/cluster.rs, built with
                `cargo build --release --example cluster`): its `elapsed_ms`, the clustering
                alone including standardisation; its `read_ms` (CSV parse) is shown apart.
Peak RSS is each child's ru_maxrss from os.wait4, the largest over the repeats. Both include
reading the CSV into memory (pandas on one side, the example's reader on the other) and, for
scikit-learn, the Python interpreter with numpy, pandas and scikit-learn imported. This process
imports nothing heavy, so the children's RSS floor stays small (printed with the table).

Agreement (information only, no exit status): the example prints no labels, so there is no
adjusted Rand index against the planted labels; instead both inertias (sum of squared distances
in the standardised space, scikit-learn's inertia_) with their relative difference, and the
cluster sizes of each side and of the planted labels, sorted.

Threads: OMP_NUM_THREADS / RAYON_NUM_THREADS are passed through as they are. Unset, both
sides use every core: scikit-learn's Lloyd iterations run on OpenMP threads (threadpoolctl's
report is printed), acrm's assignment step on rayon's pool.

Stopping rules differ: scikit-learn stops when the squared Frobenius norm of the centre shift is
at most tol x mean feature variance (1 after scaling), i.e. a shift of 1e-2; linfa, under acrm,
when the (unsquared) Frobenius norm of the shift is below its tolerance 1e-4. acrm may so run
more iterations for the same tol; scikit-learn's n_iter_ is reported.

Usage (from the repository root, with the virtualenv of README.md plus scikit-learn):
  /tmp/acrm-pyenv/bin/python benches/compare/kmeans_vs_sklearn.py                # N 1e6, k 8
  /tmp/acrm-pyenv/bin/python benches/compare/kmeans_vs_sklearn.py --n-init 3 --json-out r.json
The script builds the example first (`cargo build --release --example cluster`, honouring
CARGO_TARGET_DIR) unless --no-build or --acrm-bin is given.

Exit status: 0 when both sides ran, 1 on a setup problem or a failed run.
"""

from __future__ import annotations

# Only the standard library at module level, common.py included: while children are measured
# this process must stay small (see common.run_measured). numpy, pandas and scikit-learn are
# imported in the workers.
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # common.py, beside this file
from common import (REPO, die, examples_dir, fmt, last_json, mb, reuse_data, rss, run_measured,  # noqa: E402
                    run_side, self_cmd, write_json, write_sidecar)

FEATURES = 8
CENTRE_RANGE = 4.0
NOISE_SD = 1.0
GENERATOR_VERSION = 1  # bump when the data-generating code below changes


# --------------------------------------------------------------------------------------------
# command line


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=1_000_000, help="customers (rows) to generate (default 1000000)")
    p.add_argument("--k", type=int, default=8, help="planted clusters, and clusters fitted (default 8)")
    p.add_argument("--n-init", type=int, default=1, help="k-means++ initialisations on both sides (default 1)")
    p.add_argument("--seed", type=int, default=42,
                   help="seed of the data, scikit-learn's random_state and acrm's --seed (default 42)")
    p.add_argument("--repeats", type=int, default=3, help="runs per side; the median time is reported (default 3)")
    p.add_argument("--workdir", type=Path, default=Path("/tmp/acrm-kmeans"),
                   help="where the CSV is written and reused (default /tmp/acrm-kmeans)")
    p.add_argument("--acrm-bin", type=Path, default=None,
                   help="directory holding the built `cluster` example (default: build it, then "
                        "$CARGO_TARGET_DIR or <repo>/target, /release/examples)")
    p.add_argument("--no-build", action="store_true", help="do not run cargo build first")
    p.add_argument("--sklearn-only", action="store_true", help="run only the scikit-learn side")
    p.add_argument("--json-out", type=Path, default=None, help="also write all results as JSON here")
    # internal: generate the data, or run one scikit-learn fit, in this (fresh) process
    p.add_argument("--worker", choices=("generate", "sklearn"), help=argparse.SUPPRESS)
    p.add_argument("--csv", type=Path, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.n < 2 or args.k < 1 or args.n_init < 1 or args.repeats < 1:
        p.error("--n must be at least 2, --k, --n-init and --repeats at least 1")
    if args.k > args.n:
        p.error("--k cannot exceed --n")
    return args


# --------------------------------------------------------------------------------------------
# workers (fresh processes)


def worker_generate(args) -> int:
    """Write the planted-cluster CSV and its sidecar; prints the sidecar as JSON."""
    import numpy as np

    rng = np.random.default_rng(args.seed)
    centres = rng.uniform(-CENTRE_RANGE, CENTRE_RANGE, size=(args.k, FEATURES))
    weights = np.arange(1, args.k + 1, dtype=float)
    weights /= weights.sum()
    labels = rng.choice(args.k, size=args.n, p=weights)
    x = centres[labels] + rng.normal(0.0, NOISE_SD, size=(args.n, FEATURES))
    tmp = args.csv.with_suffix(".csv.part")
    header = ",".join(f"f{j}" for j in range(FEATURES))
    np.savetxt(tmp, x, fmt="%.6f", delimiter=",", header=header, comments="")
    tmp.replace(args.csv)
    meta = {
        "generator_version": GENERATOR_VERSION, "n": args.n, "k": args.k, "seed": args.seed,
        "features": FEATURES, "centre_range": CENTRE_RANGE, "noise_sd": NOISE_SD,
        "weights": weights.tolist(), "centres": centres.tolist(),
        "planted_sizes": np.bincount(labels, minlength=args.k).tolist(),
        "csv_bytes": args.csv.stat().st_size,
    }
    write_sidecar(args.csv, meta)
    return 0


def worker_sklearn(args) -> int:
    """One timed scaler + KMeans fit; prints a JSON object."""
    t0 = time.perf_counter()
    import numpy as np
    import pandas as pd
    import sklearn
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_info

    import_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    x = pd.read_csv(args.csv, dtype=np.float64).to_numpy()
    read_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    z = StandardScaler().fit_transform(x)
    km = KMeans(n_clusters=args.k, n_init=args.n_init, init="k-means++", algorithm="lloyd",
                random_state=args.seed, max_iter=300, tol=1e-4).fit(z)
    elapsed_s = time.perf_counter() - t0

    print(json.dumps({
        "rows": int(x.shape[0]), "columns": int(x.shape[1]), "import_s": import_s, "read_s": read_s,
        "elapsed_s": elapsed_s, "inertia": float(km.inertia_), "n_iter": int(km.n_iter_),
        "sizes": np.bincount(km.labels_, minlength=args.k).tolist(),
        "sklearn": sklearn.__version__, "numpy": np.__version__,
        "threadpools": [{k: d.get(k) for k in ("user_api", "internal_api", "num_threads", "version")}
                        for d in threadpool_info()],
    }))
    return 0


# --------------------------------------------------------------------------------------------
# data, binary and measurement (this process stays small)


def ensure_data(args) -> tuple[Path, dict]:
    """The CSV for (n, k, seed), generated in a child process unless it is already there."""
    args.workdir.mkdir(parents=True, exist_ok=True)
    csv = (args.workdir / f"kmeans_n{args.n}_k{args.k}_seed{args.seed}.csv").resolve()
    want = {"generator_version": GENERATOR_VERSION, "n": args.n, "k": args.k, "seed": args.seed,
            "features": FEATURES, "centre_range": CENTRE_RANGE, "noise_sd": NOISE_SD}
    meta = reuse_data(csv, want, "csv_bytes")
    if meta is not None:
        return csv, meta
    print(f"generating {csv} ({args.n:,} x {FEATURES}) ...", flush=True)
    m = run_measured(self_cmd(__file__, "--worker", "generate",
                              "--csv", str(csv), "--n", str(args.n), "--k", str(args.k), "--seed", str(args.seed)))
    if m["returncode"] != 0:
        die(f"generating the data failed:\n{m['stderr']}")
    return csv, last_json(m["stdout"], "the generator")


def cluster_binary(args) -> Path:
    if args.acrm_bin is not None:
        exe = args.acrm_bin / "cluster"
    else:
        if not args.no_build:
            print("cargo build --release --example cluster ...", flush=True)
            r = subprocess.run(["cargo", "build", "--release", "--example", "cluster"], cwd=REPO)
            if r.returncode != 0:
                die("cargo build --release --example cluster failed")
        exe = examples_dir() / "cluster"
    if not exe.is_file():
        die(f"no cluster example at {exe}; build it with `cargo build --release --example cluster` "
            "(or pass --acrm-bin DIR)")
    return exe.resolve()


def side_rss(side: dict | None) -> str:
    """Peak RSS of a side, against the largest floor its runs inherited from this process."""
    if side is None:
        return "-"
    return rss(side["maxrss_bytes"], max(r["floor_bytes"] for r in side["runs"]))


def main() -> int:
    args = parse_args()
    if args.worker == "generate":
        return worker_generate(args)
    if args.worker == "sklearn":
        return worker_sklearn(args)

    exe = None if args.sklearn_only else cluster_binary(args)  # build before anything is timed
    csv, meta = ensure_data(args)
    threads_env = {v: os.environ.get(v) for v in ("OMP_NUM_THREADS", "RAYON_NUM_THREADS", "OPENBLAS_NUM_THREADS")}

    print(f"== scikit-learn, {args.repeats} runs", flush=True)
    inertia = lambda r: f", inertia {r['inertia']:.6f}"  # noqa: E731
    sk = run_side("scikit-learn",
                  self_cmd(__file__, "--worker", "sklearn", "--csv", str(csv),
                           "--k", str(args.k), "--n-init", str(args.n_init), "--seed", str(args.seed)),
                  args.repeats, lambda r: r["elapsed_s"], inertia)
    ac = None
    if exe is not None:
        print(f"== acrm, {args.repeats} runs", flush=True)
        ac = run_side("acrm", [str(exe), str(csv), "--k", str(args.k), "--n-init", str(args.n_init),
                               "--seed", str(args.seed), "--json"],
                      args.repeats, lambda r: r["elapsed_ms"] / 1e3, inertia)

    sk_inertia = sk["last"]["inertia"]
    ac_inertia = ac and ac["last"]["inertia"]
    summary = {
        "n": args.n, "k": args.k, "n_init": args.n_init, "seed": args.seed, "repeats": args.repeats,
        "sklearn_median_s": sk["median_s"], "acrm_median_s": ac and ac["median_s"],
        "ratio_sklearn_over_acrm": ac and sk["median_s"] / ac["median_s"],
        "sklearn_inertia": sk_inertia, "acrm_inertia": ac_inertia,
        "inertia_rel_diff_acrm_vs_sklearn": ac and (ac_inertia - sk_inertia) / sk_inertia,
        "sklearn_sizes_sorted": sorted(sk["last"]["sizes"], reverse=True),
        "acrm_sizes_sorted": ac and sorted(ac["last"]["sizes"], reverse=True),
        "planted_sizes_sorted": sorted(meta["planted_sizes"], reverse=True),
        "sklearn_n_iter": sk["last"]["n_iter"],
        "acrm_read_median_s": ac and statistics.median(r["report"]["read_ms"] / 1e3 for r in ac["runs"]),
        "sklearn_read_median_s": statistics.median(r["report"]["read_s"] for r in sk["runs"]),
        "sklearn_peak_rss_bytes": sk["maxrss_bytes"], "acrm_peak_rss_bytes": ac and ac["maxrss_bytes"],
        "parent_rss_floor_bytes": sk["runs"][0]["floor_bytes"],
        "threads": {"cores": os.cpu_count(), "env": threads_env,
                    "sklearn_threadpools": sk["last"]["threadpools"],
                    "acrm": "rayon global pool (RAYON_NUM_THREADS, default one thread per core)"},
        "versions": {"python": platform.python_version(), "sklearn": sk["last"]["sklearn"],
                     "numpy": sk["last"]["numpy"]},
        "machine": platform.platform(),
    }

    omp = [t["num_threads"] for t in sk["last"]["threadpools"] if t["user_api"] == "openmp"]
    print()
    print("| N | k | n_init | sklearn median s | acrm median s | ratio sklearn/acrm | "
          "sklearn inertia | acrm inertia | inertia rel diff | sklearn peak RSS | acrm peak RSS |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print(f"| {args.n:,} | {args.k} | {args.n_init} | {sk['median_s']:.3f} | {fmt(summary['acrm_median_s'], '.3f')} | "
          f"{fmt(summary['ratio_sklearn_over_acrm'], '.2f')} | {sk_inertia:.2f} | {fmt(ac_inertia, '.2f')} | "
          f"{fmt(summary['inertia_rel_diff_acrm_vs_sklearn'], '+.2e')} | {side_rss(sk)} | {side_rss(ac)} |")
    print()
    print(f"sizes, sorted: planted {summary['planted_sizes_sorted']}")
    print(f"               sklearn {summary['sklearn_sizes_sorted']} ({summary['sklearn_n_iter']} iterations)")
    if ac:
        print(f"               acrm    {summary['acrm_sizes_sorted']}")
    print(f"not timed: CSV read, median {summary['sklearn_read_median_s']:.2f} s (pandas) / "
          f"{fmt(summary['acrm_read_median_s'], '.2f')} s (acrm example); both peaks include it and the "
          f"data in memory; this script's own RSS at spawn {mb(summary['parent_rss_floor_bytes'])}")
    print(f"threads: {os.cpu_count()} cores; sklearn OpenMP {omp or '-'} (OMP_NUM_THREADS="
          f"{threads_env['OMP_NUM_THREADS'] or 'unset'}), acrm rayon (RAYON_NUM_THREADS="
          f"{threads_env['RAYON_NUM_THREADS'] or 'unset'}); scikit-learn {summary['versions']['sklearn']}, "
          f"numpy {summary['versions']['numpy']}, Python {summary['versions']['python']}")
    print(json.dumps(summary))
    if args.json_out:
        full = dict(summary, sklearn_runs=sk["runs"], acrm_runs=ac and ac["runs"], data=meta, csv=str(csv))
        write_json(args.json_out, full)
    return 0


if __name__ == "__main__":
    sys.exit(main())
