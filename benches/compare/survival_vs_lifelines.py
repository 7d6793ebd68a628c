#!/usr/bin/env python3
"""Time acrm's Cox PH and Kaplan-Meier (the `cox` and `survival` examples) against lifelines.

Not run by CI. See README.md beside this file for the environment (lifelines on top of
requirements.txt) and how to run it.

Data (numpy default_rng(seed), generated in a child process, written to --workdir and reused
when a file made with the same settings is already there; a sidecar .json records them):
  cox  N rows, columns duration,event,x0..x9: x0-x5 standard normal, x6-x7 Bernoulli(0.5),
       x8-x9 uniform on [0, 1) (six decimals); true betas BETA below. Event times are
       exponential with hazard BASELINE_HAZARD * exp(x'beta), censoring times exponential
       with the rate that censors CENSOR_SHARE of the rows in expectation (independent of
       everything else). duration = min(T, C) rounded to 2 decimals (at least 0.01), so
       there are many tied times, as in day-level data; event = T <= C.
  km   M rows, columns duration,event: T exponential with mean KM_EVENT_MEAN days, C
       exponential with mean KM_CENSOR_MEAN days, duration = min(T, C) rounded to whole days,
       capped at KM_CAP days (administrative censoring, event 0 there).

Measured, --repeats times each, each run a fresh process; the median is reported:
  lifelines  CoxPHFitter().fit(df, 'duration', 'event') (Efron ties, default settings) and,
             apart, its lazily computed concordance_index_; KaplanMeierFitter().fit(T, E).
             Only these calls are timed (time.perf_counter); pandas.read_csv is not.
  acrm       `cox FILE --duration duration --event event --covariates x0,..,x9 --ties efron
             --json`: its `elapsed_ms` (the fit, including Harrell's C; the CSV parse is its
             `read_ms`); `survival FILE --duration duration --event event --at T1,.. --json`:
             its `elapsed_ms` (after the CSV is read into a table of strings: converting the
             two columns to numbers, then the fit). The wall time of each whole process
             (start-up, CSV read, fit, output) is reported too.
Before the lifelines Cox runs, one lifelines fit on the first PROBE_ROWS rows estimates the
time of a full fit (scaled linearly in the rows); when it exceeds --lifelines-budget seconds
the lifelines Cox runs are skipped with a note (--lifelines-budget 0: no probe, always run).

Peak RSS is each child's ru_maxrss from os.wait4, the largest over the repeats. Both include
the CSV in memory (pandas on one side, the examples' string table on the other) and, for
lifelines, the interpreter with numpy, pandas, scipy and lifelines imported. This process
imports nothing heavy, so the children's RSS floor stays small (printed with the tables).

Agreement: Cox - largest |difference| of the coefficients and of their standard errors, the
partial log-likelihood difference and the concordance difference (checked against lifelines'
concordance_index evaluated at acrm's coefficients: tiny coefficient differences reorder a few
nearly tied risk scores); KM - the median and S(t), with its confidence bounds, at the --at
times. Exit status 0 when everything ran and agrees
within the tolerances (options), 1 on a setup problem or a failed run, 2 on disagreement.

Threads: OMP_NUM_THREADS / OPENBLAS_NUM_THREADS / RAYON_NUM_THREADS are passed through as
they are; unset, numpy's BLAS (under lifelines) and acrm's rayon pool use every core.

Usage (from the repository root, with a virtualenv holding lifelines):
  python benches/compare/survival_vs_lifelines.py                     # 1M x 10 Cox, 10M KM
  python benches/compare/survival_vs_lifelines.py --rows 200000 --km-rows 2000000 --repeats 1
"""

from __future__ import annotations

# Only the standard library at module level, common.py included: while children are measured
# this process must stay small (see common.run_measured). numpy, pandas and lifelines are
# imported in the workers.
import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # common.py, beside this file
from common import (conditions, die, examples_dir, fmt, last_json, maxrss_bytes, mb, ratio,  # noqa: E402
                    reuse_data, rss, run_measured, run_side, self_cmd, versions, write_json, write_sidecar)

BETA = [0.5, -0.3, 0.2, 0.0, 0.1, -0.2, 0.4, -0.4, 0.3, 0.0]
COVARIATES = [f"x{j}" for j in range(len(BETA))]  # x0-x5 normal, x6-x7 binary, x8-x9 uniform
BASELINE_HAZARD = 0.1  # event times have mean about 10 time units at x'beta = 0
CENSOR_SHARE = 0.30
KM_EVENT_MEAN = 400.0
KM_CENSOR_MEAN = 1200.0
KM_CAP = 3650
PROBE_ROWS = 100_000
PACKAGES = ("lifelines", "pandas", "numpy", "scipy")  # whose versions the workers report
GENERATOR_VERSION = 1  # bump when the data-generating code below changes


