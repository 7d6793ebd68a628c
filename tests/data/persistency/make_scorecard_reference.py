#!/usr/bin/env python3
"""Reference numbers for acrm's BG/NBD holdout scorecard on the CDNOW sample.

An independent check for the Rust tests: nothing here runs at build or test
time; the file it writes (scorecard_cdnow.json, next to this script) is
committed and read by the tests.

What it computes, at the BG/NBD MLE on the CDNOW sample (the fitted values
of bgnbd_cdnow.json):
  1. per customer E[X(T, T+39) | x, t_x, T] (Fader, Hardie & Lee 2005a,
     eq. 10, horizon 273/7 weeks) against the holdout purchases; MAE, RMSE,
     bias, Pearson correlation, totals;
  2. the same averaged by calibration frequency x = 0..6 and "7+";
  3. the cumulative repeat-purchase tracking series, weekly from the first
     day of the data (1997-01-01) to the holdout end, predicted with E[X(t)]
     of a new customer (eq. 9) summed over the customers already acquired.

Every quantity is computed with the script's own implementation (mpmath,
mp.dps = 40) and, where lifetimes has the function, with lifetimes 0.11.3
(BetaGeoFitter with params_ set; float64). The file records both and their
largest differences. lifetimes.utils.expected_cumulative_transactions is run
too, for information (its actual counts use a different cut-off; see the
"comment" field in the output).

Conventions (must match the Rust side):
  * customers = sample ids (column 2 of CDNOW_sample.txt), 2,357 customers,
    all with a first purchase on or before the calibration end;
  * several transactions by a customer on the same day are one purchase;
  * calibration end 1997-09-30 inclusive, holdout end 1998-06-30 inclusive,
    holdout = (1997-09-30, 1998-06-30] = 273 days = 39 weeks;
  * x = distinct purchase days after the first, up to the calibration end;
    t_x = (last such day - first day)/7 (0 if x = 0);
    T = (calibration end - first day)/7; weeks = days/7;
  * holdout purchases = distinct purchase days in the holdout period.
  The calibration summary is checked against
  tests/data/cdnow/cdnow_customers_summary_with_transactions.csv (2 decimals)
  and the holdout counts against tests/data/cdnow_sample_holdout_lifetimes.csv.

In mpmath, times are the exact rationals days/7; lifetimes gets the float64
of days/7.

Versions used: Python 3.11.7, lifetimes 0.11.3, pandas 1.5.3, numpy 1.24.4,
scipy 1.10.1, mpmath 1.4.1 (pins: requirements.txt here).

Run from the repository root:
    /work/pyenv/bin/python tests/data/persistency/make_scorecard_reference.py
Takes a few seconds.
"""

import datetime as dt
import json
import math
import sys
import warnings
from pathlib import Path

import mpmath
import numpy as np
import pandas as pd
import scipy
import lifetimes
from lifetimes import BetaGeoFitter
from lifetimes.utils import expected_cumulative_transactions
from mpmath import mp, mpf

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
SAMPLE = REPO / "tests" / "data" / "cdnow" / "CDNOW_sample.txt"
SUMMARY = REPO / "tests" / "data" / "cdnow" / "cdnow_customers_summary_with_transactions.csv"
HOLDOUT_CSV = REPO / "tests" / "data" / "cdnow_sample_holdout_lifetimes.csv"
OUT = HERE / "scorecard_cdnow.json"

mp.dps = 40
warnings.simplefilter("ignore")

VERSIONS = {
    "python": sys.version.split()[0],
    "lifetimes": lifetimes.__version__,
    "pandas": pd.__version__,
    "numpy": np.__version__,
    "scipy": scipy.__version__,
    "mpmath": mpmath.__version__,
    "mp_dps": mp.dps,
}

CAL_END = dt.date(1997, 9, 30)
HOLDOUT_END = dt.date(1998, 6, 30)
HOLDOUT_DAYS = (HOLDOUT_END - CAL_END).days  # 273

