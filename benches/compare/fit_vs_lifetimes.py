#!/usr/bin/env python3
"""Time acrm's model fits, predictions and CLV against the Python `lifetimes` package, and check they agree.

Not run by CI. See README.md beside this file for the environment and the input file
(make_summary_csv.py writes one).

Input: a summary CSV `ID,x,t_x,T,zbar` in weeks (zbar = mean repeat-purchase spend, 0 when x = 0).

Tasks (--models):
  bgnbd, mbgnbd, pnbd   lifetimes BetaGeoFitter / ModifiedBetaGeoFitter / ParetoNBDFitter .fit(x, t_x, T)
                        vs `fit --model M FILE --json`
  gg                    lifetimes GammaGammaFitter.fit on the repeat buyers (x > 0)
                        vs `fit --model gg FILE --json`
  clv                   BG/NBD + Gamma-Gamma fits, then GammaGammaFitter.customer_lifetime_value
                        (12 months, monthly discount 0.01, freq 'W'), written as id,clv
                        vs `clv FILE --horizon-months 12 --monthly-discount 0.01 --json --out OUT`
  predict               BG/NBD fit, then conditional_expected_number_of_purchases_up_to_time(39)
                        and conditional_probability_alive, written as id,p_alive,expected_purchases
                        vs `fit --model bgnbd FILE --json --predict-horizon 39 --out OUT`

Measured per task, best of --runs:
  lifetimes  each run in a fresh Python process (this script with --worker), so its peak RSS
             belongs to that task alone; times taken inside it: load (read_csv), fit, predict,
             write, and their sum (total). Python start-up and imports are reported, not counted.
  acrm       wall clock of the whole process, acrm's own elapsed_ms, and its peak RSS.
Peak RSS is the child's ru_maxrss from os.wait4 (per child; RUSAGE_CHILDREN only keeps a
high-water mark over all children, so it cannot tell two tasks apart).

Agreement (after all timing, untimed):
  - parameters: relative difference acrm vs lifetimes;
  - log-likelihood in weeks: lifetimes fits BG/NBD, MBG/NBD and Pareto/NBD in time divided by
    max(T), which shifts the log-likelihood by sum(x) * ln(max T); the script undoes that,
    checks the result against lifetimes' own likelihood re-evaluated on the unscaled data,
    and evaluates lifetimes' likelihood at acrm's parameters (is acrm's LL the same quantity,
    and is its optimum at least as high?);
  - predict / clv: acrm's per-customer values against lifetimes' formulas evaluated at acrm's
    parameters (a check of the formulas), and against lifetimes' own output (information).

Exit status: 0 when everything ran and agrees; 1 on a setup problem (missing binary, bad CSV, ...)
or when an acrm run failed (the other tasks are still compared); 2 when acrm disagrees with
lifetimes (lower log-likelihood, a different likelihood convention, or per-customer values off
lifetimes' formulas).
"""

from __future__ import annotations

# Only the standard library at module level, common.py included: while children are measured
# this process must stay small (see common.run_measured). numpy, pandas and lifetimes are
# imported inside functions.
import argparse
import json
import math
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # common.py, beside this file
from common import (REPO, die, find_example, fmt_s, json_default, maxrss_bytes, mb,  # noqa: E402
                    parse_json_stdout, ratio, run_measured, self_cmd, write_json)

TASKS = ("bgnbd", "mbgnbd", "pnbd", "gg", "clv", "predict")
FIT_MODELS = ("bgnbd", "mbgnbd", "pnbd", "gg")
PARAM_NAMES = {
    "bgnbd": ("r", "alpha", "a", "b"),
    "mbgnbd": ("r", "alpha", "a", "b"),
    "pnbd": ("r", "alpha", "s", "beta"),
    "gg": ("p", "q", "gamma"),  # lifetimes calls gamma "v"
}
# lifetimes' Gamma-Gamma parameter names, in PARAM_NAMES["gg"] order
LIFETIMES_GG_NAMES = ("p", "q", "v")
LIFETIMES_ONLY = ", or pass --lifetimes-only"  # the way out when an acrm binary is missing
CLV_FREQ = "W"  # the summary is in weeks; lifetimes turns months into 4.345 weeks


# --------------------------------------------------------------------------------------------
# command line


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # argparse exits with 2, which here means "acrm disagrees"; a usage error is a setup problem
        self.print_usage(sys.stderr)
        die(f"{self.prog}: error: {message}")


