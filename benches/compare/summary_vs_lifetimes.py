#!/usr/bin/env python3
"""Time acrm's RFM summary against the Python `lifetimes` package, and check they agree.

Not run by CI. See README.md beside this file for how to set up the environment.

What it does:
  1. makes a synthetic transaction log with acrm's `synthesize` example
     (`--customers N --seed S`), a CSV whose first columns are customer_id,date,amount;
  2. times, best of --runs (default 3):
       lifetimes  load     = pandas.read_csv(usecols=[customer_id,date,amount], parse_dates=[date])
                  summary  = lifetimes.utils.summary_data_from_transaction_data(
                                 df, 'customer_id', 'date', monetary_value_col='amount',
                                 observation_period_end=<calibration end>, freq='D')
                  end to end = load + summary (same run)
       acrm       `summarize --format csv FILE --calibration-end <cal end> --unit days --json --out OUT.csv`
                  whose JSON on stdout gives load_ms, summary_ms, total_ms (also the process wall time);
  3. compares acrm's OUT.csv (id,x,t_x,T,mean_spend; days) with lifetimes'
     frequency/recency/T/monetary_value per customer, joined on the id as text;
  4. prints a table (and writes it as JSON with --json-out).

Exit status: 0 when both ran and agree; 1 on a setup problem (missing binaries, ...);
2 when the two summaries disagree.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # common.py, beside this file
from common import (REPO, die, find_example, fmt_s, json_default, parse_json_stdout,  # noqa: E402
                    versions, write_json)

# Tolerances for "agree": counts and day offsets are whole numbers and must be equal;
# mean spend is compared after acrm printed it as text.
MEAN_SPEND_ABS_TOL = 1e-6
MEAN_SPEND_REL_TOL = 1e-9


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--customers", type=int, default=100_000, help="customers to synthesize (default 100000)")
    p.add_argument("--seed", type=int, default=42, help="seed for synthesize (default 42)")
    p.add_argument("--work", type=Path, default=None, help="working directory (default: a temporary one, removed at the end)")
    p.add_argument("--acrm-bin", type=Path, default=None,
                   help="directory with the synthesize and summarize examples (default: <repo>/target/release/examples)")
    p.add_argument("--calibration-end", default="2025-12-31",
                   help="last day counted, YYYY-MM-DD (default 2025-12-31); later transactions are ignored by both")
    p.add_argument("--runs", type=int, default=3, help="runs per measurement, best is kept (default 3)")
    p.add_argument("--csv", type=Path, default=None,
                   help="use this existing CSV (customer_id,date,amount,...) instead of running synthesize")
    p.add_argument("--lifetimes-only", action="store_true", help="time lifetimes only (no acrm binaries needed)")
    p.add_argument("--json-out", type=Path, default=None, help="also write the results as JSON here")
    return p.parse_args()


def synthesize(bin_path: Path, customers: int, seed: int, out: Path) -> str:
    cmd = [str(bin_path), "--customers", str(customers), "--seed", str(seed), "--out", str(out)]
    print("$ " + " ".join(cmd), flush=True)
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if res.returncode != 0:
        die(f"synthesize failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
    msg = res.stdout.strip()
    print(f"  synthesize: {msg or '(no output)'}  [{dt:.2f} s]")
    return msg


def best(values: list[float]) -> float:
    return min(values)


def time_lifetimes(csv: Path, cal_end: str, runs: int):
    import pandas as pd
    from lifetimes.utils import summary_data_from_transaction_data

    loads, summaries, e2e = [], [], []
    summary = df = None
    for i in range(runs):
        # drop the previous run's objects first so memory does not double up
        df = summary = None
        t0 = time.perf_counter()
        df = pd.read_csv(csv, usecols=["customer_id", "date", "amount"], parse_dates=["date"])
        t1 = time.perf_counter()
        summary = summary_data_from_transaction_data(
            df, "customer_id", "date", monetary_value_col="amount",
            observation_period_end=cal_end, freq="D",
        )
        t2 = time.perf_counter()
        loads.append(t1 - t0)
        summaries.append(t2 - t1)
        e2e.append(t2 - t0)
        print(f"  lifetimes run {i + 1}: load {t1 - t0:.3f} s, summary {t2 - t1:.3f} s, total {t2 - t0:.3f} s", flush=True)
    rows = len(df)
    cal_ts = pd.Timestamp(cal_end)
    in_window = df["date"] <= cal_ts
    extra = {
        "rows_in_csv": int(rows),
        "transactions_in_window": int(in_window.sum()),
        "revenue_in_window": float(df.loc[in_window, "amount"].sum()),
        "customer_id_dtype": str(df["customer_id"].dtype),
    }
    return {"load": best(loads), "summary": best(summaries), "end_to_end": best(e2e),
            "runs": {"load": loads, "summary": summaries, "end_to_end": e2e}}, summary, extra


def lifetimes_summary_text_ids(csv: Path, cal_end: str):
    """Untimed: the same summary with the id kept exactly as written in the CSV (for the join)."""
    import pandas as pd
    from lifetimes.utils import summary_data_from_transaction_data

    df = pd.read_csv(csv, usecols=["customer_id", "date", "amount"], parse_dates=["date"],
                     dtype={"customer_id": str})
    s = summary_data_from_transaction_data(
        df, "customer_id", "date", monetary_value_col="amount", observation_period_end=cal_end, freq="D",
    )
    s.index = s.index.astype(str)
    return s


def run_acrm(bin_path: Path, csv: Path, cal_end: str, out: Path, runs: int):
    cmd = [str(bin_path), "--format", "csv", str(csv), "--calibration-end", cal_end,
           "--unit", "days", "--json", "--out", str(out)]
    print("$ " + " ".join(cmd), flush=True)
    reports, walls = [], []
    for i in range(runs):
        t0 = time.perf_counter()
        res = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if res.returncode != 0:
            die(f"summarize failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
        try:
            rep = parse_json_stdout(res.stdout, "summarize")
        except ValueError:
            die(f"could not find a JSON object in summarize's output:\n{res.stdout.strip()}")
        for key in ("load_ms", "summary_ms", "total_ms"):
            if key not in rep:
                die(f"summarize's JSON has no '{key}': {res.stdout.strip()}")
        reports.append(rep)
        walls.append(wall)
        print(f"  acrm run {i + 1}: load {rep['load_ms'] / 1e3:.3f} s, summary {rep['summary_ms'] / 1e3:.3f} s, "
              f"total {rep['total_ms'] / 1e3:.3f} s, process wall {wall:.3f} s", flush=True)
    timing = {
        "load": best([r["load_ms"] for r in reports]) / 1e3,
        "summary": best([r["summary_ms"] for r in reports]) / 1e3,
        "end_to_end": best([r["total_ms"] for r in reports]) / 1e3,
        "process_wall": best(walls),
        "runs": {
            "load": [r["load_ms"] / 1e3 for r in reports],
            "summary": [r["summary_ms"] / 1e3 for r in reports],
            "end_to_end": [r["total_ms"] / 1e3 for r in reports],
            "process_wall": walls,
        },
    }
    return timing, reports[-1]


def compare(acrm_csv: Path, life) -> dict:
    import numpy as np
    import pandas as pd

    a = pd.read_csv(acrm_csv, dtype={"id": str})
    missing = {"id", "x", "t_x", "T", "mean_spend"} - set(a.columns)
    if missing:
        die(f"{acrm_csv} lacks columns {sorted(missing)} (has {list(a.columns)})")
    a = a.set_index("id")
    common = a.index.intersection(life.index)
    aa, ll = a.loc[common], life.loc[common]
    res = {
        "customers_acrm": int(len(a)),
        "customers_lifetimes": int(len(life)),
        "customers_in_both": int(len(common)),
        "only_in_acrm": int(len(a.index.difference(life.index))),
        "only_in_lifetimes": int(len(life.index.difference(a.index))),
        "examples_only_in_acrm": [str(v) for v in a.index.difference(life.index)[:5]],
        "examples_only_in_lifetimes": [str(v) for v in life.index.difference(a.index)[:5]],
    }
    pairs = (("x", "frequency"), ("t_x", "recency"), ("T", "T"), ("mean_spend", "monetary_value"))
    for ac, lc in pairs:
        d = (aa[ac].astype(float) - ll[lc].astype(float)).abs()
        res[f"max_abs_diff_{ac}"] = float(d.max()) if len(d) else 0.0
        if ac == "mean_spend":
            tol = np.maximum(MEAN_SPEND_ABS_TOL, MEAN_SPEND_REL_TOL * ll[lc].abs())
            bad = d > tol
        else:
            bad = d > 0
        res[f"mismatches_{ac}"] = int(bad.sum())
        if bad.any():
            ex = pd.DataFrame({"acrm": aa.loc[bad, ac], "lifetimes": ll.loc[bad, lc]}).head(5)
            res[f"examples_{ac}"] = {str(k): [float(v[0]), float(v[1])] for k, v in zip(ex.index, ex.values)}
    res["agree"] = (
        res["only_in_acrm"] == 0 and res["only_in_lifetimes"] == 0
        and all(res[f"mismatches_{ac}"] == 0 for ac, _ in pairs)
    )
    return res


def ratio(a, b) -> str:
    if a is None or b is None or b <= 0:
        return "-"
    return f"{a / b:.1f}x"


def main() -> int:
    args = parse_args()
    bin_dir = args.acrm_bin if args.acrm_bin is not None else REPO / "target" / "release" / "examples"
    bin_dir = bin_dir.resolve()

    try:
        import lifetimes
        import numpy  # noqa: F401  (its version is reported)
        import pandas
    except ImportError as e:
        die(f"{e}\nInstall the pinned environment first: pip install -r {Path(__file__).parent / 'requirements.txt'}")

    # check the binaries before spending time on anything else
    synth_bin = None if args.csv else find_example(bin_dir, "synthesize")
    summ_bin = None if args.lifetimes_only else find_example(bin_dir, "summarize")

    temp = args.work is None
    work = Path(tempfile.mkdtemp(prefix="acrm-compare-")) if temp else args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    try:
        result = {
            "machine": {
                "cores": os.cpu_count(),
                "platform": platform.platform(),
                "python": platform.python_version(),
            },
            "versions": versions("lifetimes", "pandas", "numpy"),
            "calibration_end": args.calibration_end,
            "runs": args.runs,
        }
        if args.csv:
            csv = args.csv.resolve()
            result["input"] = {"csv": str(csv)}
        else:
            csv = work / f"synth_c{args.customers}_s{args.seed}.csv"
            msg = synthesize(synth_bin, args.customers, args.seed, csv)
            m = re.search(r"\d[\d,_]*", msg)
            result["input"] = {
                "customers_requested": args.customers, "seed": args.seed,
                "synthesize_output": msg,
                "transactions_written": int(re.sub(r"[,_]", "", m.group(0))) if m else None,
            }
        result["input"]["csv_bytes"] = csv.stat().st_size

        print(f"lifetimes {lifetimes.__version__} / pandas {pandas.__version__} on {csv.name}", flush=True)
        life_t, _, extra = time_lifetimes(csv, args.calibration_end, args.runs)
        result["input"].update(extra)
        result["lifetimes"] = life_t

        acrm_t = None
        if summ_bin is not None:
            out_csv = work / "acrm_summary.csv"
            acrm_t, rep = run_acrm(summ_bin, csv, args.calibration_end, out_csv, args.runs)
            result["acrm"] = acrm_t
            result["acrm_report"] = rep

            print("comparing per-customer summaries ...", flush=True)
            life = lifetimes_summary_text_ids(csv, args.calibration_end)
            cmp = compare(out_csv, life)
            cmp["totals"] = {
                "customers": {"acrm": rep.get("customers"), "lifetimes": int(len(life))},
                "repeat_purchases": {"acrm": rep.get("repeat_purchases"), "lifetimes": int(life["frequency"].sum())},
                "zero_repeat_customers": {"acrm": rep.get("zero_repeat_customers"),
                                          "lifetimes": int((life["frequency"] == 0).sum())},
                # acrm's own definition; shown next to the sum of amounts up to the calibration end
                "total_revenue": {"acrm": rep.get("total_revenue"), "csv_sum_in_window": extra["revenue_in_window"]},
                "transactions": {"acrm": rep.get("transactions"), "csv_rows_in_window": extra["transactions_in_window"],
                                 "csv_rows": extra["rows_in_csv"]},
            }
            for key in ("customers", "repeat_purchases", "zero_repeat_customers"):
                v = cmp["totals"][key]
                if v["acrm"] is not None and int(v["acrm"]) != v["lifetimes"]:
                    cmp["agree"] = False
            result["agreement"] = cmp

        # ---- report --------------------------------------------------------------------
        inp = result["input"]
        print()
        print(f"machine: {os.cpu_count()} cores, {platform.platform()}")
        print(f"input: {inp['rows_in_csv']:,} rows in CSV, {inp['transactions_in_window']:,} on or before "
              f"{args.calibration_end}, {csv.stat().st_size / 1e6:.1f} MB; best of {args.runs}")
        print()
        header = f"{'step':<12} {'lifetimes':>12} {'acrm':>12} {'lifetimes/acrm':>15}"
        print(header)
        print("-" * len(header))
        table = []
        for step, label in (("load", "load"), ("summary", "summary"), ("end_to_end", "end-to-end")):
            lv = life_t[step]
            av = acrm_t[step] if acrm_t else None
            print(f"{label:<12} {fmt_s(lv):>12} {fmt_s(av):>12} {ratio(lv, av):>15}")
            table.append({"step": step, "lifetimes_s": lv, "acrm_s": av,
                          "ratio": (lv / av) if av else None})
        if acrm_t:
            print(f"{'acrm process':<12} {'':>12} {fmt_s(acrm_t['process_wall']):>12}   (wall time incl. start-up and writing OUT.csv)")
        result["table"] = table

        if "agreement" in result:
            c = result["agreement"]
            print()
            print(f"customers: acrm {c['customers_acrm']:,}, lifetimes {c['customers_lifetimes']:,}, "
                  f"both {c['customers_in_both']:,} (only acrm {c['only_in_acrm']}, only lifetimes {c['only_in_lifetimes']})")
            print("max |acrm - lifetimes|: " + ", ".join(
                f"{k} {c[f'max_abs_diff_{k}']:.3g} ({c[f'mismatches_{k}']} over tolerance)"
                for k in ("x", "t_x", "T", "mean_spend")))
            for key, v in c["totals"].items():
                print(f"  {key}: " + ", ".join(f"{k} {v2}" for k, v2 in v.items()))
            print("AGREE" if c["agree"] else "DISAGREE")

        if args.json_out:
            write_json(args.json_out, result, default=json_default)
        if "agreement" in result and not result["agreement"]["agree"]:
            return 2
        return 0
    finally:
        if temp:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