# BG/NBD maximum-likelihood estimates on the CDNOW sample (weeks), as in
# bgnbd_cdnow.json ("fitted").
PARAMS = {
    "r": 0.24259290718880555,
    "alpha": 4.4135315608340235,
    "a": 0.7928861483469273,
    "b": 2.425753437335136,
}
P_MP = tuple(mpf(PARAMS[k]) for k in ("r", "alpha", "a", "b"))

FREQ_BINS = ["0", "1", "2", "3", "4", "5", "6", "7+"]


# --------------------------------------------------------------------------
# BG/NBD closed forms (Fader, Hardie & Lee 2005a), mpmath
# --------------------------------------------------------------------------


def bg_cond_exp(p, t, x, tx, T):
    """eq. (10): E[X(T, T+t) | x, t_x, T]; t, tx, T are mpf."""
    r, al, a, b = p
    num = (a + b + x - 1) / (a - 1) * (
        1 - ((al + T) / (al + T + t)) ** (r + x) * mp.hyp2f1(r + x, b + x, a + b + x - 1, t / (al + T + t))
    )
    den = 1 + (a / (b + x - 1) * ((al + T) / (al + tx)) ** (r + x) if x > 0 else 0)
    return num / den


def bg_uncond_exp(p, t):
    """eq. (9): E[X(t)] for a customer acquired at time 0."""
    r, al, a, b = p
    return (a + b - 1) / (a - 1) * (1 - (al / (al + t)) ** r * mp.hyp2f1(r, b, a + b - 1, t / (al + t)))


# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------


def load_transactions():
    tx = pd.read_csv(
        SAMPLE,
        sep=r"\s+",
        header=None,
        names=["master_id", "id", "date", "cds", "dollars"],
        dtype={"master_id": str, "id": int, "date": str, "cds": int, "dollars": float},
    )
    assert len(tx) == 6919, len(tx)
    tx["day"] = pd.to_datetime(tx["date"], format="%Y%m%d").dt.date
    assert tx["day"].max() <= HOLDOUT_END
    return tx


def per_customer(tx):
    """dict id -> {first, days (sorted distinct purchase days), day_spend}"""
    out = {}
    for cid, g in tx.groupby("id"):
        spend = g.groupby("day")["dollars"].sum().sort_index()
        days = list(spend.index)
        out[int(cid)] = {"first": days[0], "days": days, "spend": [float(v) for v in spend.values]}
    assert sorted(out) == list(range(1, 2358))
    return out


def summarise(cust):
    rows = []
    for cid in sorted(cust):
        c = cust[cid]
        first = c["first"]
        assert first <= CAL_END
        cal_days = [d for d in c["days"] if d <= CAL_END]
        rep = cal_days[1:]
        hold = [d for d in c["days"] if CAL_END < d <= HOLDOUT_END]
        rep_spend = [s for d, s in zip(c["days"], c["spend"]) if first < d <= CAL_END]
        rows.append(
            {
                "id": cid,
                "first": first,
                "x": len(rep),
                "tx_days": (rep[-1] - first).days if rep else 0,
                "T_days": (CAL_END - first).days,
                "zbar": sum(rep_spend) / len(rep_spend) if rep_spend else 0.0,
                "holdout": len(hold),
            }
        )
    return rows