def parse_args(argv=None) -> argparse.Namespace:
    p = _Parser(description=__doc__.split("\n")[0])
    p.add_argument("--csv", type=Path, required=True, help="summary CSV with header ID,x,t_x,T,zbar (weeks)")
    p.add_argument("--models", default=",".join(TASKS),
                   help=f"comma-separated tasks out of {','.join(TASKS)} (default: all)")
    p.add_argument("--runs", type=int, default=3, help="runs per side and task, best is kept (default 3)")
    p.add_argument("--acrm-bin", type=Path, default=None,
                   help="directory with the fit and clv examples (default: <repo>/target/release/examples)")
    p.add_argument("--lifetimes-only", action="store_true", help="run only the lifetimes side (no acrm binaries needed)")
    p.add_argument("--skip-lifetimes-pnbd", action="store_true",
                   help="do not fit Pareto/NBD with lifetimes (about 7 minutes on 1M customers); "
                        "acrm's pnbd is still run and its LL checked against lifetimes' likelihood")
    p.add_argument("--predict-model", choices=("bgnbd", "mbgnbd", "pnbd"), default="bgnbd",
                   help="model behind the predict task (default bgnbd)")
    p.add_argument("--predict-horizon", type=float, default=39.0, help="predict horizon in weeks (default 39)")
    p.add_argument("--clv-months", type=int, default=12, help="CLV horizon in months (default 12)")
    p.add_argument("--monthly-discount", type=float, default=0.01, help="CLV monthly discount rate (default 0.01)")
    p.add_argument("--seed", type=int, default=0,
                   help="numpy seed in the lifetimes process (Pareto/NBD starts from random parameters; default 0)")
    p.add_argument("--param-rtol", type=float, default=1e-3,
                   help="relative parameter difference still called equal (default 1e-3; information only)")
    p.add_argument("--ll-rtol", type=float, default=1e-8,
                   help="log-likelihood tolerance relative to |LL| (default 1e-8, at least 1e-6 absolute)")
    p.add_argument("--value-rtol", type=float, default=1e-6,
                   help="per-customer tolerance for predict/clv, relative to max(|value|, 1) (default 1e-6)")
    p.add_argument("--work", type=Path, default=None,
                   help="directory for the per-customer outputs (default: a temporary one, removed at the end)")
    p.add_argument("--json-out", type=Path, default=None, help="also write all results as JSON here")
    # internal: run one lifetimes task in this (fresh) process and print its results as JSON
    p.add_argument("--worker", choices=TASKS + ("imports",), help=argparse.SUPPRESS)
    p.add_argument("--worker-out", type=Path, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.tasks = [t.strip() for t in args.models.split(",") if t.strip()]
    bad = [t for t in args.tasks if t not in TASKS]
    if bad or not args.tasks:
        p.error(f"--models: unknown task(s) {bad}; choose from {','.join(TASKS)}")
    if args.runs < 1:
        p.error("--runs must be at least 1")
    return args


# --------------------------------------------------------------------------------------------
# lifetimes: shared by the worker (timed fits) and the parent (untimed checks)


def load_summary(csv: Path, id_as_text: bool = True):
    """The summary as a DataFrame indexed by ID.

    The checks read the ID as text so it joins with acrm's output whatever it looks like; the
    timed lifetimes run reads the file the way a lifetimes user would (plain read_csv).
    """
    import pandas as pd

    df = pd.read_csv(csv, dtype={"ID": str}) if id_as_text else pd.read_csv(csv)
    missing = {"ID", "x", "t_x", "T", "zbar"} - set(df.columns)
    if missing:
        raise ValueError(f"{csv} lacks columns {sorted(missing)} (has {list(df.columns)}); "
                         "expected the header ID,x,t_x,T,zbar")
    return df.set_index("ID")


def fitter_class(model: str):
    from lifetimes import BetaGeoFitter, GammaGammaFitter, ModifiedBetaGeoFitter, ParetoNBDFitter

    return {"bgnbd": BetaGeoFitter, "mbgnbd": ModifiedBetaGeoFitter,
            "pnbd": ParetoNBDFitter, "gg": GammaGammaFitter}[model]


def lifetimes_log_likelihood(model: str, params: dict, df) -> float:
    """lifetimes' own log-likelihood, summed over customers, in weeks, at `params` (weeks).

    Calls the fitters' static likelihoods on the unscaled data, so no time-scaling correction
    is involved: the reference that the converted fit objective (describe_fit) is checked
    against, and the yardstick for acrm's parameters. Two conventions live inside lifetimes:
    BG/NBD, MBG/NBD and Gamma-Gamma return the mean negative LL over customers, Pareto/NBD
    the sum (divided by the mean weight, here 1).
    """
    import numpy as np

    values = np.array([float(params[k]) for k in PARAM_NAMES[model]])
    cls = fitter_class(model)
    if model == "gg":
        rep = df[df["x"] > 0]
        x, z = rep["x"].to_numpy(float), rep["zbar"].to_numpy(float)
        return float(-cls._negative_log_likelihood(np.log(values), x, z, np.ones(len(x)), 0.0) * len(x))
    x, tx, T = df["x"].to_numpy(int), df["t_x"].to_numpy(float), df["T"].to_numpy(float)
    if model == "pnbd":
        return float(cls._conditional_log_likelihood(values, x, tx, T).sum())
    return float(-cls._negative_log_likelihood(np.log(values), x, tx, T, np.ones(len(x)), 0.0) * len(x))


def fitter_with_params(model: str, params: dict):
    """A lifetimes fitter that has not been fitted but carries `params`, for its formulas."""
    import pandas as pd

    f = fitter_class(model)()
    names = LIFETIMES_GG_NAMES if model == "gg" else PARAM_NAMES[model]
    f.params_ = pd.Series([float(params[k]) for k in PARAM_NAMES[model]], index=list(names), dtype=float)
    if model != "gg":
        f.predict = f.conditional_expected_number_of_purchases_up_to_time
    return f


def fit_lifetimes(model: str, df):
    """Fit one model with lifetimes' defaults; returns the fitter (the timed part)."""
    f = fitter_class(model)()
    if model == "gg":
        rep = df[df["x"] > 0]
        return f.fit(rep["x"], rep["zbar"])
    return f.fit(df["x"], df["t_x"], df["T"])


def describe_fit(model: str, f, df) -> dict:
    """Parameters, standard errors and log-likelihood of a lifetimes fit (cheap, untimed)."""
    names = LIFETIMES_GG_NAMES if model == "gg" else PARAM_NAMES[model]
    params = {k: float(f.params_[n]) for k, n in zip(PARAM_NAMES[model], names)}
    objective = float(f._negative_log_likelihood_)
    if model == "gg":
        n = int((df["x"] > 0).sum())
        ll_fit, sum_x, max_T = -objective * n, None, None
    else:
        n, sum_x, max_T = len(df), int(df["x"].sum()), float(df["T"].max())
        # lifetimes minimises in time divided by max(T) (alpha, beta scaled alike). The BG/NBD
        # and Pareto/NBD likelihoods include the density of the x purchase times, which picks
        # up a factor 1/c per purchase when time is multiplied by c, so
        #   LL_weeks = LL_scaled + sum(x) * ln(1 / max T).
        # Its objective is the mean negative LL for BG/NBD and MBG/NBD, the sum for Pareto/NBD.
        ll_scaled = -objective if model == "pnbd" else -objective * n
        ll_fit = ll_scaled + sum_x * math.log(1.0 / max_T)
    se = getattr(f, "standard_errors_", None)  # Pareto/NBD has none in lifetimes 0.11.3
    return {
        "params": params,
        "std_errors": {k: float(se[n]) for k, n in zip(PARAM_NAMES[model], names)} if se is not None else None,
        "objective": objective,
        "time_scale": getattr(f, "_scale", None),
        "customers": n,
        "sum_x": sum_x,
        "max_T": max_T,
        "log_likelihood": ll_fit,
    }


def worker(args) -> int:
    """One lifetimes task in this process; prints a JSON object as the last line of stdout."""
    t0 = time.perf_counter()
    import numpy as np
    import pandas as pd
    import lifetimes  # noqa: F401  (import cost is reported apart from the task)

    res = {"task": args.worker, "import_s": time.perf_counter() - t0}
    if args.worker == "imports":
        print(json.dumps(res))
        return 0
    np.random.seed(args.seed)  # ParetoNBDFitter starts from np.random.normal(1, 0.05)

    t0 = time.perf_counter()
    df = load_summary(args.csv, id_as_text=False)
    t1 = time.perf_counter()

    task = args.worker
    predict_s = write_s = 0.0
    if task in FIT_MODELS:
        fits = {task: fit_lifetimes(task, df)}
        t2 = t3 = time.perf_counter()
    elif task == "predict":
        m = args.predict_model
        fits = {m: fit_lifetimes(m, df)}
        t2 = time.perf_counter()
        f, x, tx, T = fits[m], df["x"], df["t_x"], df["T"]
        out = pd.DataFrame({
            "p_alive": np.asarray(f.conditional_probability_alive(x, tx, T), dtype=float),
            "expected_purchases": np.asarray(
                f.conditional_expected_number_of_purchases_up_to_time(args.predict_horizon, x, tx, T), dtype=float),
        }, index=df.index)
        t3 = time.perf_counter()
    else:  # clv: lifetimes' documented recipe, BG/NBD for the purchases and Gamma-Gamma for spend
        fits = {"bgnbd": fit_lifetimes("bgnbd", df), "gg": fit_lifetimes("gg", df)}
        t2 = time.perf_counter()
        clv = fits["gg"].customer_lifetime_value(
            fits["bgnbd"], df["x"], df["t_x"], df["T"], df["zbar"],
            time=args.clv_months, discount_rate=args.monthly_discount, freq=CLV_FREQ)
        out = pd.DataFrame({"clv": clv.to_numpy(float)}, index=df.index)
        res["total_clv"] = float(out["clv"].sum())
        res["total_clv_repeat_buyers"] = float(out.loc[df["x"].to_numpy() > 0, "clv"].sum())
        t3 = time.perf_counter()
    if task in ("predict", "clv"):
        # acrm writes its per-customer file inside the timed process, so lifetimes does too
        out.index.name = "id"
        out.to_csv(args.worker_out)
        write_s = time.perf_counter() - t3
        predict_s = t3 - t2

    res.update({
        "load_s": t1 - t0, "fit_s": t2 - t1, "predict_s": predict_s, "write_s": write_s,
        "compute_s": (t2 - t1) + predict_s, "total_s": (t1 - t0) + (t2 - t1) + predict_s + write_s,
        "customers": len(df),
        "fits": {m: describe_fit(m, f, df) for m, f in fits.items()},
    })
    print(json.dumps(res))
    return 0


# --------------------------------------------------------------------------------------------
# the two sides


def run_lifetimes_task(args, task: str, work: Path) -> dict:
    out = work / f"lifetimes_{task}.csv"
    cmd = self_cmd(__file__, "--csv", str(args.csv), "--worker", task,
                   "--worker-out", str(out), "--seed", str(args.seed), "--predict-model", args.predict_model,
                   "--predict-horizon", repr(args.predict_horizon), "--clv-months", str(args.clv_months),
                   "--monthly-discount", repr(args.monthly_discount))
    runs = []
    for i in range(args.runs):
        m = run_measured(cmd)
        if m["returncode"] != 0:
            die(f"lifetimes {task} failed ({m['returncode']}):\n{m['stdout']}\n{m['stderr']}")
        try:
            rep = parse_json_stdout(m["stdout"], f"the lifetimes {task} worker")
        except ValueError as e:
            die(str(e))
        rep.update(wall_s=m["wall_s"], maxrss_bytes=m["maxrss_bytes"], floor_bytes=m["floor_bytes"])
        runs.append(rep)
        print(f"  lifetimes {task} run {i + 1}: total {rep['total_s']:.3f} s (load {rep['load_s']:.3f}, "
              f"fit {rep['fit_s']:.3f}, predict {rep['predict_s']:.3f}, write {rep['write_s']:.3f}), "
              f"imports {rep['import_s']:.2f} s, peak RSS {mb(rep['maxrss_bytes'])}", flush=True)
    best = min(runs, key=lambda r: r["total_s"])
    return {
        "total_s": best["total_s"], "compute_s": min(r["compute_s"] for r in runs),
        "breakdown_of_best": {k: best[k] for k in ("load_s", "fit_s", "predict_s", "write_s", "import_s", "wall_s")},
        "maxrss_bytes": max(r["maxrss_bytes"] for r in runs),
        "fits": best["fits"],
        "total_clv": best.get("total_clv"), "total_clv_repeat_buyers": best.get("total_clv_repeat_buyers"),
        "out": str(out) if task in ("predict", "clv") else None,
        "runs": [{k: v for k, v in r.items() if k != "fits"} for r in runs],
    }


def acrm_command(args, bins: dict, task: str, out: Path) -> list[str]:
    csv = str(args.csv)
    if task in FIT_MODELS:
        # The comparison reports convergence itself: keep fits that did not converge.
        return [str(bins["fit"]), "--model", task, csv, "--json", "--allow-nonconverged"]
    if task == "predict":
        return [str(bins["fit"]), "--model", args.predict_model, csv, "--json", "--allow-nonconverged",
                "--predict-horizon", repr(args.predict_horizon), "--out", str(out)]
    return [str(bins["clv"]), csv, "--horizon-months", str(args.clv_months),
            "--monthly-discount", repr(args.monthly_discount), "--json", "--allow-nonconverged",
            "--out", str(out)]


def run_acrm_task(args, bins: dict, task: str, work: Path) -> dict:
    """acrm's runs of one task, or {"error": ...}: a task acrm cannot do yet must not throw
    away the other tasks' results (lifetimes may have spent minutes on them)."""
    out = work / f"acrm_{task}.csv"
    cmd = acrm_command(args, bins, task, out)
    print("  $ " + " ".join(cmd), flush=True)
    runs, report = [], None
    for i in range(args.runs):
        m = run_measured(cmd)
        try:
            if m["returncode"] != 0:
                tail = (m["stderr"].strip() or m["stdout"].strip()).splitlines()
                raise ValueError(f"exit status {m['returncode']}" + (f": {tail[-1]}" if tail else ""))
            report = parse_json_stdout(m["stdout"], f"acrm {task}")
        except ValueError as e:
            print(f"  acrm {task} FAILED: {e}", file=sys.stderr, flush=True)
            return {"error": str(e), "command": cmd, "stdout": m["stdout"], "stderr": m["stderr"]}
        elapsed = report.get("elapsed_ms")
        runs.append({"wall_s": m["wall_s"], "elapsed_s": elapsed / 1e3 if elapsed is not None else None,
                     "maxrss_bytes": m["maxrss_bytes"], "floor_bytes": m["floor_bytes"]})
        print(f"  acrm {task} run {i + 1}: process {m['wall_s']:.3f} s, elapsed_ms "
              f"{'-' if elapsed is None else f'{elapsed:.1f}'}, peak RSS {mb(m['maxrss_bytes'])}", flush=True)
    elapsed = [r["elapsed_s"] for r in runs if r["elapsed_s"] is not None]
    return {
        "wall_s": min(r["wall_s"] for r in runs),
        "elapsed_s": min(elapsed) if elapsed else None,
        "maxrss_bytes": max(r["maxrss_bytes"] for r in runs),
        "report": report,
        "out": str(out) if task in ("predict", "clv") else None,
        "runs": runs,
    }


# --------------------------------------------------------------------------------------------
# agreement


def find_params(obj, names: tuple, alias: dict | None = None) -> dict | None:
    """The first dict (depth first) holding all `names`, as floats.

    acrm's fit JSON has them under "params"; the clv JSON's layout for its two sets is not
    pinned down, so both are searched for by name.
    """
    alias = alias or {}
    if isinstance(obj, dict):
        keys = {k: alias.get(k, k) for k in names}
        if all(k in obj or keys[k] in obj for k in names):
            try:
                return {k: float(obj[k] if k in obj else obj[keys[k]]) for k in names}
            except (TypeError, ValueError):
                pass
        for v in obj.values():
            hit = find_params(v, names, alias)
            if hit is not None:
                return hit
    elif isinstance(obj, list):
        for v in obj:
            hit = find_params(v, names, alias)
            if hit is not None:
                return hit
    return None


def named_std_errors(report: dict, model: str) -> dict | None:
    se = report.get("std_errors")
    names = PARAM_NAMES[model]
    if isinstance(se, dict):
        return find_params(se, names, {"gamma": "v"})
    if isinstance(se, list) and len(se) == len(names):
        return {k: float(v) for k, v in zip(names, se)}
    return None


def rel_diff(a: float, b: float) -> float:
    return abs(a - b) / abs(b) if b != 0 else abs(a - b)


def ll_tol(args, ll: float) -> float:
    return max(1e-6, args.ll_rtol * abs(ll))


def compare_fit(args, model: str, life: dict | None, acrm_params: dict | None, acrm_ll, acrm_se, df) -> dict:
    """Compare one fitted model; `life` is lifetimes' describe_fit (None when not run)."""
    res = {"model": model, "problems": []}
    if acrm_params is None:
        res["problems"].append("acrm reported no parameters " + "/".join(PARAM_NAMES[model]))
        res["status"] = "DISAGREE"
        return res
    res["acrm_params"] = acrm_params
    # the same function lifetimes maximised, at acrm's optimum
    ll_at_acrm = lifetimes_log_likelihood(model, acrm_params, df)
    res["lifetimes_ll_at_acrm_params"] = ll_at_acrm
    if acrm_ll is not None:
        res["acrm_ll"] = float(acrm_ll)
        res["ll_convention_offset"] = float(acrm_ll) - ll_at_acrm
        if abs(res["ll_convention_offset"]) > ll_tol(args, ll_at_acrm):
            res["problems"].append(
                f"acrm's log_likelihood {float(acrm_ll):.6f} is not lifetimes' likelihood at acrm's parameters "
                f"({ll_at_acrm:.6f}; offset {res['ll_convention_offset']:+.6g})")
    if life is None:
        res["status"] = "DISAGREE" if res["problems"] else "no lifetimes fit"
        return res

    res["lifetimes_params"] = life["params"]
    res["param_rel_diff"] = {k: rel_diff(acrm_params[k], life["params"][k]) for k in PARAM_NAMES[model]}
    res["max_param_rel_diff"] = max(res["param_rel_diff"].values())
    if acrm_se is not None and life.get("std_errors"):
        res["std_error_rel_diff"] = {k: rel_diff(acrm_se[k], life["std_errors"][k]) for k in PARAM_NAMES[model]}
    res["lifetimes_ll"] = life["log_likelihood"]
    # positive: acrm's optimum is higher on the very same likelihood
    res["ll_gap_acrm_minus_lifetimes"] = ll_at_acrm - life["log_likelihood"]
    tol = ll_tol(args, life["log_likelihood"])
    gap = res["ll_gap_acrm_minus_lifetimes"]
    if gap < -tol:
        res["problems"].append(f"acrm's optimum is {-gap:.6g} below lifetimes' log-likelihood")
    if res["problems"]:
        res["status"] = "DISAGREE"
    elif res["max_param_rel_diff"] <= args.param_rtol:
        res["status"] = "agree"
    elif gap > tol:
        res["status"] = "acrm higher LL"
    else:
        res["status"] = "same LL, params differ"  # a flat likelihood; both are optima
    return res


def compare_columns(args, acrm_out: Path, ref, columns: list[str], label: str) -> dict:
    """acrm's per-customer file against a reference DataFrame (indexed by id as text)."""
    import numpy as np
    import pandas as pd

    a = pd.read_csv(acrm_out, dtype={"id": str})
    missing = ({"id"} | set(columns)) - set(a.columns)
    if missing:
        return {"problems": [f"{acrm_out} lacks columns {sorted(missing)} (has {list(a.columns)})"]}
    a = a.set_index("id")
    common = a.index.intersection(ref.index)
    res = {"reference": label, "customers_acrm": len(a), "customers_reference": len(ref),
           "customers_in_both": len(common), "only_in_acrm": len(a.index.difference(ref.index)),
           "columns": {}, "problems": []}
    for c in columns:
        av = a.loc[common, c].to_numpy(float)
        rv = ref.loc[common, c].to_numpy(float)
        d = np.abs(av - rv)
        over = d > args.value_rtol * np.maximum(np.abs(rv), 1.0)
        worst = int(np.argmax(d)) if len(d) else None
        res["columns"][c] = {
            "max_abs_diff": float(d.max()) if len(d) else 0.0,
            "max_rel_diff": float((d / np.maximum(np.abs(rv), 1e-300)).max()) if len(d) else 0.0,
            "over_tolerance": int(over.sum()),
            "worst": None if worst is None else {"id": str(common[worst]), "acrm": float(av[worst]),
                                                  "reference": float(rv[worst])},
        }
    if res["only_in_acrm"]:
        res["problems"].append(f"{res['only_in_acrm']} ids in {acrm_out.name} are not in the input")
    return res


def formula_reference(args, task: str, acrm_report: dict, df):
    """lifetimes' predict/clv values at acrm's own parameters (None, message when impossible)."""
    import numpy as np
    import pandas as pd

    x, tx, T = df["x"], df["t_x"], df["T"]
    if task == "predict":
        m = args.predict_model
        params = find_params(acrm_report.get("params", acrm_report), PARAM_NAMES[m])
        if params is None:
            return None, "no parameters in acrm's JSON"
        f = fitter_with_params(m, params)
        return pd.DataFrame({
            "p_alive": np.asarray(f.conditional_probability_alive(x, tx, T), dtype=float),
            "expected_purchases": np.asarray(
                f.conditional_expected_number_of_purchases_up_to_time(args.predict_horizon, x, tx, T), dtype=float),
        }, index=df.index), None
    bg = find_params(acrm_report, PARAM_NAMES["bgnbd"])
    gg = find_params(acrm_report, PARAM_NAMES["gg"], {"gamma": "v"})
    if bg is None or gg is None:
        return None, "acrm's clv JSON lacks the BG/NBD (r, alpha, a, b) or Gamma-Gamma (p, q, gamma) parameters"
    clv = fitter_with_params("gg", gg).customer_lifetime_value(
        fitter_with_params("bgnbd", bg), x, tx, T, df["zbar"],
        time=args.clv_months, discount_rate=args.monthly_discount, freq=CLV_FREQ)
    return pd.DataFrame({"clv": clv.to_numpy(float)}, index=df.index), None


def compare_values(args, task: str, acrm: dict, life: dict | None, df) -> dict:
    import pandas as pd

    columns = ["p_alive", "expected_purchases"] if task == "predict" else ["clv"]
    out = Path(acrm["out"])
    if not out.is_file():
        return {"problems": [f"acrm did not write {out}"]}
    res = {"problems": []}
    ref, why = formula_reference(args, task, acrm["report"], df)
    if ref is None:
        res["problems"].append(why)
    else:
        res["vs_formulas_at_acrm_params"] = c = compare_columns(args, out, ref, columns, "lifetimes at acrm's params")
        res["problems"] += c["problems"]
        for col, v in c.get("columns", {}).items():
            if v["over_tolerance"]:
                res["problems"].append(f"{col}: {v['over_tolerance']} customers off lifetimes' formula "
                                       f"(max abs diff {v['max_abs_diff']:.3g})")
        if task == "clv" and acrm["report"].get("total_clv") is not None:
            a = pd.read_csv(out, dtype={"id": str}).set_index("id")
            expect = float(ref.loc[ref.index.intersection(a.index), "clv"].sum())
            got = float(acrm["report"]["total_clv"])
            res["total_clv"] = {"acrm": got, "lifetimes_at_acrm_params_same_customers": expect,
                                "lifetimes_own": life["total_clv"] if life else None,
                                "lifetimes_own_repeat_buyers": life["total_clv_repeat_buyers"] if life else None}
            if abs(got - expect) > args.value_rtol * max(abs(expect), 1.0):
                res["problems"].append(f"total_clv {got:.6f} != sum of lifetimes' CLV at acrm's params {expect:.6f}")
    if life is not None and life.get("out"):
        # depends on both sides' parameter estimates, so shown but not judged
        own = pd.read_csv(life["out"], dtype={"id": str}).set_index("id")
        res["vs_lifetimes_own_output"] = compare_columns(args, out, own, columns, "lifetimes' own output")
    return res


# --------------------------------------------------------------------------------------------
# report


def fmt_ratio(r) -> str:
    return "-" if r is None else f"{r:.1f}x"


def print_tables(result: dict) -> None:
    print()
    h = (f"{'task':<8} {'lifetimes':>11} {'acrm proc':>11} {'ratio':>7}  {'lt compute':>11} {'acrm own':>11} "
         f"{'ratio':>7}  {'lt RSS':>8} {'acrm RSS':>8} {'ratio':>7}")
    print(h)
    print("-" * len(h))
    for row in result["table"]:
        print(f"{row['task']:<8} {fmt_s(row['lifetimes_total_s']):>11} {fmt_s(row['acrm_wall_s']):>11} "
              f"{fmt_ratio(row['time_ratio']):>7}  {fmt_s(row['lifetimes_compute_s']):>11} "
              f"{fmt_s(row['acrm_elapsed_s']):>11} {fmt_ratio(row['compute_ratio']):>7}  "
              f"{mb(row['lifetimes_maxrss_bytes']):>8} {mb(row['acrm_maxrss_bytes']):>8} "
              f"{fmt_ratio(row['memory_ratio']):>7}")
    print("lifetimes = load + fit (+ predict + write) inside its process; acrm proc = whole process wall time;")
    print("lt compute = fit (+ predict) only; acrm own = its elapsed_ms; RSS = peak resident set of each process;")
    print("ratio = lifetimes / acrm (higher: acrm faster or smaller).")
    f = result["measurement"]
    print(f"A child's peak RSS includes this script's own peak at spawn ({mb(f['parent_maxrss_bytes'])}); "
          f"a Python process that only imports lifetimes peaks at {mb(f['lifetimes_imports_maxrss_bytes'])} "
          f"({f['lifetimes_imports_s']:.2f} s of imports, not counted above).")

    print()
    h2 = (f"{'fit':<14} {'param':<6} {'lifetimes':>14} {'acrm':>14} {'rel diff':>9}")
    print(h2)
    print("-" * len(h2))
    for key, c in result["fit_comparison"].items():
        life_p, acrm_p = c.get("lifetimes_params") or {}, c.get("acrm_params") or {}
        for k in PARAM_NAMES[c["model"]]:
            lv, av = life_p.get(k), acrm_p.get(k)
            rd = c.get("param_rel_diff", {}).get(k)
            print(f"{key:<14} {k:<6} {'-' if lv is None else f'{lv:.6g}':>14} {'-' if av is None else f'{av:.6g}':>14} "
                  f"{'-' if rd is None else f'{rd:.2e}':>9}")
        ll, all_ = c.get("lifetimes_ll"), c.get("acrm_ll")
        notes = []
        if "ll_gap_acrm_minus_lifetimes" in c:
            notes.append(f"acrm - lifetimes {c['ll_gap_acrm_minus_lifetimes']:+.3g}")
        if "ll_convention_offset" in c:
            notes.append(f"convention offset {c['ll_convention_offset']:+.3g}")
        if "lifetimes_ll_relation_abs_error" in c:
            notes.append(f"lifetimes scaled vs direct {c['lifetimes_ll_relation_abs_error']:.1e}")
        print(f"{key:<14} LL     {'-' if ll is None else f'{ll:.6f}':>14} {'-' if all_ is None else f'{all_:.6f}':>14}  "
              + ", ".join(notes))
        print(f"{key:<14} status: {c['status']}" + "".join(f"\n{'':<16}- {p}" for p in c["problems"]))
    for task, v in result["value_comparison"].items():
        print(f"{task}: " + ("agree" if not v["problems"] else "DISAGREE"))
        for label in ("vs_formulas_at_acrm_params", "vs_lifetimes_own_output"):
            if label in v and "columns" in v[label]:
                cols = ", ".join(f"{c} max abs diff {s['max_abs_diff']:.3g}" for c, s in v[label]["columns"].items())
                print(f"  {v[label]['reference']} ({v[label]['customers_in_both']:,} customers): {cols}")
        if "total_clv" in v:
            print("  total_clv: " + ", ".join(f"{k} {'-' if x is None else f'{x:.2f}'}" for k, x in v["total_clv"].items()))
        for p in v["problems"]:
            print(f"  - {p}")


def main() -> int:
    args = parse_args()
    if args.worker:
        return worker(args)

    args.csv = args.csv.resolve()
    if not args.csv.is_file():
        die(f"no such file: {args.csv}")
    with open(args.csv) as fh:
        header = [c.strip() for c in fh.readline().split(",")]
    if header[:5] != ["ID", "x", "t_x", "T", "zbar"]:
        die(f"{args.csv}: expected the header ID,x,t_x,T,zbar, found {','.join(header)}")

    # check the binaries before spending minutes on lifetimes
    bins = {}
    if not args.lifetimes_only:
        bin_dir = (args.acrm_bin or REPO / "target" / "release" / "examples").resolve()
        if any(t != "clv" for t in args.tasks):
            bins["fit"] = find_example(bin_dir, "fit", LIFETIMES_ONLY)
        if "clv" in args.tasks:
            bins["clv"] = find_example(bin_dir, "clv", LIFETIMES_ONLY)

    temp = args.work is None
    work = Path(tempfile.mkdtemp(prefix="acrm-fit-compare-")) if temp else args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    try:
        result = {
            "machine": {"cores": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
            "input": {"csv": str(args.csv), "csv_bytes": args.csv.stat().st_size},
            "settings": {k: getattr(args, k) for k in (
                "runs", "predict_model", "predict_horizon", "clv_months", "monthly_discount", "seed",
                "param_rtol", "ll_rtol", "value_rtol", "lifetimes_only", "skip_lifetimes_pnbd")},
            "tasks": args.tasks,
        }

        # ---- timed part: only child processes, this one stays small ------------------------
        m = run_measured(self_cmd(__file__, "--csv", str(args.csv), "--worker", "imports"))
        if m["returncode"] != 0:
            die(f"cannot import lifetimes in {sys.executable}:\n{m['stderr']}\n"
                f"Install the pinned environment: pip install -r {Path(__file__).parent / 'requirements.txt'}")
        imports = json.loads(m["stdout"])
        result["measurement"] = {"lifetimes_imports_maxrss_bytes": m["maxrss_bytes"],
                                 "lifetimes_imports_s": imports["import_s"]}

        life, acrm = {}, {}
        for task in args.tasks:
            print(f"== {task}", flush=True)
            uses_pnbd = task == "pnbd" or (task == "predict" and args.predict_model == "pnbd")
            if uses_pnbd and args.skip_lifetimes_pnbd:
                print("  lifetimes: skipped (--skip-lifetimes-pnbd)")
            else:
                if uses_pnbd:
                    print("  lifetimes' Pareto/NBD uses Nelder-Mead: about 7 minutes per run on 1M customers", flush=True)
                life[task] = run_lifetimes_task(args, task, work)
            if bins:
                acrm[task] = run_acrm_task(args, bins, task, work)
        result["measurement"]["parent_maxrss_bytes"] = maxrss_bytes(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        result["lifetimes"], result["acrm"] = life, acrm

        failed = {t: a["error"] for t, a in acrm.items() if "error" in a}
        acrm = {t: a for t, a in acrm.items() if "error" not in a}
        result["acrm_failures"] = failed
        table = []
        for task in args.tasks:
            lt, ac = life.get(task), acrm.get(task)
            row = {
                "task": task,
                "lifetimes_total_s": lt and lt["total_s"], "acrm_wall_s": ac and ac["wall_s"],
                "lifetimes_compute_s": lt and lt["compute_s"], "acrm_elapsed_s": ac and ac["elapsed_s"],
                "lifetimes_maxrss_bytes": lt and lt["maxrss_bytes"], "acrm_maxrss_bytes": ac and ac["maxrss_bytes"],
            }
            row["time_ratio"] = ratio(row["lifetimes_total_s"], row["acrm_wall_s"])
            row["compute_ratio"] = ratio(row["lifetimes_compute_s"], row["acrm_elapsed_s"])
            row["memory_ratio"] = ratio(row["lifetimes_maxrss_bytes"], row["acrm_maxrss_bytes"])
            table.append(row)
        result["table"] = table

        # ---- untimed agreement checks: from here on this process may grow --------------------
        print("checking agreement ...", flush=True)
        df = load_summary(args.csv)
        result["input"].update(customers=len(df), repeat_buyers=int((df["x"] > 0).sum()),
                               sum_x=int(df["x"].sum()), max_T=float(df["T"].max()))
        fit_cmp, value_cmp = {}, {}
        for task in args.tasks:
            lt, ac = life.get(task), acrm.get(task)
            models = {"clv": ("bgnbd", "gg"), "predict": (args.predict_model,)}.get(task, (task,))
            for model in models:
                key = model if task == model else f"{task}/{model}"
                lfit = lt["fits"].get(model) if lt else None
                if ac is None:
                    # lifetimes only: still show its fit, and the LL relation check
                    fit_cmp[key] = {"model": model, "lifetimes_params": lfit and lfit["params"],
                                    "lifetimes_ll": lfit and lfit["log_likelihood"], "problems": [],
                                    "status": "acrm failed" if task in failed else "lifetimes only"}
                    continue
                rep = ac["report"]
                alias = {"gamma": "v"} if model == "gg" else None
                src = rep.get("params", rep) if task != "clv" else rep
                params = find_params(src, PARAM_NAMES[model], alias)
                # only the fit runs report one model's log-likelihood; clv's is not pinned down
                fit_cmp[key] = compare_fit(args, model, lfit, params,
                                           rep.get("log_likelihood") if task != "clv" else None,
                                           named_std_errors(rep, model) if task != "clv" else None, df)
                for k in ("iterations", "converged", "customers"):
                    fit_cmp[key][f"acrm_{k}"] = rep.get(k)
            for model, lfit in (lt["fits"].items() if lt else ()):
                # Re-evaluate lifetimes' likelihood at its own optimum on the unscaled data: it
                # must equal the LL converted from the scaled fit objective (describe_fit). Done
                # here, not in the worker, so it does not count in lifetimes' peak RSS.
                key = model if task == model else f"{task}/{model}"
                direct = lifetimes_log_likelihood(model, lfit["params"], df)
                err = abs(direct - lfit["log_likelihood"])
                fit_cmp[key]["lifetimes_ll_direct"] = direct
                fit_cmp[key]["lifetimes_ll_relation_abs_error"] = err
                if err > ll_tol(args, direct):
                    fit_cmp[key]["problems"].append(f"lifetimes' LL from its scaled fit is off by {err:.3g} "
                                                    "from its direct evaluation (the scaling relation failed)")
                    fit_cmp[key]["status"] = "DISAGREE"
            if ac is not None and task in ("predict", "clv"):
                value_cmp[task] = compare_values(args, task, ac, lt, df)
        result["fit_comparison"], result["value_comparison"] = fit_cmp, value_cmp

        print_tables(result)
        for task, err in failed.items():
            print(f"acrm {task} FAILED: {err.splitlines()[0]}")
        print(f"\nmachine: {os.cpu_count()} cores, {platform.platform()}; input {args.csv.name}: "
              f"{len(df):,} customers, {result['input']['repeat_buyers']:,} repeat buyers; best of {args.runs}")

        disagree = any(c.get("status") == "DISAGREE" for c in fit_cmp.values()) or \
            any(v["problems"] for v in value_cmp.values())
        result["agree"] = None if args.lifetimes_only else not disagree
        if args.json_out:
            write_json(args.json_out, result, default=json_default)
        return 1 if failed else 2 if disagree else 0
    finally:
        if temp:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