# --------------------------------------------------------------------------------------------
# command line


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000, help="Cox rows (default 1000000)")
    p.add_argument("--km-rows", type=int, default=10_000_000, help="Kaplan-Meier rows (default 10000000)")
    p.add_argument("--seed", type=int, default=2026, help="numpy seed of both data sets (default 2026)")
    p.add_argument("--repeats", type=int, default=3, help="runs per side; the median is reported (default 3)")
    p.add_argument("--at", default="30,90,180,365,730,1825",
                   help="days at which S(t) is compared (default 30,90,180,365,730,1825)")
    p.add_argument("--skip-cox", action="store_true", help="no Cox comparison")
    p.add_argument("--skip-km", action="store_true", help="no Kaplan-Meier comparison")
    p.add_argument("--lifelines-budget", type=float, default=900.0,
                   help="skip lifelines' Cox runs when the probe estimates one fit above this many "
                        "seconds (default 900; 0 = no probe, always run)")
    p.add_argument("--coef-atol", type=float, default=1e-5,
                   help="largest |coef| and |se| difference still called equal (default 1e-5)")
    p.add_argument("--ll-rtol", type=float, default=1e-9,
                   help="partial log-likelihood tolerance relative to |LL| (default 1e-9)")
    p.add_argument("--c-atol", type=float, default=1e-9, help="concordance tolerance (default 1e-9)")
    p.add_argument("--km-atol", type=float, default=1e-9, help="S(t) and bound tolerance (default 1e-9)")
    p.add_argument("--workdir", type=Path, default=Path("/tmp/acrm_compare"),
                   help="where the CSVs are written and reused (default /tmp/acrm_compare)")
    p.add_argument("--acrm-bin", type=Path, default=None,
                   help="directory holding the built `cox` and `survival` examples (default "
                        "$CARGO_TARGET_DIR or <repo>/target, /release/examples)")
    p.add_argument("--json-out", type=Path, default=None, help="also write all results as JSON here")
    # internal: generate data, or run one lifelines fit, in this (fresh) process
    p.add_argument("--worker", choices=("gen-cox", "gen-km", "lifelines-cox", "lifelines-cindex", "lifelines-km"),
                   help=argparse.SUPPRESS)
    p.add_argument("--csv", type=Path, default=None, help=argparse.SUPPRESS)
    p.add_argument("--nrows", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--coefs", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.rows < 20 or args.km_rows < 2 or args.repeats < 1:
        p.error("--rows must be at least 20, --km-rows at least 2, --repeats at least 1")
    try:
        args.at_list = [float(t) for t in args.at.split(",") if t.strip()]
    except ValueError:
        p.error(f"--at {args.at!r}: comma-separated numbers expected")
    return args


# --------------------------------------------------------------------------------------------
# workers (fresh processes)


def worker_gen_cox(args) -> int:
    import numpy as np

    rng = np.random.default_rng(args.seed)
    n = args.rows
    x = np.empty((n, len(BETA)))
    x[:, 0:6] = rng.standard_normal((n, 6))
    x[:, 6:8] = rng.integers(0, 2, size=(n, 2))
    x[:, 8:10] = rng.random((n, 2))
    x[:, 0:6] = np.round(x[:, 0:6], 6)  # the values written are the values fitted
    x[:, 8:10] = np.round(x[:, 8:10], 6)
    rate = BASELINE_HAZARD * np.exp(x @ np.asarray(BETA))
    t_event = rng.exponential(1.0 / rate)
    # censoring rate c with mean P(C < T) = mean(c / (c + rate_i)) = CENSOR_SHARE (bisection)
    lo, hi = 0.0, float(rate.max()) * 10.0
    for _ in range(100):
        c = 0.5 * (lo + hi)
        lo, hi = (c, hi) if np.mean(c / (c + rate)) < CENSOR_SHARE else (lo, c)
    censor_rate = 0.5 * (lo + hi)
    t_censor = rng.exponential(1.0 / censor_rate, size=n)
    event = (t_event <= t_censor).astype(np.int64)
    duration = np.maximum(np.round(np.minimum(t_event, t_censor), 2), 0.01)
    out = np.column_stack([duration, event, x])
    tmp = args.csv.with_suffix(".csv.part")
    fmt = ["%.2f", "%d"] + ["%.6f"] * 6 + ["%d"] * 2 + ["%.6f"] * 2
    np.savetxt(tmp, out, fmt=fmt, delimiter=",", header=",".join(["duration", "event"] + COVARIATES),
               comments="")
    tmp.replace(args.csv)
    meta = {
        "kind": "cox", "generator_version": GENERATOR_VERSION, "rows": n, "seed": args.seed,
        "beta": BETA, "baseline_hazard": BASELINE_HAZARD, "censor_share_target": CENSOR_SHARE,
        "censor_rate": censor_rate, "events": int(event.sum()), "censored_share": float(1 - event.mean()),
        "unique_durations": int(np.unique(duration).size), "csv_bytes": args.csv.stat().st_size,
    }
    write_sidecar(args.csv, meta)
    return 0


def worker_gen_km(args) -> int:
    import numpy as np

    rng = np.random.default_rng(args.seed)
    n = args.km_rows
    t_event = rng.exponential(KM_EVENT_MEAN, size=n)
    t_censor = rng.exponential(KM_CENSOR_MEAN, size=n)
    t = np.minimum(t_event, t_censor)
    event = (t_event <= t_censor) & (t < KM_CAP)
    duration = np.minimum(np.round(t), KM_CAP).astype(np.int64)
    tmp = args.csv.with_suffix(".csv.part")
    # np.savetxt is slow for 10M rows; format through a single join per chunk instead
    with open(tmp, "w") as f:
        f.write("duration,event\n")
        step = 1_000_000
        for s in range(0, n, step):
            d = duration[s:s + step].astype(str)
            e = np.where(event[s:s + step], "1", "0")
            f.write("\n".join(np.char.add(np.char.add(d, ","), e).tolist()))
            f.write("\n")
    tmp.replace(args.csv)
    meta = {
        "kind": "km", "generator_version": GENERATOR_VERSION, "rows": n, "seed": args.seed,
        "event_mean": KM_EVENT_MEAN, "censor_mean": KM_CENSOR_MEAN, "cap": KM_CAP,
        "events": int(event.sum()), "censored_share": float(1 - event.mean()),
        "unique_durations": int(np.unique(duration).size), "csv_bytes": args.csv.stat().st_size,
    }
    write_sidecar(args.csv, meta)
    return 0


def worker_lifelines_cox(args) -> int:
    """One timed CoxPHFitter fit (and its concordance apart); prints a JSON object."""
    import warnings

    t0 = time.perf_counter()
    import pandas as pd
    from lifelines import CoxPHFitter

    import_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    df = pd.read_csv(args.csv, nrows=args.nrows)
    read_s = time.perf_counter() - t0

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        cph = CoxPHFitter().fit(df, "duration", "event")
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        c = float(cph.concordance_index_)
        concordance_s = time.perf_counter() - t0

    print(json.dumps({
        "rows": int(df.shape[0]), "import_s": import_s, "read_s": read_s, "fit_s": fit_s,
        "concordance_s": concordance_s,
        "coef": {k: float(v) for k, v in cph.params_.items()},
        "se": {k: float(v) for k, v in cph.standard_errors_.items()},
        "partial_log_likelihood": float(cph.log_likelihood_), "concordance": c,
        "events": int(df["event"].sum()),
        "warnings": sorted({f"{w.category.__name__}: {str(w.message).strip()[:200]}" for w in caught}),
        "versions": versions(*PACKAGES),
    }))
    return 0


def worker_lifelines_cindex(args) -> int:
    """lifelines' concordance_index of the risk scores x'b for the coefficients b in --coefs."""
    import numpy as np
    import pandas as pd
    from lifelines.utils import concordance_index

    b = json.loads(args.coefs)
    df = pd.read_csv(args.csv)
    eta = df[list(b)].to_numpy() @ np.asarray(list(b.values()))
    print(json.dumps({"concordance": float(concordance_index(df["duration"], -eta, df["event"]))}))
    return 0


def worker_lifelines_km(args) -> int:
    """One timed KaplanMeierFitter fit; prints a JSON object."""
    t0 = time.perf_counter()
    import numpy as np
    import pandas as pd
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    import_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    df = pd.read_csv(args.csv, dtype={"duration": np.float64, "event": np.int8})
    read_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    kmf = KaplanMeierFitter().fit(df["duration"], df["event"])
    fit_s = time.perf_counter() - t0

    median = float(kmf.median_survival_time_)
    mci = median_survival_times(kmf.confidence_interval_).iloc[0]
    s_at = kmf.survival_function_at_times(args.at_list)
    ci = kmf.confidence_interval_survival_function_
    at = []
    for t, s in zip(args.at_list, s_at.to_numpy()):
        row = ci[ci.index <= t]
        lo, hi = (1.0, 1.0) if row.empty else (float(row.iloc[-1, 0]), float(row.iloc[-1, 1]))
        at.append({"t": t, "s": float(s), "lo": lo, "hi": hi})
    finite = lambda v: float(v) if np.isfinite(v) else None  # noqa: E731
    print(json.dumps({
        "rows": int(df.shape[0]), "events": int(df["event"].sum()), "import_s": import_s,
        "read_s": read_s, "fit_s": fit_s, "median": finite(median),
        "median_interval": [finite(mci.iloc[0]), finite(mci.iloc[1])], "survival_at": at,
        "timeline": int(kmf.timeline.size), "versions": versions(*PACKAGES),
    }))
    return 0


# --------------------------------------------------------------------------------------------
# data and binaries


def ensure_data(args, kind: str) -> tuple[Path, dict]:
    """The CSV for (kind, rows, seed), generated in a child process unless already there."""
    args.workdir.mkdir(parents=True, exist_ok=True)
    rows = args.rows if kind == "cox" else args.km_rows
    csv = (args.workdir / f"{kind}_n{rows}_seed{args.seed}.csv").resolve()
    want = {"kind": kind, "generator_version": GENERATOR_VERSION, "rows": rows, "seed": args.seed}
    meta = reuse_data(csv, want, "csv_bytes")
    if meta is not None:
        return csv, meta
    print(f"generating {csv} ({rows:,} rows) ...", flush=True)
    t0 = time.perf_counter()
    m = run_measured(self_cmd(__file__, "--worker", f"gen-{kind}", "--csv", str(csv), "--rows", str(args.rows),
                              "--km-rows", str(args.km_rows), "--seed", str(args.seed)))
    if m["returncode"] != 0:
        die(f"generating the {kind} data failed:\n{m['stderr']}")
    print(f"  done in {time.perf_counter() - t0:.1f} s", flush=True)
    return csv, last_json(m["stdout"], f"the {kind} generator")


def example(args, name: str) -> Path:
    if args.acrm_bin is not None:
        exe = args.acrm_bin / name
    else:
        exe = examples_dir() / name
    if not exe.is_file():
        die(f"no {name} example at {exe}; build it with `cargo build --release --example cox "
            "--example survival` (or pass --acrm-bin DIR)")
    return exe.resolve()


# --------------------------------------------------------------------------------------------
# Cox


def compare_cox(args, problems: list[str]) -> dict:
    csv, meta = ensure_data(args, "cox")
    exe = example(args, "cox")
    print(f"cox data: {meta['rows']:,} rows, {meta['events']:,} events ({meta['censored_share']:.1%} censored), "
          f"{meta['unique_durations']:,} distinct durations", flush=True)

    print(f"== acrm cox, {args.repeats} runs", flush=True)
    ac = run_side("acrm cox", [str(exe), str(csv), "--duration", "duration", "--event", "event",
                               "--covariates", ",".join(COVARIATES), "--ties", "efron", "--json"],
                  args.repeats, lambda r: r["elapsed_ms"] / 1e3,
                  lambda r: f", read {r['read_ms'] / 1e3:.2f} s, {r['iterations']} iterations")

    lcmd = self_cmd(__file__, "--worker", "lifelines-cox", "--csv", str(csv))
    probe, skip_note = None, None
    if args.lifelines_budget > 0 and args.rows > PROBE_ROWS:
        print(f"== lifelines cox probe on the first {PROBE_ROWS:,} rows", flush=True)
        m = run_measured(lcmd + ["--nrows", str(PROBE_ROWS)])
        if m["returncode"] != 0:
            die(f"lifelines probe failed ({m['returncode']}):\n{m['stderr']}")
        pr = last_json(m["stdout"], "lifelines probe")
        est = (pr["fit_s"] + pr["concordance_s"]) * args.rows / PROBE_ROWS
        probe = {"rows": PROBE_ROWS, "fit_s": pr["fit_s"], "concordance_s": pr["concordance_s"],
                 "estimated_full_s": est, "wall_s": m["wall_s"], "maxrss_bytes": m["maxrss_bytes"]}
        print(f"  fit {pr['fit_s']:.2f} s + concordance {pr['concordance_s']:.2f} s -> about {est:.0f} s "
              f"for {args.rows:,} rows (linear estimate)", flush=True)
        if est > args.lifelines_budget:
            skip_note = (f"lifelines Cox skipped: the {PROBE_ROWS:,}-row probe took {pr['fit_s']:.1f} s "
                         f"(+{pr['concordance_s']:.1f} s concordance), about {est:.0f} s for "
                         f"{args.rows:,} rows, above --lifelines-budget {args.lifelines_budget:.0f} s")
            print("  " + skip_note, flush=True)
    ll = None
    if skip_note is None:
        print(f"== lifelines cox, {args.repeats} runs", flush=True)
        ll = run_side("lifelines cox", lcmd, args.repeats, lambda r: r["fit_s"],
                      lambda r: f", concordance {r['concordance_s']:.2f} s, read {r['read_s']:.2f} s")

    a = ac["last"]
    res = {
        "rows": a["rows"], "events": a["events"], "covariates": len(COVARIATES),
        "unique_durations": meta["unique_durations"], "repeats": args.repeats,
        "acrm_fit_median_s": ac["median_s"], "acrm_read_median_s": ac["med"](lambda r: r["report"]["read_ms"] / 1e3),
        "acrm_process_median_s": ac["wall_median_s"], "acrm_iterations": a["iterations"],
        "acrm_peak_rss_bytes": ac["maxrss_bytes"],
        "acrm_coef": {k: v["coef"] for k, v in a["covariates"].items()},
        "acrm_se": {k: v["se"] for k, v in a["covariates"].items()},
        "acrm_partial_log_likelihood": a["partial_log_likelihood"], "acrm_concordance": a["concordance"],
        "true_beta": dict(zip(COVARIATES, BETA)),
        "acrm_max_abs_coef_minus_true": max(abs(a["covariates"][k]["coef"] - b) for k, b in zip(COVARIATES, BETA)),
        "lifelines_probe": probe, "lifelines_skipped": skip_note,
        "acrm_runs": [{k: r[k] for k in ("seconds", "wall_s", "maxrss_bytes")} for r in ac["runs"]],
        "rss_floor_bytes": max(r["floor_bytes"] for r in ac["runs"]),
    }
    if ll is not None:
        lr = ll["last"]
        cd = {k: a["covariates"][k]["coef"] - lr["coef"][k] for k in COVARIATES}
        sd = {k: a["covariates"][k]["se"] - lr["se"][k] for k in COVARIATES}
        lld = a["partial_log_likelihood"] - lr["partial_log_likelihood"]
        res.update({
            "lifelines_fit_median_s": ll["median_s"],
            "lifelines_concordance_median_s": ll["med"](lambda r: r["report"]["concordance_s"]),
            "lifelines_fit_plus_c_median_s": ll["med"](lambda r: r["report"]["fit_s"] + r["report"]["concordance_s"]),
            "lifelines_read_median_s": ll["med"](lambda r: r["report"]["read_s"]),
            "lifelines_process_median_s": ll["wall_median_s"], "lifelines_peak_rss_bytes": ll["maxrss_bytes"],
            "lifelines_coef": lr["coef"], "lifelines_se": lr["se"],
            "lifelines_partial_log_likelihood": lr["partial_log_likelihood"],
            "lifelines_concordance": lr["concordance"], "lifelines_warnings": lr["warnings"],
            "versions": lr["versions"],
            "max_abs_coef_diff": max(abs(v) for v in cd.values()),
            "max_abs_se_diff": max(abs(v) for v in sd.values()),
            "max_rel_se_diff": max(abs(sd[k]) / lr["se"][k] for k in COVARIATES),
            "coef_diff": cd, "se_diff": sd,
            "partial_log_likelihood_diff": lld, "concordance_diff": a["concordance"] - lr["concordance"],
            "lifelines_runs": [{k: r[k] for k in ("seconds", "wall_s", "maxrss_bytes")} for r in ll["runs"]],
        })
        # Harrell's C counts pairs ordered by the risk scores, so coefficients that differ in the
        # 7th digit can reorder a few nearly tied pairs: the concordance check is lifelines'
        # concordance_index evaluated at acrm's coefficients (untimed, one more process).
        m = run_measured(self_cmd(__file__, "--worker", "lifelines-cindex", "--csv", str(csv),
                                  "--coefs", json.dumps(res["acrm_coef"])))
        if m["returncode"] != 0:
            die(f"lifelines concordance_index at acrm's coefficients failed:\n{m['stderr']}")
        res["lifelines_concordance_at_acrm_coef"] = last_json(m["stdout"], "lifelines-cindex")["concordance"]
        res["concordance_diff_same_coef"] = a["concordance"] - res["lifelines_concordance_at_acrm_coef"]
        res["ratio_fit_lifelines_over_acrm"] = ratio(ll["median_s"], ac["median_s"])
        res["ratio_fit_plus_c_lifelines_over_acrm"] = ratio(res["lifelines_fit_plus_c_median_s"], ac["median_s"])
        res["ratio_lifelines_fit_over_acrm_process"] = ratio(ll["median_s"], ac["wall_median_s"])
        if res["max_abs_coef_diff"] > args.coef_atol:
            problems.append(f"cox: max |coef diff| {res['max_abs_coef_diff']:.2e} > {args.coef_atol:g}")
        if res["max_abs_se_diff"] > args.coef_atol:
            problems.append(f"cox: max |se diff| {res['max_abs_se_diff']:.2e} > {args.coef_atol:g}")
        if abs(lld) > args.ll_rtol * abs(lr["partial_log_likelihood"]):
            problems.append(f"cox: partial LL differs by {lld:.3e}")
        if abs(res["concordance_diff_same_coef"]) > args.c_atol:
            problems.append(f"cox: concordance at acrm's coefficients differs by {res['concordance_diff_same_coef']:.3e}")
    return res


def print_cox(r: dict) -> None:
    lf = r.get("lifelines_fit_median_s")
    print()
    print(f"### Cox PH, {r['rows']:,} rows x {r['covariates']} covariates, {r['events']:,} events, "
          f"{r['unique_durations']:,} distinct times, Efron ties, median of {r['repeats']}")
    print()
    print("| side | fit s | fit + concordance s | process s (incl. CSV read) | CSV read s | peak RSS |")
    print("|---|---|---|---|---|---|")
    print(f"| lifelines | {fmt(lf, '.3f')} | {fmt(r.get('lifelines_fit_plus_c_median_s'), '.3f')} | "
          f"{fmt(r.get('lifelines_process_median_s'), '.2f')} | {fmt(r.get('lifelines_read_median_s'), '.2f')} | "
          f"{rss(r.get('lifelines_peak_rss_bytes'), r['rss_floor_bytes'])} |")
    print(f"| acrm | - | {r['acrm_fit_median_s']:.3f} | {r['acrm_process_median_s']:.2f} | "
          f"{r['acrm_read_median_s']:.2f} | {rss(r['acrm_peak_rss_bytes'], r['rss_floor_bytes'])} |")
    print(f"| ratio lifelines/acrm | {fmt(r.get('ratio_fit_lifelines_over_acrm'), '.1f')} (vs acrm fit + C) | "
          f"{fmt(r.get('ratio_fit_plus_c_lifelines_over_acrm'), '.1f')} | "
          f"{fmt(ratio(r.get('lifelines_process_median_s'), r['acrm_process_median_s']), '.1f')} | - | - |")
    print()
    print("acrm's fit time includes Harrell's C (lifelines computes concordance_index_ lazily, timed "
          "apart); lifelines' process time adds Python start-up and imports.")
    if r.get("lifelines_skipped"):
        print(r["lifelines_skipped"])
    if r.get("lifelines_probe"):
        p = r["lifelines_probe"]
        print(f"lifelines probe, first {p['rows']:,} rows: fit {p['fit_s']:.2f} s, concordance "
              f"{p['concordance_s']:.2f} s (estimate for the full file {p['estimated_full_s']:.0f} s)")
    print()
    if "max_abs_coef_diff" in r:
        print("| covariate | true | lifelines coef | acrm coef | coef diff | lifelines se | acrm se | se diff |")
        print("|---|---|---|---|---|---|---|---|")
        for k in COVARIATES:
            print(f"| {k} | {r['true_beta'][k]:+.2f} | {r['lifelines_coef'][k]:+.6f} | {r['acrm_coef'][k]:+.6f} | "
                  f"{r['coef_diff'][k]:+.1e} | {r['lifelines_se'][k]:.6f} | {r['acrm_se'][k]:.6f} | "
                  f"{r['se_diff'][k]:+.1e} |")
        print()
        print(f"max |coef diff| {r['max_abs_coef_diff']:.2e}, max |se diff| {r['max_abs_se_diff']:.2e} "
              f"(relative {r['max_rel_se_diff']:.1e}); partial LL lifelines "
              f"{r['lifelines_partial_log_likelihood']:.6f}, acrm {r['acrm_partial_log_likelihood']:.6f} "
              f"(diff {r['partial_log_likelihood_diff']:+.2e}); concordance lifelines "
              f"{r['lifelines_concordance']:.8f}, acrm {r['acrm_concordance']:.8f} "
              f"(diff {r['concordance_diff']:+.1e}; lifelines' concordance_index at acrm's coefficients "
              f"{r['lifelines_concordance_at_acrm_coef']:.8f}, diff {r['concordance_diff_same_coef']:+.1e}); "
              f"acrm {r['acrm_iterations']} Newton iterations")
        if r["lifelines_warnings"]:
            print("lifelines warnings: " + " | ".join(r["lifelines_warnings"]))
    else:
        print("acrm coefficients (true): " + ", ".join(
            f"{k} {r['acrm_coef'][k]:+.4f} ({r['true_beta'][k]:+.2f})" for k in COVARIATES))
    print(f"acrm max |coef - true beta| {r['acrm_max_abs_coef_minus_true']:.3f}")


# --------------------------------------------------------------------------------------------
# Kaplan-Meier


def compare_km(args, problems: list[str]) -> dict:
    csv, meta = ensure_data(args, "km")
    exe = example(args, "survival")
    print(f"km data: {meta['rows']:,} rows, {meta['events']:,} events ({meta['censored_share']:.1%} censored), "
          f"{meta['unique_durations']:,} distinct durations", flush=True)
    at = ",".join(f"{t:g}" for t in args.at_list)

    print(f"== acrm survival, {args.repeats} runs", flush=True)
    ac = run_side("acrm survival", [str(exe), str(csv), "--duration", "duration", "--event", "event",
                                    "--at", at, "--json"],
                  args.repeats, lambda r: r["elapsed_ms"] / 1e3, lambda r: f", median {r['median']}")
    print(f"== lifelines KaplanMeierFitter, {args.repeats} runs", flush=True)
    ll = run_side("lifelines km", self_cmd(__file__, "--worker", "lifelines-km", "--csv", str(csv), "--at", at),
                  args.repeats, lambda r: r["fit_s"],
                  lambda r: f", read {r['read_s']:.2f} s, median {r['median']}")

    a, lr = ac["last"], ll["last"]
    points = []
    for pa, pl in zip(a["survival_at"], lr["survival_at"]):
        points.append({"t": pa["t"], "acrm": {k: pa[k] for k in ("s", "lo", "hi")},
                       "lifelines": {k: pl[k] for k in ("s", "lo", "hi")},
                       "max_abs_diff": max(abs(pa[k] - pl[k]) for k in ("s", "lo", "hi"))})
    res = {
        "rows": int(a["n"]), "events": int(a["events"]), "unique_durations": meta["unique_durations"],
        "repeats": args.repeats,
        "lifelines_fit_median_s": ll["median_s"], "lifelines_read_median_s": ll["med"](lambda r: r["report"]["read_s"]),
        "lifelines_process_median_s": ll["wall_median_s"], "lifelines_peak_rss_bytes": ll["maxrss_bytes"],
        "acrm_fit_median_s": ac["median_s"], "acrm_process_median_s": ac["wall_median_s"],
        "acrm_peak_rss_bytes": ac["maxrss_bytes"],
        "ratio_fit_lifelines_over_acrm": ratio(ll["median_s"], ac["median_s"]),
        "ratio_lifelines_fit_over_acrm_process": ratio(ll["median_s"], ac["wall_median_s"]),
        "acrm_median": a["median"], "lifelines_median": lr["median"],
        "acrm_median_interval": a["median_interval"], "lifelines_median_interval": lr["median_interval"],
        "survival_at": points, "max_abs_survival_diff": max((p["max_abs_diff"] for p in points), default=0.0),
        "lifelines_rows": lr["rows"], "lifelines_events": lr["events"], "versions": lr["versions"],
        "rss_floor_bytes": max(r["floor_bytes"] for r in ac["runs"] + ll["runs"]),
        "acrm_runs": [{k: r[k] for k in ("seconds", "wall_s", "maxrss_bytes")} for r in ac["runs"]],
        "lifelines_runs": [{k: r[k] for k in ("seconds", "wall_s", "maxrss_bytes")} for r in ll["runs"]],
    }
    if a["median"] != lr["median"]:
        problems.append(f"km: median acrm {a['median']} vs lifelines {lr['median']}")
    if res["max_abs_survival_diff"] > args.km_atol:
        problems.append(f"km: S(t) or its bounds differ by up to {res['max_abs_survival_diff']:.2e}")
    if res["rows"] != lr["rows"] or res["events"] != lr["events"]:
        problems.append("km: row or event counts differ")
    return res


def print_km(r: dict) -> None:
    print()
    print(f"### Kaplan-Meier, {r['rows']:,} rows, {r['events']:,} events, {r['unique_durations']:,} distinct "
          f"times, median of {r['repeats']}")
    print()
    print("| side | fit s | process s (incl. CSV read) | CSV read s | peak RSS | median | median 95% CI |")
    print("|---|---|---|---|---|---|---|")
    ci = lambda v: f"[{fmt(v[0], 'g')}, {fmt(v[1], 'g')}]"  # noqa: E731
    print(f"| lifelines | {r['lifelines_fit_median_s']:.3f} | {r['lifelines_process_median_s']:.2f} | "
          f"{r['lifelines_read_median_s']:.2f} | {rss(r['lifelines_peak_rss_bytes'], r['rss_floor_bytes'])} | "
          f"{fmt(r['lifelines_median'], 'g')} | {ci(r['lifelines_median_interval'])} |")
    print(f"| acrm | {r['acrm_fit_median_s']:.3f} | {r['acrm_process_median_s']:.2f} | - | "
          f"{rss(r['acrm_peak_rss_bytes'], r['rss_floor_bytes'])} | {fmt(r['acrm_median'], 'g')} | "
          f"{ci(r['acrm_median_interval'])} |")
    print(f"| ratio lifelines/acrm | {fmt(r['ratio_fit_lifelines_over_acrm'], '.1f')} | "
          f"{fmt(ratio(r['lifelines_process_median_s'], r['acrm_process_median_s']), '.1f')} | - | - | - | - |")
    print()
    print("acrm's fit time includes turning the two text columns into numbers (its CSV reader keeps "
          "strings); lifelines' excludes pandas.read_csv.")
    print()
    print("| t | lifelines S(t) | acrm S(t) | lifelines 95% CI | acrm 95% CI | max abs diff |")
    print("|---|---|---|---|---|---|")
    for p in r["survival_at"]:
        lf, ac = p["lifelines"], p["acrm"]
        print(f"| {p['t']:g} | {lf['s']:.8f} | {ac['s']:.8f} | [{lf['lo']:.6f}, {lf['hi']:.6f}] | "
              f"[{ac['lo']:.6f}, {ac['hi']:.6f}] | {p['max_abs_diff']:.1e} |")


# --------------------------------------------------------------------------------------------


def main() -> int:
    args = parse_args()
    workers = {"gen-cox": worker_gen_cox, "gen-km": worker_gen_km, "lifelines-cox": worker_lifelines_cox,
               "lifelines-cindex": worker_lifelines_cindex, "lifelines-km": worker_lifelines_km}
    if args.worker:
        return workers[args.worker](args)
    if args.skip_cox and args.skip_km:
        die("nothing to do: --skip-cox and --skip-km")
    for name in ([] if args.skip_cox else ["cox"]) + ([] if args.skip_km else ["survival"]):
        example(args, name)  # fail early, before any data is written

    threads_env = {v: os.environ.get(v) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "RAYON_NUM_THREADS")}
    load_before = os.getloadavg()
    problems: list[str] = []
    cox = None if args.skip_cox else compare_cox(args, problems)
    km = None if args.skip_km else compare_km(args, problems)
    load_after = os.getloadavg()

    if cox:
        print_cox(cox)
    if km:
        print_km(km)
    versions = (cox or {}).get("versions") or (km or {}).get("versions") or {}
    print()
    print(f"machine: {os.cpu_count()} cores, load average {load_before[0]:.2f} before / {load_after[0]:.2f} after; "
          f"threads OMP={threads_env['OMP_NUM_THREADS'] or 'unset'} OPENBLAS="
          f"{threads_env['OPENBLAS_NUM_THREADS'] or 'unset'} RAYON={threads_env['RAYON_NUM_THREADS'] or 'unset'}; "
          f"Python {platform.python_version()}, " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    floor = maxrss_bytes(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    print(f"peak RSS: each child's ru_maxrss (os.wait4), largest of the runs; this script's own RSS, the "
          f"floor a child inherits, {mb(floor)}")
    print("agreement: " + ("; ".join(problems) if problems else "all within tolerance"))

    summary = {"cox": cox, "km": km, "problems": problems, "seed": args.seed,
               **conditions(threads_env, load_before, load_after)}
    print(json.dumps(summary))
    if args.json_out:
        write_json(args.json_out, summary)
    return 2 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