def check_summary(rows):
    ref = pd.read_csv(SUMMARY)
    assert list(ref.columns) == ["ID", "x", "t_x", "T", "zbar"]
    assert len(ref) == len(rows)
    worst = {"t_x": 0.0, "T": 0.0, "zbar": 0.0}
    for row, (_, r) in zip(rows, ref.iterrows()):
        assert int(r["ID"]) == row["id"]
        assert int(r["x"]) == row["x"], (row, r)
        for key, mine in (("t_x", row["tx_days"] / 7), ("T", row["T_days"] / 7), ("zbar", row["zbar"])):
            d = abs(mine - float(r[key]))
            assert d <= 0.005 + 1e-9, (key, row, r)
            worst[key] = max(worst[key], d)
    hold = pd.read_csv(HOLDOUT_CSV)
    assert list(hold["id"]) == [r["id"] for r in rows]
    assert list(hold["holdout_purchases"]) == [r["holdout"] for r in rows]
    assert list(hold["x"]) == [r["x"] for r in rows]
    assert list(hold["t_x_days"]) == [r["tx_days"] for r in rows]
    assert list(hold["T_days"]) == [r["T_days"] for r in rows]
    return {
        "summary_file": "tests/data/cdnow/cdnow_customers_summary_with_transactions.csv",
        "x": "equal for all 2357 customers",
        "max_abs_diff_2dp": worst,
        "holdout_file": "tests/data/cdnow_sample_holdout_lifetimes.csv",
        "holdout": "x, t_x_days, T_days and holdout_purchases equal for all 2357 customers",
    }


# --------------------------------------------------------------------------
# statistics
# --------------------------------------------------------------------------


def stats(pred, act):
    """pred: list of mpf (or float), act: list of int. Returns mpf values."""
    n = len(pred)
    pred = [mpf(p) for p in pred]
    act = [mpf(a) for a in act]
    err = [p - a for p, a in zip(pred, act)]
    mae = mp.fsum(abs(e) for e in err) / n
    rmse = mp.sqrt(mp.fsum(e * e for e in err) / n)
    bias = mp.fsum(err) / n
    mp_ = mp.fsum(pred) / n
    ma = mp.fsum(act) / n
    sxy = mp.fsum((p - mp_) * (a - ma) for p, a in zip(pred, act))
    sxx = mp.fsum((p - mp_) ** 2 for p in pred)
    syy = mp.fsum((a - ma) ** 2 for a in act)
    corr = sxy / mp.sqrt(sxx * syy)
    return {
        "mae": mae,
        "rmse": rmse,
        "bias": bias,
        "correlation": corr,
        "predicted_total": mp.fsum(pred),
        "actual_total": mp.fsum(act),
    }


def freq_bin(x):
    return str(x) if x <= 6 else "7+"


def by_frequency(rows, pred):
    out = []
    for name in FREQ_BINS:
        idx = [i for i, r in enumerate(rows) if freq_bin(r["x"]) == name]
        out.append(
            {
                "frequency": name,
                "customers": len(idx),
                "mean_predicted": mp.fsum(mpf(pred[i]) for i in idx) / len(idx),
                "mean_actual": mpf(sum(rows[i]["holdout"] for i in idx)) / len(idx),
            }
        )
    return out


def f(v):
    v = float(v)
    assert math.isfinite(v)
    return v


