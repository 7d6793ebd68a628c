#!/usr/bin/env python3
"""Reference values for the survival-analysis tests (Kaplan-Meier, log-rank, Cox PH, concordance).

An independent check for the Rust tests: nothing here runs at build or test time; the files
it writes are committed and read by the tests.

Makes (next to this script, in tests/data/survival/):
  * synthetic.csv  -- seeded synthetic right-censored data, 400 rows,
                      columns duration,event,group,weight,x1,x2,x3 (see make_synthetic()).
  * rossi.csv      -- byte-for-byte copy of lifelines' bundled Rossi recidivism data
                      (lifelines/datasets/rossi.csv).
  * reference.json -- reference values from lifelines and statsmodels (full-precision floats;
                      NaN/inf are written as null). Key layout is described in README.md.
and prints sanity checks (lifelines vs statsmodels Efron agreement, CI formula check, ...).
README.md in this directory (provenance, conventions) is written by hand, not by this script.

Produced with: Python 3.11.7, lifelines 0.30.3, statsmodels 0.15.0, pandas 2.3.3,
numpy 1.26.4, scipy 1.10.1 (the versions actually used are also stored in
reference.json under "meta").

Rerun from this directory:
    /path/to/venv/bin/python make_reference.py
(e.g. /work/pyenv/bin/python make_reference.py). The output is deterministic for fixed
package versions.

Conventions observed in lifelines 0.30.3 (see README.md for details):
  * KM timeline = 0 plus every distinct duration (event times AND censoring-only times).
  * KM CI is the log(-log) ("exponential Greenwood") interval:
        lo/hi = exp(-exp(log(-log S) -/+ z * sqrt(G) / log S)),  G = sum_{t_i<=t} d_i/(n_i(n_i-d_i)),
    z = Phi^{-1}(1-alpha/2) = 1.959963984540054 (not 1.96); rows with S == 1 get (1, 1).
    For weighted KM lifelines truncates n_i to an integer (uint64) inside G only.
  * median = first timeline time with S(t) <= 0.5 (inf if never); median CI = the same rule
    applied to the lower and upper CI curves.
  * KM predict / survival_function_at_times is a right-continuous step lookup (pandas asof):
    S = 1 before the first event, last value carried forward after the last time.
  * concordance_index(times, scores, events): higher score = longer survival.
"""
import json
import math
import os
import shutil
import sys
import warnings

import numpy as np
import pandas as pd
import scipy
import scipy.stats
import statsmodels
import lifelines
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import logrank_test, multivariate_logrank_test
from lifelines.utils import concordance_index, median_survival_times
from statsmodels.duration.hazard_regression import PHReg

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20261123
KM_TIMES = [0.5, 3.0, 7.25, 15.0, 40.0]
GROUP_TIMES = [5.0, 10.0, 20.0]
Z975 = float(scipy.stats.norm.ppf(0.975))
# lifelines stops Newton-Raphson when the newton decrement or step is below `precision` or the
# relative log-lik change is below `r_precision`, and it does NOT apply the last computed step; with
# these settings it runs until the step is ~1e-16, i.e. to the optimum in double precision.
FIT_OPTIONS = {"precision": 1e-20, "r_precision": 0.0, "max_steps": 50}