def main():
    tx = load_transactions()
    cust = per_customer(tx)
    rows = summarise(cust)
    checks = check_summary(rows)
    n = len(rows)

    # ---------------- 1. per-customer holdout predictions -----------------
    horizon = mpf(HOLDOUT_DAYS) / 7
    pred_mp = [
        bg_cond_exp(P_MP, horizon, r["x"], mpf(r["tx_days"]) / 7, mpf(r["T_days"]) / 7) for r in rows
    ]
    actual = [r["holdout"] for r in rows]

    bgf = BetaGeoFitter()
    bgf.params_ = pd.Series(PARAMS)
    x_arr = np.array([r["x"] for r in rows], dtype=float)
    tx_arr = np.array([r["tx_days"] for r in rows], dtype=float) / 7
    T_arr = np.array([r["T_days"] for r in rows], dtype=float) / 7
    pred_lt = np.asarray(
        bgf.conditional_expected_number_of_purchases_up_to_time(HOLDOUT_DAYS / 7, x_arr, tx_arr, T_arr),
        dtype=float,
    )
    assert np.all(np.isfinite(pred_lt))
    per_cust_rel = [abs(float(pl) - float(pm)) / float(pm) for pl, pm in zip(pred_lt, pred_mp)]

    s_mp = stats(pred_mp, actual)
    s_lt = stats([float(v) for v in pred_lt], actual)  # float64 inputs, summed in mpmath
    # plain float64 / numpy statistics of the lifetimes predictions
    err = pred_lt - np.array(actual, dtype=float)
    s_np = {
        "mae": float(np.mean(np.abs(err))),
        "rmse": float(np.sqrt(np.mean(err ** 2))),
        "bias": float(np.mean(err)),
        "correlation": float(np.corrcoef(pred_lt, np.array(actual, dtype=float))[0, 1]),
        "predicted_total": float(np.sum(pred_lt)),
        "actual_total": float(np.sum(actual)),
    }
    bf_mp = by_frequency(rows, pred_mp)
    bf_lt = by_frequency(rows, [float(v) for v in pred_lt])

    # ---------------- 3. tracking -----------------------------------------
    start = min(r["first"] for r in rows)
    total_days = (HOLDOUT_END - start).days
    steps = -(-total_days // 7)
    first_off = [(r["first"] - start).days for r in rows]
    acq = pd.Series(first_off).value_counts().sort_index()  # offset -> customers acquired that day
    repeat_off = []
    for cid in sorted(cust):
        c = cust[cid]
        repeat_off += [(d - start).days for d in c["days"][1:] if d <= HOLDOUT_END]
    repeat_off = np.array(sorted(repeat_off))

    ex_cache = {}

    def ex_days(days):
        if days not in ex_cache:
            ex_cache[days] = bg_uncond_exp(P_MP, mpf(days) / 7)
        return ex_cache[days]

    points = []
    lt_points = []
    max_track_rel = 0.0
    for k in range(1, steps + 1):
        days_k = min(7 * k, total_days)
        act_k = int(np.sum(repeat_off <= days_k))
        pred_k = mp.fsum(cnt * ex_days(days_k - d) for d, cnt in acq.items() if d < days_k)
        ds = np.array([days_k - d for d, cnt in acq.items() if d < days_k], dtype=float) / 7
        cs = np.array([cnt for d, cnt in acq.items() if d < days_k], dtype=float)
        pred_k_lt = float(np.sum(bgf.expected_number_of_purchases_up_to_time(ds) * cs))
        max_track_rel = max(max_track_rel, abs(pred_k_lt - float(pred_k)) / float(pred_k))
        date_k = start + dt.timedelta(days=days_k)
        points.append({"k": k, "date": date_k.isoformat(), "t": days_k / 7, "actual": act_k, "predicted": f(pred_k)})
        lt_points.append({"k": k, "predicted": pred_k_lt})

    # lifetimes.utils.expected_cumulative_transactions, for information
    ect_tx = pd.DataFrame({"id": tx["id"], "date": pd.to_datetime(tx["date"], format="%Y%m%d")})
    ect_t = 7 * steps  # lifetimes only produces whole weeks
    ect = expected_cumulative_transactions(
        bgf, ect_tx, "date", "id", ect_t, freq="D", freq_multiplier=7, set_index_date=True
    )
    ect_points = []
    for j, (idx, row) in enumerate(ect.iterrows(), start=1):
        ect_points.append(
            {
                "k": j,
                "index_date": str(idx),
                "actual": int(row["actual"]),
                "predicted": float(row["predicted"]),
            }
        )
    # compare: lifetimes predicted at 7k days vs ours (identical definition for 7k <= total_days)
    ect_pred_rel = max(
        abs(e["predicted"] - p["predicted"]) / p["predicted"]
        for e, p in zip(ect_points, points)
        if 7 * p["k"] <= total_days
    )
    # lifetimes actual at k counts offsets <= 7k-1
    ect_act_mine = [int(np.sum(repeat_off <= 7 * j - 1)) for j in range(1, len(ect_points) + 1)]
    assert ect_act_mine == [e["actual"] for e in ect_points], "unexpected lifetimes actual definition"

    def numbers(s):
        return {k: f(v) for k, v in s.items()}

    def bf_json(bf):
        return [
            {
                "frequency": b["frequency"],
                "customers": b["customers"],
                "mean_predicted": f(b["mean_predicted"]),
                "mean_actual": f(b["mean_actual"]),
            }
            for b in bf
        ]

    s = numbers(s_mp)
    out = {
        "source": (
            "tests/data/persistency/make_scorecard_reference.py: BG/NBD holdout scorecard on the CDNOW sample "
            "(tests/data/cdnow/CDNOW_sample.txt). Primary values: own implementation of Fader, Hardie & Lee (2005a) "
            "'Counting your customers the easy way', eq. (10) (conditional expectation) and eq. (9) (E[X(t)] of a new "
            "customer), mpmath.hyp2f1 at mp.dps = %d; summary statistics summed in mpmath. Cross-check: lifetimes "
            "%s BetaGeoFitter with params_ set (float64)." % (mp.dps, lifetimes.__version__)
        ),
        "versions": VERSIONS,
        "conventions": {
            "customers": "sample ids 1..2357 (column 2 of CDNOW_sample.txt); all have a first purchase on or before the calibration end",
            "same_day": "several transactions by a customer on the same day are one purchase",
            "calibration_end": CAL_END.isoformat() + " (inclusive)",
            "holdout_end": HOLDOUT_END.isoformat() + " (inclusive)",
            "holdout": "purchase days d with %s < d <= %s: %d days = %r weeks" % (CAL_END, HOLDOUT_END, HOLDOUT_DAYS, HOLDOUT_DAYS / 7),
            "x": "distinct purchase days after the first, up to the calibration end",
            "t_x": "(last repeat purchase day - first purchase day) / 7, 0 if x = 0",
            "T": "(calibration end - first purchase day) / 7",
            "time_unit": "weeks = days / 7; mpmath uses the exact rationals days/7, lifetimes the float64 of days/7",
            "holdout_actual": "distinct purchase days in the holdout period",
            "prediction": "E[X(T, T+t) | x, t_x, T] with t = 273/7 (FHL 2005a eq. 10)",
            "mae": "mean |pred - actual| over customers",
            "rmse": "sqrt(mean (pred - actual)^2)",
            "bias": "mean (pred - actual)",
            "correlation": "Pearson correlation of pred and actual over customers",
            "by_frequency": "customers grouped by calibration x = 0..6 and 7+; means over the group",
            "tracking": (
                "start = earliest first purchase day; steps = ceil((holdout_end - start) days / 7); for k = 1..steps, "
                "days_k = min(7k, holdout_end - start); date = start + days_k; t = days_k / 7; actual = number of "
                "repeat purchase days (distinct purchase days after a customer's first, up to the holdout end) with "
                "(day - start) <= days_k; predicted = sum over customers with first-purchase offset d < days_k of "
                "E[X((days_k - d)/7)] (FHL 2005a eq. 9). Week 1 therefore covers offsets 1..7 (first purchases at "
                "offset 0 are not repeats), i.e. purchases on start+1 .. start+7 inclusive."
            ),
        },
        "params": dict(PARAMS, note="BG/NBD MLE on the CDNOW sample calibration data (weeks), as in bgnbd_cdnow.json 'fitted'"),
        "calibration_checks": checks,
        "scorecard": {
            "customers": n,
            "horizon": HOLDOUT_DAYS / 7,
            "horizon_days": HOLDOUT_DAYS,
            "mae": s["mae"],
            "rmse": s["rmse"],
            "bias": s["bias"],
            "correlation": s["correlation"],
            "predicted_total": s["predicted_total"],
            "actual_total": int(s_mp["actual_total"]),
            "by_frequency": bf_json(bf_mp),
            "mpmath_30_digits": {k: mpmath.nstr(v, 30) for k, v in s_mp.items()},
        },
        "tracking": {
            "start": start.isoformat(),
            "end": HOLDOUT_END.isoformat(),
            "total_days": total_days,
            "steps": steps,
            "points": points,
        },
        "lifetimes": {
            "comment": (
                "Same quantities from lifetimes %s BetaGeoFitter (params_ set to the values above). "
                "'scorecard' sums the float64 lifetimes predictions in mpmath; 'scorecard_numpy' is plain numpy "
                "float64 (np.mean, np.corrcoef). 'tracking_predicted' = sum over acquisition days of "
                "expected_number_of_purchases_up_to_time((days_k - d)/7) times the customers acquired on day d."
                % lifetimes.__version__
            ),
            "scorecard": dict(numbers(s_lt), by_frequency=bf_json(bf_lt)),
            "scorecard_numpy": s_np,
            "tracking_predicted": lt_points,
            "max_rel_diff_vs_mpmath": {
                "per_customer_prediction": max(per_cust_rel),
                "tracking_predicted": max_track_rel,
                "scorecard": {k: abs(f(s_lt[k]) - f(s_mp[k])) / abs(f(s_mp[k])) for k in s_mp},
                "scorecard_numpy": {k: abs(s_np[k] - f(s_mp[k])) / abs(f(s_mp[k])) for k in s_mp},
                "by_frequency_mean_predicted": max(
                    abs(f(a["mean_predicted"]) - f(b["mean_predicted"])) / f(b["mean_predicted"])
                    for a, b in zip(bf_lt, bf_mp)
                ),
            },
            "max_abs_diff_vs_mpmath": {
                "per_customer_prediction": max(abs(float(pl) - float(pm)) for pl, pm in zip(pred_lt, pred_mp)),
                "tracking_predicted": max(abs(a["predicted"] - b["predicted"]) for a, b in zip(lt_points, points)),
            },
            "expected_cumulative_transactions": {
                "call": (
                    "lifetimes.utils.expected_cumulative_transactions(model, transactions[id, date], 'date', 'id', "
                    "t=%d, freq='D', freq_multiplier=7, set_index_date=True)" % ect_t
                ),
                "comment": (
                    "Differences from 'tracking': (1) lifetimes' actual at step k counts repeat purchase days with "
                    "offset <= 7k-1 (days start .. start+7k-1; cumulative sum of the first 7k daily counts), ours "
                    "counts offset <= 7k, so lifetimes' actual at k equals ours at offset 7k-1 (checked by the "
                    "script); its index_date is start + 7k - 1. (2) Its predicted at step k is the same sum as ours "
                    "at days_k = 7k (max relative difference vs mpmath for 7k <= %d: %r). (3) It only has whole "
                    "weeks: with t = %d the last step is at 7*%d = %d days (1998-07-01 for the prediction), one day "
                    "past the holdout end, where ours stops at %d days."
                    % (total_days, ect_pred_rel, ect_t, steps, 7 * steps, total_days)
                ),
                "max_rel_diff_predicted_vs_mpmath_whole_weeks": ect_pred_rel,
                "points": ect_points,
            },
        },
    }
    with open(OUT, "w") as fh:
        json.dump(out, fh, indent=2, allow_nan=False)
        fh.write("\n")
    print("wrote", OUT.relative_to(REPO))

    # short report
    print({k: out["scorecard"][k] for k in ("customers", "horizon", "mae", "rmse", "bias", "correlation", "predicted_total", "actual_total")})
    for b in out["scorecard"]["by_frequency"]:
        print(b)
    print("steps", steps, "k=39", points[38], "last", points[-1])
    print("lifetimes max diffs", out["lifetimes"]["max_rel_diff_vs_mpmath"], out["lifetimes"]["max_abs_diff_vs_mpmath"])
    print("ect last", ect_points[-1], "ect k=39", ect_points[38])


if __name__ == "__main__":
    main()