# --------------------------------------------------------------------------- helpers
def num(x):
    """Python float for JSON; NaN/inf -> None."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def nums(xs):
    return [num(x) for x in xs]


# --------------------------------------------------------------------------- data
def make_synthetic():
    """400 rows: 397 generated + 3 exact duplicates of earlier rows.

    Proportional hazards: T ~ Exponential(rate = exp(b'x) / scale[group]),
    b = (x1: 0.5, x2: -0.7, x3: 0.25), scale = a:10, b:14, c:20.
    Independent censoring C ~ Uniform(0, 70) (about 31% censored). duration = round(min(T, C), 1) (clipped to >= 0.1),
    so there are many tied times; event = 1 if T <= C.
    """
    rng = np.random.default_rng(SEED)
    n0 = 397
    groups = np.array(["a", "b", "c"])
    scale = {"a": 10.0, "b": 14.0, "c": 20.0}
    g = groups[rng.integers(0, 3, size=n0)]
    x1 = rng.normal(0.0, 1.0, size=n0)
    x2 = rng.integers(0, 2, size=n0)
    x3 = rng.uniform(-2.0, 2.0, size=n0)
    lp = 0.5 * x1 - 0.7 * x2 + 0.25 * x3
    rate = np.exp(lp) / np.array([scale[v] for v in g])
    t = rng.exponential(1.0 / rate)
    c = rng.uniform(0.0, 70.0, size=n0)
    event = (t <= c).astype(int)
    dur = np.maximum(np.round(np.minimum(t, c), 1), 0.1)
    weight = np.round(rng.uniform(0.5, 2.0, size=n0), 2)
    df = pd.DataFrame(
        {
            "duration": dur,
            "event": event,
            "group": g,
            "weight": weight,
            "x1": np.round(x1, 6),
            "x2": x2,
            "x3": np.round(x3, 6),
        }
    )
    dup_idx = rng.choice(n0, size=3, replace=False)
    df = pd.concat([df, df.iloc[np.sort(dup_idx)]], ignore_index=True)
    return df


# --------------------------------------------------------------------------- KM
def greenwood_table(durations, events, weights=None):
    """Hand-written KM + Greenwood at each distinct duration (plus t=0), like lifelines' timeline."""
    durations = np.asarray(durations, float)
    events = np.asarray(events, int)
    w = np.ones_like(durations) if weights is None else np.asarray(weights, float)
    times = np.unique(np.concatenate([[0.0], durations]))
    rows = []
    s = 1.0
    gsum = 0.0
    for tt in times:
        at = durations == tt
        n = w[durations >= tt].sum()
        d = w[at & (events == 1)].sum()
        cen = w[at & (events == 0)].sum()
        if d > 0:
            s *= (n - d) / n
            denom = n * (n - d)
            gsum += d / denom if denom != 0 else 0.0
        rows.append(dict(t=tt, n=n, d=d, c=cen, s=s, gsum=gsum))
    return rows


def loglog_ci(s, gsum, z=Z975):
    if s >= 1.0 or s <= 0.0 or gsum == 0.0:
        return (1.0, 1.0) if s >= 1.0 else (float("nan"), float("nan"))
    v = math.log(s)
    se = math.sqrt(gsum)
    lo = math.exp(-math.exp(math.log(-v) - z * se / v))
    hi = math.exp(-math.exp(math.log(-v) + z * se / v))
    return lo, hi


def km_block(df, weighted):
    kmf = KaplanMeierFitter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if weighted:
            kmf.fit(df["duration"], df["event"], weights=df["weight"])
        else:
            kmf.fit(df["duration"], df["event"])
    sf = kmf.survival_function_.iloc[:, 0]
    ci = kmf.confidence_interval_
    lo_col, hi_col = ci.columns
    et = kmf.event_table
    w = df["weight"] if weighted else None
    hand = greenwood_table(df["duration"], df["event"], w)
    assert len(hand) == len(sf)
    internal_gsum = kmf._cumulative_sq_.values  # lifelines' internal Greenwood sum (private)
    # lifelines' own G, rebuilt from its event table: n truncated to an integer (uint64 cast).
    # Summing the weights in another order can land on the other side of an integer
    # (e.g. 315.99999999999994 vs 316.0), so the truncation is done on lifelines' at_risk.
    n_ll = np.floor(et["at_risk"].values.astype(float))
    d_ll = et["observed"].values.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(d_ll > 0, d_ll / (n_ll * (n_ll - d_ll)), 0.0)
    term[~np.isfinite(term)] = 0.0
    g_ll = np.cumsum(term)

    timeline = []
    max_ds = 0.0
    max_dci_exact = 0.0
    max_dci_floor = 0.0
    max_dg_floor = 0.0
    max_dg_exact = 0.0
    max_dci_196 = 0.0
    for i, tt in enumerate(sf.index):
        h = hand[i]
        assert h["t"] == tt
        s = float(sf.iloc[i])
        lo = float(ci[lo_col].iloc[i])
        hi = float(ci[hi_col].iloc[i])
        max_ds = max(max_ds, abs(s - h["s"]))
        lo_e, hi_e = loglog_ci(h["s"], h["gsum"])
        lo_f, hi_f = loglog_ci(s, g_ll[i])
        lo_9, hi_9 = loglog_ci(s, g_ll[i], z=1.96)
        max_dci_196 = max(max_dci_196, abs(lo - lo_9), abs(hi - hi_9))
        max_dci_exact = max(max_dci_exact, abs(lo - lo_e), abs(hi - hi_e))
        max_dci_floor = max(max_dci_floor, abs(lo - lo_f), abs(hi - hi_f))
        max_dg_floor = max(max_dg_floor, abs(internal_gsum[i] - g_ll[i]))
        max_dg_exact = max(max_dg_exact, abs(internal_gsum[i] - h["gsum"]))
        timeline.append(
            dict(
                t=float(tt),
                n_at_risk=float(et["at_risk"].loc[tt]),
                d=float(et["observed"].loc[tt]),
                c=float(et["removed"].loc[tt] - et["observed"].loc[tt]),
                s=s,
                lo=lo,
                hi=hi,
                lo_formula=lo_e,
                hi_formula=hi_e,
                greenwood_sum=h["gsum"],
                greenwood_var=h["s"] ** 2 * h["gsum"],
                greenwood_sum_lifelines=float(internal_gsum[i]),
            )
        )
    points = [
        {k: r[k] for k in ("t", "n_at_risk", "d", "s", "lo", "hi", "greenwood_sum", "greenwood_var", "lo_formula", "hi_formula")}
        for r in timeline
        if r["d"] > 0
    ]
    med_ci = median_survival_times(kmf.confidence_interval_)
    at_sf = kmf.survival_function_at_times(KM_TIMES)
    at_pred = kmf.predict(KM_TIMES)
    checks = dict(
        max_abs_diff_s_vs_hand=max_ds,
        max_abs_diff_ci_vs_loglog_formula_unfloored_n=max_dci_exact,
        max_abs_diff_ci_vs_loglog_formula_floored_lifelines_n=max_dci_floor,
        max_abs_diff_lifelines_gsum_vs_hand_unfloored_n=max_dg_exact,
        max_abs_diff_lifelines_gsum_vs_floored_lifelines_n=max_dg_floor,
        max_abs_diff_ci_if_z_were_1_96=max_dci_196,
    )
    out = dict(
        n=float(len(df)) if not weighted else float(df["weight"].sum()),
        events=float(df["event"].sum()) if not weighted else float((df["weight"] * df["event"]).sum()),
        alpha=0.05,
        z=Z975,
        points=points,
        timeline=timeline,
        median=num(kmf.median_survival_time_),
        median_ci=dict(lower=num(med_ci.iloc[0, 0]), upper=num(med_ci.iloc[0, 1])),
        at_times=dict(
            times=KM_TIMES,
            survival_function_at_times=nums(at_sf.values),
            predict=nums(np.atleast_1d(at_pred.values)),
        ),
        checks=checks,
    )
    return out, checks


def km_by_group(df):
    out = {}
    for g in ["a", "b", "c"]:
        sub = df[df["group"] == g]
        kmf = KaplanMeierFitter().fit(sub["duration"], sub["event"])
        mci = median_survival_times(kmf.confidence_interval_)
        out[g] = dict(
            n=int(len(sub)),
            events=int(sub["event"].sum()),
            median=num(kmf.median_survival_time_),
            median_ci=dict(lower=num(mci.iloc[0, 0]), upper=num(mci.iloc[0, 1])),
            at_times=dict(times=GROUP_TIMES, s=nums(kmf.survival_function_at_times(GROUP_TIMES).values)),
        )
    return out


# --------------------------------------------------------------------------- log-rank
def logrank_blocks(df):
    a = df[df["group"] == "a"]
    b = df[df["group"] == "b"]
    r2 = logrank_test(a["duration"], b["duration"], a["event"], b["event"])
    rm = multivariate_logrank_test(df["duration"], df["group"], df["event"])
    two = dict(
        groups=["a", "b"],
        test_statistic=float(r2.test_statistic),
        p_value=float(r2.p_value),
        df=int(r2.degrees_of_freedom),
    )
    multi = dict(
        groups=["a", "b", "c"],
        test_statistic=float(rm.test_statistic),
        p_value=float(rm.p_value),
        degrees_of_freedom=int(rm.degrees_of_freedom),
    )
    return two, multi


# --------------------------------------------------------------------------- Cox
def sm_fit(df, dcol, ecol, covs, ties):
    mod = PHReg(df[dcol].values.astype(float), df[covs].values.astype(float), status=df[ecol].values, ties=ties)
    res = mod.fit(method="newton", maxiter=200, tol=1e-14)
    params = np.asarray(res.params)
    bse = np.asarray(res.bse)
    return dict(
        covariates=covs,
        params={c: float(v) for c, v in zip(covs, params)},
        bse={c: float(v) for c, v in zip(covs, bse)},
        llf=float(res.llf),
        loglike_null=float(mod.loglike(np.zeros(len(covs)))),
    ), params, bse


def lifelines_cox(df, dcol, ecol, covs):
    # Tight convergence so the stored values are the converged optimum (lifelines' default
    # stopping rules (precision=1e-7, r_precision=1e-9) leave ~5e-9 (rossi) and ~3e-7 (synthetic)
    # error in the coefficients; that difference is stored as default_fit_options_max_abs_coef_change).
    cph_default = CoxPHFitter().fit(df[[dcol, ecol] + covs], duration_col=dcol, event_col=ecol)
    cph = CoxPHFitter()
    cph.fit(df[[dcol, ecol] + covs], duration_col=dcol, event_col=ecol, fit_options=FIT_OPTIONS)
    s = cph.summary
    per = {}
    for c in covs:
        per[c] = dict(
            coef=float(s.loc[c, "coef"]),
            se=float(s.loc[c, "se(coef)"]),
            exp_coef=float(s.loc[c, "exp(coef)"]),
            z=float(s.loc[c, "z"]),
            p=float(s.loc[c, "p"]),
        )
    # concordance via the public utility, score = -partial hazard
    ph = cph.predict_partial_hazard(df[covs]).values
    cidx = concordance_index(df[dcol], -ph, df[ecol])
    block = dict(
        covariates=covs,
        ties="efron",
        penalizer=0.0,
        fit_options=FIT_OPTIONS,
        default_fit_options_max_abs_coef_change=float(
            np.max(np.abs(cph_default.params_.loc[covs].values - cph.params_.loc[covs].values))
        ),
        coefficients=per,
        variance_matrix=[[float(v) for v in row] for row in cph.variance_matrix_.loc[covs, covs].values],
        log_likelihood=float(cph.log_likelihood_),
        concordance_index=float(cph.concordance_index_),
        concordance_index_utils=float(cidx),
    )
    # Baseline (Breslow, at the covariate means) and predictions for the first rows, at
    # baseline times (lifelines interpolates linearly between them; acrm steps).
    bch = cph.baseline_cumulative_hazard_
    block["baseline_cumulative_hazard"] = dict(
        times=[float(t) for t in bch.index], values=[float(v) for v in bch.iloc[:, 0].values]
    )
    block["baseline_mean"] = {c: float(v) for c, v in zip(covs, np.asarray(cph._norm_mean))}
    rows = df[covs].iloc[:6]
    times = [float(t) for t in bch.index[[0, len(bch) // 3, 2 * len(bch) // 3, len(bch) - 1]]]
    sf = cph.predict_survival_function(rows, times=times)
    med = cph.predict_median(rows)
    block["predict_rows"] = [[float(v) for v in r] for r in rows.values]
    block["predict_times"] = times
    block["predict_survival"] = [[float(sf.iloc[k, i]) for k in range(len(times))] for i in range(len(rows))]
    block["predict_median"] = [None if not np.isfinite(m) else float(m) for m in np.asarray(med)]
    coefs = np.array([per[c]["coef"] for c in covs])
    ses = np.array([per[c]["se"] for c in covs])
    return block, coefs, ses


def cox_blocks(df, dcol, ecol, covs, label, diffs):
    ll, lc, ls = lifelines_cox(df, dcol, ecol, covs)
    sme, sp, sb = sm_fit(df, dcol, ecol, covs, "efron")
    smb, bp, _ = sm_fit(df, dcol, ecol, covs, "breslow")
    eff = dict(lifelines=ll, statsmodels=sme)
    d = dict(
        max_abs_diff_coef=float(np.max(np.abs(lc - sp))),
        max_abs_diff_se=float(np.max(np.abs(ls - sb))),
        abs_diff_loglik=float(abs(ll["log_likelihood"] - sme["llf"])),
    )
    eff["agreement"] = d
    diffs[label] = d
    bres = dict(statsmodels=smb)
    # statsmodels' baseline of the Breslow fit is at x = 0 (not centred), at event times.
    mod = PHReg(df[dcol].values.astype(float), df[covs].values.astype(float), status=df[ecol].values,
                ties="breslow")
    res = mod.fit(method="newton", maxiter=200, tol=1e-14)
    bt, bh, _ = res.baseline_cumulative_hazard[0]
    bres["statsmodels"]["baseline_cumulative_hazard_at_zero"] = dict(
        times=[float(t) for t in bt], values=[float(v) for v in bh]
    )
    bres["statsmodels"]["concordance_index_utils"] = float(
        concordance_index(df[dcol], -(df[covs].values.astype(float) @ bp), df[ecol])
    )
    eff["statsmodels"]["concordance_index_utils"] = float(
        concordance_index(df[dcol], -(df[covs].values.astype(float) @ sp), df[ecol])
    )
    return eff, bres


# --------------------------------------------------------------------------- concordance
def brute_concordance(times, scores, events):
    """Harrell's C, lifelines convention: pair (i, j) comparable if i had the event and
    T_i < T_j, or T_i == T_j and j is censored. Concordant if score_i < score_j; score tie = 0.5."""
    num_, den = 0.0, 0
    n = len(times)
    for i in range(n):
        if not events[i]:
            continue
        for j in range(n):
            if i == j:
                continue
            if times[i] < times[j] or (times[i] == times[j] and not events[j]):
                den += 1
                if scores[i] < scores[j]:
                    num_ += 1.0
                elif scores[i] == scores[j]:
                    num_ += 0.5
    return num_ / den, den


def concordance_small():
    cases = [
        dict(  # ties in time (event/event and event/censored), censored rows, no score ties
            name="time_ties",
            times=[1.0, 2.0, 2.0, 3.0, 4.0, 4.0, 5.0, 6.0],
            scores=[1.2, 1.5, 1.0, 3.0, 2.5, 4.0, 3.5, 5.0],
            events=[1, 1, 1, 0, 1, 0, 1, 1],
        ),
        dict(  # ties in score, censored rows, one discordant-ish pattern
            name="score_ties",
            times=[2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
            scores=[1.0, 1.0, 2.0, 2.0, 1.5, 3.0, 3.0],
            events=[1, 0, 1, 1, 0, 1, 1],
        ),
        dict(  # ties in both time and score, leading censored row, censored at last time
            name="mixed_ties",
            times=[1.0, 1.0, 2.0, 3.0, 3.0, 3.0, 4.0, 5.0, 6.0, 6.0],
            scores=[2.0, 1.0, 2.0, 4.0, 3.0, 3.0, 2.5, 6.0, 5.0, 5.0],
            events=[0, 1, 1, 1, 1, 0, 1, 0, 1, 0],
        ),
    ]
    for c in cases:
        v = concordance_index(c["times"], c["scores"], c["events"])
        b, npairs = brute_concordance(c["times"], c["scores"], c["events"])
        assert abs(v - b) < 1e-15, (c["name"], v, b)
        c["value"] = float(v)
        c["comparable_pairs"] = npairs
    return cases


# --------------------------------------------------------------------------- main
def main():
    os.chdir(HERE)
    syn = make_synthetic()
    syn.to_csv("synthetic.csv", index=False)
    syn = pd.read_csv("synthetic.csv")  # use exactly what the tests will read

    rossi_src = os.path.join(os.path.dirname(lifelines.datasets.__file__), "rossi.csv")
    shutil.copyfile(rossi_src, "rossi.csv")
    rossi = pd.read_csv("rossi.csv")
    assert rossi.equals(lifelines.datasets.load_rossi())

    # ---- sanity on the synthetic data
    n_dup = int(syn.duplicated().sum())
    tt = syn.groupby("duration")["event"].agg(["min", "max"])
    mixed_times = tt[(tt["min"] == 0) & (tt["max"] == 1)].index.tolist()
    print(f"synthetic: n={len(syn)}, censored={1 - syn['event'].mean():.3f}, "
          f"distinct times={syn['duration'].nunique()}, exact duplicate rows={n_dup}, "
          f"times with events+censorings tied={len(mixed_times)}, max time={syn['duration'].max()}")
    print(syn.groupby("group").agg(n=("event", "size"), events=("event", "sum"), mean_t=("duration", "mean")))
    assert n_dup >= 3 and len(mixed_times) >= 1

    ref = {}
    ref["meta"] = dict(
        generated_by="make_reference.py",
        python=sys.version.split()[0],
        lifelines=lifelines.__version__,
        statsmodels=statsmodels.__version__,
        pandas=pd.__version__,
        numpy=np.__version__,
        scipy=scipy.__version__,
        synthetic_seed=SEED,
        null_means="NaN or infinity (e.g. a median that is never reached)",
    )
    ref["ci_formula"] = (
        "lifelines KaplanMeierFitter CI (exponential Greenwood / log(-log)): "
        "G(t) = sum_{t_i <= t, d_i > 0} d_i / (n_i (n_i - d_i)); "
        "lo = exp(-exp(log(-log S) - z*sqrt(G)/log S)), hi = exp(-exp(log(-log S) + z*sqrt(G)/log S)), "
        "z = norm.ppf(1 - alpha/2) = 1.959963984540054 for alpha=0.05 (exact quantile, not 1.96); "
        "where S == 1 (e.g. t=0) lo = hi = 1. Greenwood variance var(S) = S^2 * G is stored as greenwood_var. "
        "Weighted fit: S uses the float weighted counts, but lifelines casts n_i to uint64 (truncates) "
        "inside G only, so its weighted CI is reproduced with floor(n_i) in G (greenwood_sum_lifelines); "
        "greenwood_sum/greenwood_var use the untruncated weighted n_i. See 'checks' in each km block."
    )

    km, ck = km_block(syn, weighted=False)
    ref["km_synthetic"] = km
    kmw, ckw = km_block(syn, weighted=True)
    ref["km_synthetic_weighted"] = kmw
    print("KM unweighted checks:", ck)
    print("KM weighted checks:  ", ckw)
    ref["km_by_group"] = km_by_group(syn)
    ref["logrank_two"], ref["logrank_multi"] = logrank_blocks(syn)

    diffs = {}
    rossi_covs = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]
    ref["cox_rossi_efron"], ref["cox_rossi_breslow"] = cox_blocks(rossi, "week", "arrest", rossi_covs, "rossi", diffs)
    syn_covs = ["x1", "x2", "x3"]
    ref["cox_synthetic_efron"], ref["cox_synthetic_breslow"] = cox_blocks(
        syn, "duration", "event", syn_covs, "synthetic", diffs
    )
    print("lifelines vs statsmodels (Efron):", diffs)
    ref["concordance_small"] = concordance_small()

    with open("reference.json", "w") as f:
        json.dump(ref, f, indent=1, allow_nan=False)
        f.write("\n")

    # ---- quick summaries
    print("KM median", km["median"], km["median_ci"], "at", km["at_times"])
    print("KM weighted median", kmw["median"], kmw["median_ci"])
    print("by group", {g: (v["n"], v["events"], v["median"]) for g, v in ref["km_by_group"].items()})
    print("logrank", ref["logrank_two"], ref["logrank_multi"])
    for k in ["cox_rossi_efron", "cox_synthetic_efron"]:
        print(k, {c: round(v["coef"], 6) for c, v in ref[k]["lifelines"]["coefficients"].items()},
              "ll", ref[k]["lifelines"]["log_likelihood"], "C", ref[k]["lifelines"]["concordance_index"])
    for k in ["cox_rossi_breslow", "cox_synthetic_breslow"]:
        print(k, {c: round(v, 6) for c, v in ref[k]["statsmodels"]["params"].items()}, "llf", ref[k]["statsmodels"]["llf"])
    print("concordance_small", [(c["name"], c["value"]) for c in ref["concordance_small"]])


if __name__ == "__main__":
    main()
