#!/usr/bin/env python3
"""Reference numbers for acrm's buy-till-you-die ("persistency") models.

An independent check for the Rust tests: nothing here runs at build or test
time; the JSON/CSV files it writes (next to this script) are committed and
read by the tests.

What it computes
  bgnbd_cdnow.json       BG/NBD (lifetimes BetaGeoFitter) fitted on the CDNOW
                         sample calibration summary; total log-likelihood; per-
                         customer LL, P(alive), conditional expectations,
                         E[X(t)], P(X(t)=n) at the published and fitted params.
  mbgnbd_cdnow.json      the same for MBG/NBD (ModifiedBetaGeoFitter).
  pareto_cdnow.json      Pareto/NBD (ParetoNBDFitter) fit + per-customer values,
                         plus ~64 extreme cases computed with mpmath (dps=50)
                         and what lifetimes returns for them.
  gammagamma_cdnow.json  Gamma-Gamma (GammaGammaFitter) on the 946 repeat buyers.
  clv_cdnow.json         lifetimes GammaGammaFitter.customer_lifetime_value with
                         the fitted BG/NBD (time=12, discount_rate=0.01, freq='W').
  bgbb_donations.json    BG/BB (BetaGeoBetaBinomFitter) on lifetimes' donations
                         data; donations.csv is that data set.
  sbg.json               shifted-beta-geometric fits of Fader & Hardie (2007)
                         "regular" / "high end" cohorts, S(t), r(t), DEL/DERL.

Every model quantity is given twice where possible: "lifetimes" (what the
Python package returns, float64) and "mpmath" (my own implementation of the
closed-form formulas of the papers, evaluated with mpmath at mp.dps = 50 unless
stated).  Inputs are the IEEE doubles of the decimal values shown, converted
exactly to mpmath (mpf(float)).  Non-finite lifetimes results are written as
null and listed under "lifetimes_nonfinite".

Versions used: Python 3.11.7, lifetimes 0.11.3, pandas 1.5.3, numpy 1.24.4,
scipy 1.10.1, autograd 1.9.1, mpmath 1.4.1 (pins: requirements.txt here).

Run from the repository root:
    /work/pyenv/bin/python tests/data/persistency/make_reference.py
Runs in well under a minute; every fit is deterministic (fixed initial values).
"""

import contextlib
import io
import json
import math
import sys
import time
import warnings
from pathlib import Path

import mpmath
import numpy as np
import pandas as pd
import scipy
import scipy.optimize
import lifetimes
from lifetimes import (
    BetaGeoBetaBinomFitter,
    BetaGeoFitter,
    GammaGammaFitter,
    ModifiedBetaGeoFitter,
    ParetoNBDFitter,
)
from lifetimes.datasets import load_donations
from lifetimes.utils import ConvergenceError

from mpmath import mp, mpf

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
CDNOW_SUMMARY = REPO / "tests" / "data" / "cdnow" / "cdnow_customers_summary_with_transactions.csv"

mp.dps = 50
warnings.simplefilter("ignore")
np.seterr(all="ignore")

VERSIONS = {
    "python": sys.version.split()[0],
    "lifetimes": lifetimes.__version__,
    "pandas": pd.__version__,
    "numpy": np.__version__,
    "scipy": scipy.__version__,
    "mpmath": mpmath.__version__,
}

# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def fl(v):
    """Python float (repr keeps full precision in JSON) or None if non-finite."""
    v = float(v)
    return v if math.isfinite(v) else None


def mps(v, n=30):
    """mpmath number as a decimal string with n significant digits."""
    return mpmath.nstr(v, n)


def mpv(v):
    return mpf(float(v))


def write_json(name, obj):
    path = HERE / name
    with open(path, "w") as fh:
        json.dump(obj, fh, indent=2, allow_nan=False)
        fh.write("\n")
    print("wrote", path.relative_to(REPO))


def rel_diff(a, b):
    """|a-b|/max(|b|,tiny) with a possibly None; returns None if a is None."""
    if a is None or b is None:
        return None
    b = float(b)
    return abs(float(a) - b) / max(abs(b), 1e-300)


class Nonfinite:
    """Collects the names of lifetimes outputs that came back NaN/inf."""

    def __init__(self):
        self.items = []

    def val(self, v, where):
        try:
            v = float(np.asarray(v).ravel()[0])
        except Exception as exc:  # noqa: BLE001
            self.items.append({"where": where, "value": "exception: %s" % type(exc).__name__})
            return None
        if not math.isfinite(v):
            self.items.append({"where": where, "value": repr(v)})
            return None
        return v


def fit_tight(factory, fit_args, fit_kwargs, tols=(1e-12, 1e-11, 1e-10, 1e-9, 1e-8, 1e-7)):
    """lifetimes' BFGS fitters raise ConvergenceError when scipy reports
    'precision loss'; use the tightest tolerance that succeeds."""
    for tol in tols:
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                model = factory().fit(*fit_args, tol=tol, **fit_kwargs)
            return model, tol
        except ConvergenceError:
            continue
    raise RuntimeError("no tolerance converged")


def load_cdnow():
    d = pd.read_csv(CDNOW_SUMMARY)
    assert list(d.columns) == ["ID", "x", "t_x", "T", "zbar"], d.columns
    assert len(d) == 2357
    return d


# customers used throughout (ID in the CDNOW summary file, or None = synthetic)
CUSTOMER_IDS = [1, 2, 3, 2357, 1516, 157, 1901, 100, 500, 1000, 720, 509]
CUSTOMER_NOTES = {
    1: "x=2,t_x=30.43,T=38.86: FHL 2005 worked example (39-week expectation 1.226)",
    2: "x=1, early last purchase",
    3: "x=0, T=38.86 (oldest cohort)",
    2357: "x=0, T=27 (youngest cohort)",
    1516: "x=26,t_x=30.86,T=31: Pareto/NBD worked example (P(alive)=0.9979, 52-week E=25.46)",
    157: "largest x in the file (29)",
    1901: "x=21 but last purchase at 4.71 of 29.29 (likely dead)",
    100: "file row 100",
    500: "file row 500",
    1000: "file row 1000",
    720: "t_x == T (purchase at calibration end)",
    509: "x=18, t_x close to T",
}


def customers(d):
    out = []
    for cid in CUSTOMER_IDS:
        row = d[d["ID"] == cid].iloc[0]
        out.append(
            {
                "ID": int(cid),
                "note": CUSTOMER_NOTES[cid],
                "x": int(row["x"]),
                "t_x": float(row["t_x"]),
                "T": float(row["T"]),
            }
        )
    return out


# --------------------------------------------------------------------------
# BG/NBD and MBG/NBD closed forms (mpmath)
# --------------------------------------------------------------------------
# BG/NBD: Fader, Hardie & Lee (2005) "Counting your customers the easy way",
#   likelihood eq. (6), E[X(t)] eq. (7), P(X(t)=x) eq. (8), conditional
#   expectation eq. (10); P(alive) from Hardie's note 021.
# MBG/NBD: Batislam, Denizel & Filiztekin (2007); the MBG/NBD lets a customer
#   die at time 0 with probability p as well as after every purchase.


def bg_ll(p, x, tx, T):
    r, al, a, b = p
    x = int(x)
    tx, T = mpv(tx), mpv(T)
    g = mp.gamma(r + x) / mp.gamma(r) * al ** r
    L = mp.beta(a, b + x) / mp.beta(a, b) * g / (al + T) ** (r + x)
    if x > 0:
        L += mp.beta(a + 1, b + x - 1) / mp.beta(a, b) * g / (al + tx) ** (r + x)
    return mp.log(L)


def bg_palive(p, x, tx, T):
    r, al, a, b = p
    if x == 0:
        return mpf(1)
    tx, T = mpv(tx), mpv(T)
    return 1 / (1 + a / (b + x - 1) * ((al + T) / (al + tx)) ** (r + x))


def bg_cond_exp(p, t, x, tx, T):
    r, al, a, b = p
    tx, T, t = mpv(tx), mpv(T), mpv(t)
    num = (a + b + x - 1) / (a - 1) * (
        1 - ((al + T) / (al + T + t)) ** (r + x) * mp.hyp2f1(r + x, b + x, a + b + x - 1, t / (al + T + t))
    )
    den = 1 + (a / (b + x - 1) * ((al + T) / (al + tx)) ** (r + x) if x > 0 else 0)
    return num / den


def bg_uncond_exp(p, t):
    r, al, a, b = p
    t = mpv(t)
    return (a + b - 1) / (a - 1) * (1 - (al / (al + t)) ** r * mp.hyp2f1(r, b, a + b - 1, t / (al + t)))


def nbd_pmf(r, al, t, j):
    return mp.gamma(r + j) / (mp.gamma(r) * mp.factorial(j)) * (al / (al + t)) ** r * (t / (al + t)) ** j


def bg_pmf(p, t, n):
    r, al, a, b = p
    t = mpv(t)
    first = mp.beta(a, b + n) / mp.beta(a, b) * nbd_pmf(r, al, t, n)
    if n == 0:
        return first
    tail = 1 - mp.fsum(nbd_pmf(r, al, t, j) for j in range(n))
    return first + mp.beta(a + 1, b + n - 1) / mp.beta(a, b) * tail


def mbg_ll(p, x, tx, T):
    r, al, a, b = p
    tx, T = mpv(tx), mpv(T)
    g = mp.gamma(r + x) / mp.gamma(r) * al ** r
    L = mp.beta(a, b + x + 1) / mp.beta(a, b) * g * (
        1 / (al + T) ** (r + x) + a / (b + x) / (al + tx) ** (r + x)
    )
    return mp.log(L)


def mbg_palive(p, x, tx, T):
    r, al, a, b = p
    tx, T = mpv(tx), mpv(T)
    return 1 / (1 + a / (b + x) * ((al + T) / (al + tx)) ** (r + x))


def mbg_cond_exp(p, t, x, tx, T):
    r, al, a, b = p
    tx, T, t = mpv(tx), mpv(T), mpv(t)
    num = (a + b + x) / (a - 1) * (
        1 - ((al + T) / (al + T + t)) ** (r + x) * mp.hyp2f1(r + x, b + x + 1, a + b + x, t / (al + T + t))
    )
    return num / (1 + a / (b + x) * ((al + T) / (al + tx)) ** (r + x))


def mbg_uncond_exp(p, t):
    r, al, a, b = p
    t = mpv(t)
    return b / (a - 1) * (1 - (al / (al + t)) ** r * mp.hyp2f1(r, b + 1, a + b, t / (al + t)))


def mbg_pmf(p, t, n):
    # alive after the n-th purchase: (1-p)^(n+1) * NB(n); died at the n-th
    # "opportunity" (time 0 or right after purchase n): p (1-p)^n * P(N(t) >= n)
    r, al, a, b = p
    t = mpv(t)
    first = mp.beta(a, b + n + 1) / mp.beta(a, b) * nbd_pmf(r, al, t, n)
    tail = 1 - mp.fsum(nbd_pmf(r, al, t, j) for j in range(n))
    return first + mp.beta(a + 1, b + n) / mp.beta(a, b) * tail


def total_ll(llfun, p, d):
    """Sum of per-customer LLs (mpmath), grouping identical (x, t_x, T)."""
    g = d.groupby(["x", "t_x", "T"]).size()
    return mp.fsum(n * llfun(p, int(x), tx, T) for (x, tx, T), n in g.items())


def bg_family_section(kind, d):
    """kind = 'bg' (BetaGeoFitter) or 'mbg' (ModifiedBetaGeoFitter)."""
    if kind == "bg":
        cls, ll, pal, ce, ue, pmf = BetaGeoFitter, bg_ll, bg_palive, bg_cond_exp, bg_uncond_exp, bg_pmf
    else:
        cls, ll, pal, ce, ue, pmf = (ModifiedBetaGeoFitter, mbg_ll, mbg_palive, mbg_cond_exp, mbg_uncond_exp, mbg_pmf)
    names = ["r", "alpha", "a", "b"]
    fitted, tol = fit_tight(lambda: cls(penalizer_coef=0.0), (d["x"], d["t_x"], d["T"]), {})
    fit_params = [float(fitted.params_[k]) for k in names]
    published = [0.243, 4.414, 0.793, 2.426]
    n = len(d)
    sum_x = int(d["x"].sum())
    scale = 1.0 / float(d["T"].max())
    nonfinite = Nonfinite()

    def evaluate(pvals, label):
        p = [mpv(v) for v in pvals]
        model = cls()
        model.params_ = pd.Series(pvals, index=names)
        tot = total_ll(ll, p, d)
        # lifetimes' own objective at these params, converted to a weeks total
        lt_obj = float(cls._negative_log_likelihood(
            np.log(np.array(pvals)), d["x"].values.astype(int), d["t_x"].values, d["T"].values,
            np.ones(n, dtype=int), 0.0))
        per = []
        for c in customers(d):
            x, tx, T = c["x"], c["t_x"], c["T"]
            X, TX, TT = np.array([x]), np.array([tx]), np.array([T])
            where = "%s/%s/ID%d" % (kind, label, c["ID"])
            lt_ll = -float(cls._negative_log_likelihood(np.log(np.array(pvals)), X, TX, TT, np.ones(1, dtype=int), 0.0))
            entry = dict(c)
            entry["loglik"] = {"mpmath": fl(ll(p, x, tx, T)), "lifetimes": nonfinite.val(lt_ll, where + "/loglik")}
            entry["p_alive"] = {
                "mpmath": fl(pal(p, x, tx, T)),
                "lifetimes": nonfinite.val(model.conditional_probability_alive(x, tx, T), where + "/p_alive"),
            }
            entry["cond_expected_purchases"] = {}
            for t in (39, 52):
                entry["cond_expected_purchases"]["t=%d" % t] = {
                    "t": t,
                    "mpmath": fl(ce(p, t, x, tx, T)),
                    "lifetimes": nonfinite.val(
                        model.conditional_expected_number_of_purchases_up_to_time(t, x, tx, T), where + "/E%d" % t),
                }
            per.append(entry)
        uncond = [
            {"t": t, "mpmath": fl(ue(p, t)),
             "lifetimes": nonfinite.val(model.expected_number_of_purchases_up_to_time(t), "%s/%s/EX(%d)" % (kind, label, t))}
            for t in (1, 10, 39, 78)
        ]
        pmfs = [
            {"t": 39, "n": k, "mpmath": fl(pmf(p, 39, k)),
             "lifetimes": nonfinite.val(model.probability_of_n_purchases_up_to_time(39, k), "%s/%s/P(X=%d)" % (kind, label, k))}
            for k in range(6)
        ]
        return {
            "params": dict(zip(names, pvals)),
            "total_loglik_mpmath": fl(tot),
            "total_loglik_mpmath_str": mps(tot),
            "total_loglik_from_lifetimes_objective": -n * lt_obj,
            "customers": per,
            "unconditional_expected_purchases": uncond,
            "prob_n_purchases": pmfs,
        }

    at_pub = evaluate(published, "published")
    at_fit = evaluate(fit_params, "fitted")
    # lifetimes fits in scaled time (t * scale, scale = 1/max T); its stored
    # objective is the MEAN negative LL in that time unit. Rescaling time by c
    # multiplies each likelihood by c^-x, so LL_scaled = LL_weeks - sum(x) ln(scale).
    obj_scaled = float(fitted._negative_log_likelihood_)
    ll_weeks_from_obj = -n * obj_scaled + sum_x * math.log(scale)
    return {
        "fitted_params": dict(zip(names, fit_params)),
        "fit": {
            "penalizer_coef": 0.0,
            "tol": tol,
            "tol_note": "tightest of 1e-12..1e-7 for which lifetimes' BFGS reports success",
            "initial_params": "lifetimes default (log-params 0.1 each, in scaled time)",
            "lifetimes_objective_scaled": obj_scaled,
            "lifetimes_objective_note": "mean negative LL in lifetimes' scaled time (t / max T); "
                                         "total LL in weeks = -n*objective + sum(x)*ln(1/max T)",
            "n_customers": n,
            "sum_x": sum_x,
            "max_T": float(d["T"].max()),
            "total_loglik_weeks_from_objective": ll_weeks_from_obj,
        },
        "at_published": at_pub,
        "at_fitted": at_fit,
        "lifetimes_nonfinite": nonfinite.items,
    }, fitted


# --------------------------------------------------------------------------
# Pareto/NBD (mpmath)
# --------------------------------------------------------------------------
# Likelihood: Fader & Hardie (2005) "A note on deriving the Pareto/NBD model and
# related expressions", eqs. (18)-(20) (Schmittlein, Morrison & Colombo 1987):
#   L = G(r+x) a^r b^s / G(r) * [ (a+T)^-(r+x) (b+T)^-s + s/(r+s+x) A0 ]
#   a >= b: A0 = F(t_x) - F(T), F(y) = 2F1(r+s+x, s+1; r+s+x+1; (a-b)/(a+y)) / (a+y)^(r+s+x)
#   a <  b: A0 = F(t_x) - F(T), F(y) = 2F1(r+s+x, r+x; r+s+x+1; (b-a)/(b+y)) / (b+y)^(r+s+x)
# P(alive) = (a+T)^-(r+x)(b+T)^-s / [ (a+T)^-(r+x)(b+T)^-s + s/(r+s+x) A0 ]  (eq. 36/37)
# E[Y(t)|x,t_x,T] = P(alive) (r+x)(b+T) / ((a+T)(s-1)) [1 - ((b+T)/(b+T+t))^(s-1)]  (eq. 41)
#   (s = 1: limit P(alive) (r+x)(b+T)/(a+T) ln((b+T+t)/(b+T)) )
# Independent check: s/(r+s+x) A0 = s * Int_{t_x}^{T} (a+u)^-(r+x) (b+u)^-(s+1) du (mp.quad).


def _pnbd_F(p, x, form):
    """y -> 2F1(...)/(max(a,b)+y)^(r+s+x); form 'direct' = note 009 eqs. (19)/(20);
    'euler' = the same after Euler's transformation
    2F1(A,B;C;z) = (1-z)^(C-A-B) 2F1(C-A, C-B; C; z), which turns the series
    into 2F1(1, .; r+s+x+1; z) (well conditioned; used where mpmath's direct
    evaluation fails near z = 1, seen when C-A-B is a negative integer:
    1-r-x for alpha < beta, -s for alpha >= beta)."""
    r, al, s, be = p
    rsx = r + s + x
    if al >= be:
        if form == "direct":
            return lambda y: mp.hyp2f1(rsx, s + 1, rsx + 1, (al - be) / (al + y), maxprec=3 * mp.prec) / (al + y) ** rsx
        return lambda y: ((be + y) / (al + y)) ** (-s) * mp.hyp2f1(1, r + x, rsx + 1, (al - be) / (al + y)) / (al + y) ** rsx
    if form == "direct":
        return lambda y: mp.hyp2f1(rsx, r + x, rsx + 1, (be - al) / (be + y), maxprec=3 * mp.prec) / (be + y) ** rsx
    return lambda y: ((al + y) / (be + y)) ** (1 - r - x) * mp.hyp2f1(1, s + 1, rsx + 1, (be - al) / (be + y)) / (be + y) ** rsx


def pnbd_parts(p, x, tx, T, form="auto"):
    """Returns (head, base, death, form_used): L = head * (base + death),
    death = s/(r+s+x) * A0."""
    r, al, s, be = p
    tx, T = mpv(tx), mpv(T)
    rsx = r + s + x
    if form == "auto":
        try:
            F = _pnbd_F(p, x, "direct")
            A0 = F(tx) - F(T)
            form = "direct"
        except ValueError:  # mpmath: hypercomb() failed to converge
            F = _pnbd_F(p, x, "euler")
            A0 = F(tx) - F(T)
            form = "euler"
    else:
        F = _pnbd_F(p, x, form)
        A0 = F(tx) - F(T)
    base = 1 / ((al + T) ** (r + x) * (be + T) ** s)
    death = s / rsx * A0
    head = mp.exp(mp.loggamma(r + x) - mp.loggamma(r)) * al ** r * be ** s
    return head, base, death, form


def pnbd_values(p, x, tx, T, t=52, form="auto"):
    r, al, s, be = p
    head, base, death, form = pnbd_parts(p, x, tx, T, form)
    ll = mp.log(head) + mp.log(base + death)
    pal = base / (base + death)
    pdead = death / (base + death)
    Tm, tm = mpv(T), mpv(t)
    if s == 1:
        growth = mp.log((be + Tm + tm) / (be + Tm))
    else:
        growth = (1 - ((be + Tm) / (be + Tm + tm)) ** (s - 1)) / (s - 1)
    ce = pal * (r + x) * (be + Tm) / (al + Tm) * growth
    return ll, pal, pdead, ce, form


def pnbd_death_quad(p, x, tx, T):
    """s * Int_{t_x}^{T} (a+u)^-(r+x) (b+u)^-(s+1) du, by quadrature, the
    integrand scaled by its value at t_x to keep the numbers O(1)."""
    r, al, s, be = p
    tx, T = mpv(tx), mpv(T)
    if T == tx:
        return mpf(0)
    lf0 = -(r + x) * mp.log(al + tx) - (s + 1) * mp.log(be + tx)
    f = lambda u: mp.exp(-(r + x) * mp.log(al + u) - (s + 1) * mp.log(be + u) - lf0)  # noqa: E731
    # the integrand can fall by many orders of magnitude right after t_x:
    # split the range geometrically near t_x
    w = T - tx
    pts = [tx] + [tx + w * mpf(10) ** (-k) for k in range(12, 0, -1)] + [T]
    return s * mp.quad(f, pts) * mp.exp(lf0)


def pnbd_ll_mp(p, x, tx, T):
    head, base, death, _ = pnbd_parts(p, x, tx, T)
    return mp.log(head) + mp.log(base + death)


def lifetimes_pnbd(pvals, x, tx, T, t, nonfinite, where):
    model = ParetoNBDFitter()
    model.params_ = pd.Series(pvals, index=["r", "alpha", "s", "beta"])
    out = {}
    try:
        v = ParetoNBDFitter._conditional_log_likelihood(list(pvals), np.array([x]), np.array([float(tx)]), np.array([float(T)]))
        out["loglik"] = nonfinite.val(v, where + "/loglik")
    except Exception as exc:  # noqa: BLE001
        nonfinite.items.append({"where": where + "/loglik", "value": "exception: %s" % type(exc).__name__})
        out["loglik"] = None
    for key, fun in (
        ("p_alive", lambda: model.conditional_probability_alive(np.array([x]), np.array([float(tx)]), np.array([float(T)]))),
        ("cond_expected_purchases_t52", lambda: model.conditional_expected_number_of_purchases_up_to_time(
            t, np.array([x]), np.array([float(tx)]), np.array([float(T)]))),
    ):
        try:
            out[key] = nonfinite.val(fun(), where + "/" + key)
        except Exception as exc:  # noqa: BLE001
            nonfinite.items.append({"where": where + "/" + key, "value": "exception: %s" % type(exc).__name__})
            out[key] = None
    return out


def pareto_section(d):
    names = ["r", "alpha", "s", "beta"]
    n = len(d)
    sum_x = int(d["x"].sum())
    scale = 1.0 / float(d["T"].max())
    fitted = ParetoNBDFitter(penalizer_coef=0.0).fit(
        d["x"], d["t_x"], d["T"], initial_params=[1.0, 1.0, 1.0, 1.0], tol=1e-12, maxiter=20000)
    fit_params = [float(fitted.params_[k]) for k in names]
    published = [0.553, 10.578, 0.606, 11.669]
    nonfinite = Nonfinite()

    def evaluate(pvals, label):
        p = [mpv(v) for v in pvals]
        model = ParetoNBDFitter()
        model.params_ = pd.Series(pvals, index=names)
        tot = total_ll(pnbd_ll_mp, p, d)
        lt_total = float(np.sum(ParetoNBDFitter._conditional_log_likelihood(
            list(pvals), d["x"].values.astype(int), d["t_x"].values, d["T"].values)))
        per = []
        for c in customers(d):
            x, tx, T = c["x"], c["t_x"], c["T"]
            where = "pareto/%s/ID%d" % (label, c["ID"])
            ll, pal, pdead, _, _ = pnbd_values(p, x, tx, T)
            lt = lifetimes_pnbd(pvals, x, tx, T, 52, nonfinite, where)
            entry = dict(c)
            entry["loglik"] = {"mpmath": fl(ll), "lifetimes": lt["loglik"]}
            entry["p_alive"] = {"mpmath": fl(pal), "lifetimes": lt["p_alive"]}
            entry["cond_expected_purchases"] = {}
            for t in (39, 52):
                ce = pnbd_values(p, x, tx, T, t)[3]
                ltv = nonfinite.val(model.conditional_expected_number_of_purchases_up_to_time(
                    t, np.array([x]), np.array([tx]), np.array([T])), where + "/E%d" % t)
                entry["cond_expected_purchases"]["t=%d" % t] = {"t": t, "mpmath": fl(ce), "lifetimes": ltv}
            per.append(entry)
        r, al, s, be = pvals
        uncond = [
            {"t": t, "closed_form": r * be / (al * (s - 1)) * (1 - (be / (be + t)) ** (s - 1)),
             "lifetimes": nonfinite.val(model.expected_number_of_purchases_up_to_time(t), "pareto/%s/EX(%d)" % (label, t))}
            for t in (1, 10, 39, 78)
        ]
        return {
            "params": dict(zip(names, pvals)),
            "total_loglik_mpmath": fl(tot),
            "total_loglik_mpmath_str": mps(tot),
            "total_loglik_lifetimes_formula_float64": lt_total,
            "customers": per,
            "unconditional_expected_purchases": uncond,
        }

    at_pub = evaluate(published, "published")
    at_fit = evaluate(fit_params, "fitted")
    obj = float(fitted._negative_log_likelihood_)

    # ---- extreme cases ------------------------------------------------------
    param_sets = [
        ("published_cdnow", [0.553, 10.578, 0.606, 11.669]),
        ("all_1e-3", [1e-3, 1e-3, 1e-3, 1e-3]),
        ("all_1e3", [1e3, 1e3, 1e3, 1e3]),
        ("r,beta=1e-3;alpha,s=1e3", [1e-3, 1e3, 1e3, 1e-3]),
        ("r,beta=1e3;alpha,s=1e-3", [1e3, 1e-3, 1e-3, 1e3]),
        ("all_1 (s=1: E[Y] limit)", [1.0, 1.0, 1.0, 1.0]),
        ("r=10,alpha=0.1,s=0.01,beta=100", [10.0, 0.1, 0.01, 100.0]),
        ("r=0.1,alpha=100,s=10,beta=0.01", [0.1, 100.0, 10.0, 0.01]),
    ]
    cust = [(0, 0.0, 1.0), (0, 0.0, 1000.0), (1, 0.5, 1.0), (10, 30.0, 40.0),
            (100, 1000.0, 1000.0), (1000, 500.0, 1000.0), (10000, 999.0, 1000.0), (10000, 1.0, 1000.0)]
    ext_nonfinite = Nonfinite()
    cases = []
    worst_hi, worst_quad = 0.0, 0.0
    for pname, pvals in param_sets:
        for (x, tx, T) in cust:
            p = [mpv(v) for v in pvals]
            ll, pal, pdead, ce, form = pnbd_values(p, x, tx, T, 52)
            # precision check 1: Euler-transformed 2F1 at mp.dps = 100
            with mp.workdps(100):
                p100 = [mpv(v) for v in pvals]
                ll100, pal100, pdead100, ce100, _ = pnbd_values(p100, x, tx, T, 52, form="euler")
                d_hi = max(abs((ll - ll100) / ll100) if ll100 != 0 else abs(ll),
                           abs((pal - pal100) / pal100) if pal100 != 0 else abs(pal),
                           abs((pdead - pdead100) / pdead100) if pdead100 != 0 else abs(pdead),
                           abs((ce - ce100) / ce100) if ce100 != 0 else abs(ce))
            # precision check 2: death term by quadrature (independent of 2F1)
            with mp.workdps(30):
                pq = [mpv(v) for v in pvals]
                head, base, death, _ = pnbd_parts(pq, x, tx, T, form="euler")
                dq = pnbd_death_quad(pq, x, tx, T)
                ll_q = mp.log(head) + mp.log(base + dq)
                d_quad = abs((ll_q - ll) / ll) if ll != 0 else abs(ll_q)
                if death != 0:
                    d_quad = max(d_quad, abs((dq - death) / death))
            worst_hi = max(worst_hi, float(d_hi))
            worst_quad = max(worst_quad, float(d_quad))
            where = "extreme/%s/x=%d,t_x=%g,T=%g" % (pname, x, tx, T)
            lt = lifetimes_pnbd(pvals, x, tx, T, 52, ext_nonfinite, where)
            status = {}
            for key, ref in (("loglik", ll), ("p_alive", pal), ("cond_expected_purchases_t52", ce)):
                v = lt[key]
                if v is None:
                    status[key] = "nonfinite_or_exception"
                else:
                    rd = rel_diff(v, ref)
                    ad = abs(v - float(ref))
                    if rd <= 1e-6:
                        status[key] = "ok"
                    else:
                        status[key] = "inaccurate (rel err %.3g, abs err %.3g)" % (rd, ad)
            cases.append({
                "param_set": pname,
                "params": dict(zip(names, pvals)),
                "x": x, "t_x": tx, "T": T, "t": 52,
                "loglik": fl(ll), "loglik_str": mps(ll),
                "p_alive": fl(pal), "p_alive_str": mps(pal),
                "one_minus_p_alive": fl(pdead), "one_minus_p_alive_str": mps(pdead),
                "cond_expected_purchases_t52": fl(ce), "cond_expected_purchases_t52_str": mps(ce),
                "hyp2f1_form": form,
                "check_rel_diff_vs_dps100": float(d_hi),
                "check_rel_diff_vs_quadrature": float(d_quad),
                "lifetimes": lt,
                "lifetimes_status": status,
            })
    n_bad = sum(1 for c in cases if any(v != "ok" for v in c["lifetimes_status"].values()))
    failure_summary = [
        {"param_set": c["param_set"], "x": c["x"], "t_x": c["t_x"], "T": c["T"],
         "not_ok": {k: v for k, v in c["lifetimes_status"].items() if v != "ok"}}
        for c in cases if any(v != "ok" for v in c["lifetimes_status"].values())
    ]

    return {
        "fitted_params": dict(zip(names, fit_params)),
        "fit": {
            "penalizer_coef": 0.0,
            "method": "lifetimes ParetoNBDFitter.fit, Nelder-Mead, initial_params=[1,1,1,1] (scaled time), "
                      "tol=1e-12, maxiter=20000",
            "lifetimes_objective_scaled": obj,
            "lifetimes_objective_note": "TOTAL negative LL in lifetimes' scaled time (divided by weights.mean() = 1); "
                                         "total LL in weeks = -objective + sum(x)*ln(1/max T)",
            "n_customers": n,
            "sum_x": sum_x,
            "max_T": float(d["T"].max()),
            "total_loglik_weeks_from_objective": -obj + sum_x * math.log(scale),
        },
        "at_published": at_pub,
        "at_fitted": at_fit,
        "lifetimes_nonfinite": nonfinite.items,
        "extreme_cases": {
            "description": "Pareto/NBD log-likelihood, P(alive), 1-P(alive) and E[Y(52)|x,t_x,T] by mpmath "
                           "(dps=50) from the Fader-Hardie (2005) note 009 formulas with mpmath.hyp2f1. "
                           "*_str fields carry 30 significant digits (floats may under/overflow). "
                           "hyp2f1_form: 'direct' = note 009 eqs. (19)/(20) as written; 'euler' = after Euler's transformation "
                           "2F1(A,B;C;z) = (1-z)^(C-A-B) 2F1(C-A,C-B;C;z), used only where mpmath cannot evaluate "
                           "the direct form (seen when C-A-B is a negative integer: 1-r-x if alpha < beta, -s "
                           "if alpha >= beta). "
                           "check_rel_diff_vs_dps100: max relative difference (LL, P(alive), 1-P(alive), E[Y(52)]) against "
                           "the Euler-transformed form at dps=100; "
                           "check_rel_diff_vs_quadrature: max relative difference when the 2F1 death term is "
                           "replaced by s*Int_{t_x}^{T}(alpha+u)^-(r+x)(beta+u)^-(s+1)du (mp.quad, dps=30). "
                           "lifetimes_status per quantity: ok (rel err <= 1e-6 against the float64 rounding of the mpmath "
                           "value; values below ~1e-308 underflow to 0 in both), inaccurate (finite but rel err > 1e-6), "
                           "nonfinite_or_exception (NaN/inf, or an exception).",
            "worst_check_rel_diff_vs_dps100": worst_hi,
            "worst_check_rel_diff_vs_quadrature": worst_quad,
            "n_cases": len(cases),
            "n_cases_where_lifetimes_is_not_ok": n_bad,
            "lifetimes_failure_summary": failure_summary,
            "lifetimes_nonfinite": ext_nonfinite.items,
            "cases": cases,
        },
    }


# --------------------------------------------------------------------------
# Gamma-Gamma
# --------------------------------------------------------------------------
# Per-customer LL of the observed mean spend zbar given x (Fader & Hardie 2013,
# "The Gamma-Gamma model of monetary value", density of zbar; same as lifetimes):
#   ln f = lnG(px+q) - lnG(px) - lnG(q) + q ln g + (px-1) ln zbar + px ln x - (px+q) ln(g + x zbar)
# E[M | x, zbar] = (q-1)/(px+q-1) * g p/(q-1) + px/(px+q-1) * zbar


def gg_ll(p, x, m):
    pp, q, g = p
    x, m = mpf(int(x)), mpv(m)
    return (mp.loggamma(pp * x + q) - mp.loggamma(pp * x) - mp.loggamma(q) + q * mp.log(g)
            + (pp * x - 1) * mp.log(m) + pp * x * mp.log(x) - (pp * x + q) * mp.log(g + x * m))


def gg_mean(p, x, m):
    pp, q, g = p
    x, m = mpf(int(x)), mpv(m)
    return (q - 1) / (pp * x + q - 1) * g * pp / (q - 1) + pp * x / (pp * x + q - 1) * m


GG_IDS = [1, 2, 100, 500, 1000, 1516, 157, 1901, 357, 1863, 509]


def gammagamma_section(d):
    rb = d[d["x"] > 0]
    names = ["p", "q", "gamma"]
    fitted, tol = fit_tight(lambda: GammaGammaFitter(penalizer_coef=0.0), (rb["x"], rb["zbar"]), {})
    fit_params = [float(fitted.params_["p"]), float(fitted.params_["q"]), float(fitted.params_["v"])]
    published = [6.25, 3.74, 15.44]

    def evaluate(pvals):
        p = [mpv(v) for v in pvals]
        model = GammaGammaFitter()
        model.params_ = pd.Series(pvals, index=["p", "q", "v"])
        tot = mp.fsum(gg_ll(p, x, m) for x, m in zip(rb["x"], rb["zbar"]))
        lt_total = -len(rb) * float(GammaGammaFitter._negative_log_likelihood(
            np.log(np.array(pvals)), rb["x"].values.astype(float), rb["zbar"].values.astype(float),
            np.ones(len(rb), dtype=int), 0.0))
        per = []
        for cid in GG_IDS:
            row = d[d["ID"] == cid].iloc[0]
            x, m = int(row["x"]), float(row["zbar"])
            per.append({
                "ID": cid, "x": x, "zbar": m,
                "loglik": fl(gg_ll(p, x, m)),
                "cond_expected_avg_spend": {
                    "mpmath": fl(gg_mean(p, x, m)),
                    "lifetimes": float(model.conditional_expected_average_profit(x, m)),
                },
            })
        pp, q, g = pvals
        return {
            "params": dict(zip(names, pvals)),
            "total_loglik_mpmath": fl(tot),
            "total_loglik_mpmath_str": mps(tot),
            "total_loglik_lifetimes_formula_float64": lt_total,
            "population_mean_spend": g * pp / (q - 1),
            "customers": per,
        }

    corr = float(np.corrcoef(rb["x"].values, rb["zbar"].values)[0, 1])
    return {
        "fitted_params": dict(zip(names, fit_params)),
        "fit": {
            "n_repeat_buyers": int(len(rb)),
            "penalizer_coef": 0.0,
            "tol": tol,
            "q_constraint": False,
            "lifetimes_param_names": "lifetimes calls gamma 'v'",
            "lifetimes_objective": float(fitted._negative_log_likelihood_),
            "lifetimes_objective_note": "mean negative LL (no time scaling); total LL = -n*objective",
            "total_loglik_from_objective": -len(rb) * float(fitted._negative_log_likelihood_),
        },
        "pearson_corr_x_zbar_repeat_buyers": corr,
        "at_published": evaluate(published),
        "at_fitted": evaluate(fit_params),
    }, fitted


# --------------------------------------------------------------------------
# CLV (lifetimes convention)
# --------------------------------------------------------------------------

CLV_IDS = [3, 2357] + GG_IDS


def clv_section(d, bgf, ggf):
    idx = d["ID"]
    freq = pd.Series(d["x"].values, index=idx)
    rec = pd.Series(d["t_x"].values, index=idx)
    TT = pd.Series(d["T"].values, index=idx)
    mon = pd.Series(d["zbar"].values, index=idx)
    clv = ggf.customer_lifetime_value(bgf, freq, rec, TT, mon, time=12, discount_rate=0.01, freq="W")
    adj = ggf.conditional_expected_average_profit(freq, mon)

    # own re-implementation of the documented convention (numpy float64, same
    # order of operations) -> should agree to ~1e-15
    def own(x, tx, T, m_adj):
        total = 0.0
        for k in range(1, 13):
            i = k * 4.345
            e = (bgf.conditional_expected_number_of_purchases_up_to_time(i, x, tx, T)
                 - bgf.conditional_expected_number_of_purchases_up_to_time(i - 4.345, x, tx, T))
            total += m_adj * e / 1.01 ** (i / 4.345)
        return float(total)

    # the same with exact month boundaries k*4.345 and exact exponents k, in mpmath
    p = [mpv(bgf.params_[k]) for k in ["r", "alpha", "a", "b"]]

    def own_mp(x, tx, T, m_adj):
        tot = mpf(0)
        for k in range(1, 13):
            hi = bg_cond_exp(p, mpf(k) * mpf("4.345"), x, tx, T)
            lo = bg_cond_exp(p, mpf(k - 1) * mpf("4.345"), x, tx, T) if k > 1 else mpf(0)
            tot += mpv(m_adj) * (hi - lo) / mpf("1.01") ** k
        return tot

    per = []
    for cid in CLV_IDS:
        row = d[d["ID"] == cid].iloc[0]
        x, tx, T, m = int(row["x"]), float(row["t_x"]), float(row["T"]), float(row["zbar"])
        m_adj = float(adj.loc[cid])
        per.append({
            "ID": cid, "x": x, "t_x": tx, "T": T, "zbar": m,
            "gg_expected_avg_spend": m_adj,
            "clv_lifetimes": float(clv.loc[cid]),
            "clv_reimplemented_float64": own(x, tx, T, m_adj),
            "clv_mpmath_exact_months": fl(own_mp(x, tx, T, m_adj)),
            "expected_purchases_12_months_4.345w": float(
                bgf.conditional_expected_number_of_purchases_up_to_time(12 * 4.345, x, tx, T)),
        })
    return {
        "customers": per,
        "sum_clv_all_customers": float(clv.sum()),
        "sum_clv_repeat_buyers": float(clv[freq > 0].sum()),
        "sum_clv_zero_repeat_customers": float(clv[freq == 0].sum()),
        "n_customers": int(len(clv)),
        "max_abs_diff_reimplemented_vs_lifetimes": max(
            abs(c["clv_lifetimes"] - c["clv_reimplemented_float64"]) for c in per),
    }


# --------------------------------------------------------------------------
# BG/BB (Fader, Hardie & Shang 2010, Marketing Science 29(6))
# --------------------------------------------------------------------------
#   L(x,t_x,n) = B(a+x,b+n-x)/B(a,b) B(g,d+n)/B(g,d)
#              + sum_{i=0}^{n-t_x-1} B(a+x,b+t_x-x+i)/B(a,b) B(g+1,d+t_x+i)/B(g,d)      (eq. 5)
#   P(alive at n+1) = B(a+x,b+n-x)/B(a,b) B(g,d+n+1)/B(g,d) / L                       (eq. 11)
#   E[X(n,n+n*)] = 1/L B(a+x+1,b+n-x)/B(a,b) d/(g-1) G(g+d)/G(1+d)
#                   [G(1+d+n)/G(g+d+n) - G(1+d+n+n*)/G(g+d+n+n*)]                      (eq. 13)
#   P(X(n)=x) = C(n,x) B(a+x,b+n-x)/B(a,b) B(g,d+n)/B(g,d)
#             + sum_{i=x}^{n-1} C(i,x) B(a+x,b+i-x)/B(a,b) B(g+1,d+i)/B(g,d)         (eq. 7)


def bgbb_L(p, x, tx, n):
    a, b, g, dl = p
    L = mp.beta(a + x, b + n - x) / mp.beta(a, b) * mp.beta(g, dl + n) / mp.beta(g, dl)
    for i in range(n - tx):
        L += mp.beta(a + x, b + tx - x + i) / mp.beta(a, b) * mp.beta(g + 1, dl + tx + i) / mp.beta(g, dl)
    return L


def bgbb_palive_next(p, x, tx, n, m=1):
    a, b, g, dl = p
    return mp.beta(a + x, b + n - x) / mp.beta(a, b) * mp.beta(g, dl + n + m) / mp.beta(g, dl) / bgbb_L(p, x, tx, n)


def bgbb_cond_exp(p, nstar, x, tx, n):
    a, b, g, dl = p
    return (1 / bgbb_L(p, x, tx, n) * mp.beta(a + x + 1, b + n - x) / mp.beta(a, b) * dl / (g - 1)
            * mp.gamma(g + dl) / mp.gamma(1 + dl)
            * (mp.gamma(1 + dl + n) / mp.gamma(g + dl + n) - mp.gamma(1 + dl + n + nstar) / mp.gamma(g + dl + n + nstar)))


def bgbb_pmf(p, n, x):
    a, b, g, dl = p
    v = mp.binomial(n, x) * mp.beta(a + x, b + n - x) / mp.beta(a, b) * mp.beta(g, dl + n) / mp.beta(g, dl)
    for i in range(x, n):
        v += mp.binomial(i, x) * mp.beta(a + x, b + i - x) / mp.beta(a, b) * mp.beta(g + 1, dl + i) / mp.beta(g, dl)
    return v


def bgbb_section():
    dn = load_donations()
    assert list(dn.columns) == ["frequency", "recency", "periods", "weights"]
    dn.to_csv(HERE / "donations.csv", index=False)
    print("wrote", (HERE / "donations.csv").relative_to(REPO))
    names = ["alpha", "beta", "gamma", "delta"]
    fitted, tol = fit_tight(lambda: BetaGeoBetaBinomFitter(penalizer_coef=0.0),
                            (dn["frequency"], dn["recency"], dn["periods"]), {"weights": dn["weights"]})
    fit_params = [float(fitted.params_[k]) for k in names]
    published = [1.204, 0.750, 0.657, 2.783]
    W = int(dn["weights"].sum())

    def evaluate(pvals):
        p = [mpv(v) for v in pvals]
        model = BetaGeoBetaBinomFitter()
        model.params_ = pd.Series(pvals, index=names)
        tot = mp.fsum(w * mp.log(bgbb_L(p, int(x), int(tx), int(n)))
                      for x, tx, n, w in dn[["frequency", "recency", "periods", "weights"]].itertuples(index=False))
        pats = []
        for x, tx, n, w in dn[["frequency", "recency", "periods", "weights"]].itertuples(index=False):
            x, tx, n, w = int(x), int(tx), int(n), int(w)
            X, TX, N = np.array([x]), np.array([tx]), np.array([n])
            pats.append({
                "x": x, "t_x": tx, "n": n, "weight": w,
                "loglik": fl(mp.log(bgbb_L(p, x, tx, n))),
                "loglik_lifetimes": float(BetaGeoBetaBinomFitter._loglikelihood(pvals, X, TX, N)[0]),
                "p_alive_next_period": {"mpmath": fl(bgbb_palive_next(p, x, tx, n, 1)),
                                        "lifetimes_m1": float(model.conditional_probability_alive(1, X, TX, N)[0])},
                "p_alive_at_n": {"mpmath": fl(bgbb_palive_next(p, x, tx, n, 0)),
                                 "lifetimes_m0": float(model.conditional_probability_alive(0, X, TX, N)[0])},
                "cond_expected_transactions_next_10": {
                    "mpmath": fl(bgbb_cond_exp(p, 10, x, tx, n)),
                    "lifetimes": float(model.conditional_expected_number_of_purchases_up_to_time(10, X, TX, N)[0]),
                },
            })
        pmf = [{"n": 6, "x": k, "mpmath": fl(bgbb_pmf(p, 6, k))} for k in range(7)]
        # lifetimes: expected number of customers with x transactions in n=6 (needs .data)
        model.data = fitted.data
        lt_counts = model.expected_number_of_transactions_in_first_n_periods(6)["model"]
        for e in pmf:
            e["lifetimes"] = float(lt_counts.loc[e["x"]]) / W
        return {
            "params": dict(zip(names, pvals)),
            "total_weighted_loglik_mpmath": fl(tot),
            "total_weighted_loglik_mpmath_str": mps(tot),
            "patterns": pats,
            "prob_x_transactions_in_6": pmf,
            "sum_prob_x_transactions_in_6": fl(mp.fsum(bgbb_pmf(p, 6, k) for k in range(7))),
        }

    observed = dn.groupby("frequency")["weights"].sum()
    return {
        "fitted_params": dict(zip(names, fit_params)),
        "published_params": dict(zip(names, published)),
        "published_loglik": -33225.6,
        "fit": {
            "penalizer_coef": 0.0,
            "tol": tol,
            "n_customers": W,
            "n_patterns": int(len(dn)),
            "lifetimes_objective": float(fitted._negative_log_likelihood_),
            "lifetimes_objective_note": "weighted mean negative LL; lifetimes adds 1e-15 inside the log of the "
                                         "sum term (B), a ~1e-15 relative effect",
            "total_loglik_from_objective": -W * float(fitted._negative_log_likelihood_),
        },
        "observed_customers_by_x": {str(int(k)): int(v) for k, v in observed.items()},
        "at_published": evaluate(published),
        "at_fitted": evaluate(fit_params),
    }


# --------------------------------------------------------------------------
# shifted-beta-geometric (Fader & Hardie 2007, J. Interactive Marketing 21(1))
# --------------------------------------------------------------------------
#   P(T=t) = B(a+1, b+t-1)/B(a,b), t = 1,2,...   S(t) = B(a, b+t)/B(a,b)
#   r(t) = S(t)/S(t-1) = (b+t-1)/(a+b+t-1)
#   LL (years 1..7) = sum_{t=1}^{7} (n_{t-1} - n_t) ln P(T=t) + n_7 ln S(7)
# DEL/DERL: Fader & Hardie (2010) "Customer-base valuation in a contractual
# setting: the perils of ignoring heterogeneity", Marketing Science 29(1):
#   DEL(d) = sum_{t>=0} S(t)/(1+d)^t = 2F1(1, b; a+b; 1/(1+d))
#   DERL(d | n-1 renewals) = sum_{t>=n} S(t)/S(n-1) (1+d)^-(t-n)
#                          = (b+n-1)/(a+b+n-1) 2F1(1, b+n; a+b+n; 1/(1+d))      (eq. 6)

SBG_DATA = {
    "regular": [1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173],
    "high_end": [1000, 869, 743, 653, 593, 551, 517, 491, 468, 445, 427, 409, 394],
}
SBG_PUBLISHED = {"regular": (0.704, 1.182), "high_end": (0.668, 3.806)}


def sbg_ll(a, b, surv):
    from scipy.special import betaln
    ll = 0.0
    for t in range(1, len(surv)):
        ll += (surv[t - 1] - surv[t]) * (betaln(a + 1, b + t - 1) - betaln(a, b))
    ll += surv[-1] * (betaln(a, b + len(surv) - 1) - betaln(a, b))
    return ll


def sbg_ll_mp(a, b, surv):
    a = a if isinstance(a, mpf) else mpv(a)
    b = b if isinstance(b, mpf) else mpv(b)
    ll = mpf(0)
    for t in range(1, len(surv)):
        ll += (surv[t - 1] - surv[t]) * mp.log(mp.beta(a + 1, b + t - 1) / mp.beta(a, b))
    ll += surv[-1] * mp.log(mp.beta(a, b + len(surv) - 1) / mp.beta(a, b))
    return ll


def sbg_section():
    out = {}
    disc = 0.10
    for name, surv in SBG_DATA.items():
        cal = surv[:8]  # years 0..7
        res = scipy.optimize.minimize(lambda z: -sbg_ll(math.exp(z[0]), math.exp(z[1]), cal), x0=[0.0, 0.0],
                                      method="Nelder-Mead", options={"xatol": 1e-13, "fatol": 1e-13, "maxiter": 20000})
        # polish with BFGS on the same objective
        res2 = scipy.optimize.minimize(lambda z: -sbg_ll(math.exp(z[0]), math.exp(z[1]), cal), x0=res.x,
                                       method="BFGS", options={"gtol": 1e-10})
        z = res2.x if res2.fun <= res.fun else res.x
        a_sp, b_sp = math.exp(z[0]), math.exp(z[1])
        # polish: Newton steps on the mpmath LL (derivatives by mp.diff)
        am, bm = mpv(a_sp), mpv(b_sp)
        for _ in range(6):
            f = lambda u, v: sbg_ll_mp(u, v, cal)  # noqa: E731
            g = mpmath.matrix([mp.diff(f, (am, bm), (1, 0)), mp.diff(f, (am, bm), (0, 1))])
            H = mpmath.matrix([[mp.diff(f, (am, bm), (2, 0)), mp.diff(f, (am, bm), (1, 1))],
                               [mp.diff(f, (am, bm), (1, 1)), mp.diff(f, (am, bm), (0, 2))]])
            step = mpmath.lu_solve(H, g)
            am, bm = am - step[0], bm - step[1]
        a, b = float(am), float(bm)
        # gradient of the mpmath LL at the reported (float) optimum
        grad = [fl(mp.diff(lambda u: sbg_ll_mp(u, mpv(b), cal), mpv(a))),
                fl(mp.diff(lambda v: sbg_ll_mp(mpv(a), v, cal), mpv(b)))]
        pa, pb = SBG_PUBLISHED[name]

        def curves(a, b):
            am, bm = mpv(a), mpv(b)
            S = [fl(mp.beta(am, bm + t) / mp.beta(am, bm)) for t in range(13)]
            rr = [{"t": t, "r": fl((bm + t - 1) / (am + bm + t - 1))} for t in range(1, 13)]
            z = 1 / (1 + mpf(disc))
            DEL = mp.hyp2f1(1, bm, am + bm, z)
            derl = []
            for n in range(1, 13):
                closed = (bm + n - 1) / (am + bm + n - 1) * mp.hyp2f1(1, bm + n, am + bm + n, z)
                Sn1 = mp.beta(am, bm + n - 1) / mp.beta(am, bm)
                direct = mp.nsum(lambda t: mp.beta(am, bm + t) / mp.beta(am, bm) / Sn1 * z ** (t - n), [n, mp.inf])
                derl.append({"n": n, "renewals_made": n - 1, "derl": fl(closed),
                             "derl_by_direct_sum": fl(direct)})
            del_direct = mp.nsum(lambda t: mp.beta(am, bm + t) / mp.beta(am, bm) * z ** t, [0, mp.inf])
            el = None if a <= 1 else (a + b - 1) / (a - 1)
            return {
                "survival_S_t_0_to_12": S,
                "expected_survivors_of_1000": [1000 * s for s in S],
                "retention_rate_r_t": rr,
                "expected_lifetime_E_T": el,
                "expected_lifetime_note": "E[T] = (alpha+beta-1)/(alpha-1) periods when alpha > 1; "
                                          "infinite (null) when alpha <= 1",
                "DEL_d0.10": fl(DEL),
                "DEL_d0.10_by_direct_sum": fl(del_direct),
                "DERL_d0.10": derl,
            }

        out[name] = {
            "survivors_years_0_to_12": surv,
            "calibration_years": "0..7 (losses in years 1..7, 7-year survivors censored)",
            "fitted": {"alpha": a, "beta": b, "loglik": sbg_ll(a, b, cal), "loglik_mpmath": fl(sbg_ll_mp(a, b, cal)),
                       "gradient_of_loglik_wrt_alpha_beta": grad,
                       "scipy_before_polish": {"alpha": a_sp, "beta": b_sp},
                       "method": "scipy Nelder-Mead then BFGS on (ln alpha, ln beta), then 6 Newton steps on the "
                                 "mpmath LL (mp.diff derivatives)"},
            "published": {"alpha": pa, "beta": pb, "loglik_at_published": sbg_ll(pa, pb, cal)},
            "diff_fitted_minus_published": {"alpha": a - pa, "beta": b - pb},
            "at_fitted": curves(a, b),
            "at_published": curves(pa, pb),
        }
    return out


# --------------------------------------------------------------------------


def main():
    t_start = time.time()
    d = load_cdnow()
    cdnow_inputs = {
        "file": "tests/data/cdnow/cdnow_customers_summary_with_transactions.csv",
        "columns": "ID,x (frequency),t_x (recency),T (age), zbar; weeks",
        "n_customers": int(len(d)),
        "sum_x": int(d["x"].sum()),
        "n_repeat_buyers": int((d["x"] > 0).sum()),
    }

    bg, bgf = bg_family_section("bg", d)
    write_json("bgnbd_cdnow.json", {
        "source": "lifetimes %s BetaGeoFitter (fit + lifetimes values) and an mpmath (dps=50) implementation of "
                  "Fader, Hardie & Lee (2005) 'Counting your customers the easy way' eqs. (6)-(10). "
                  "Total LL = sum of per-customer log-likelihoods (mpmath, closed form eq. 6). "
                  "P(alive) convention: 1 when x = 0 (lifetimes and the BG/NBD model: no purchase, no chance "
                  "to die)." % lifetimes.__version__,
        "versions": VERSIONS,
        "inputs": dict(cdnow_inputs, published_params={"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
                       published_loglik=-9582.4,
                       published_cond_expected_39w_x2_tx30_43_T38_86=1.226),
        **bg,
    })

    mbg, _ = bg_family_section("mbg", d)
    write_json("mbgnbd_cdnow.json", {
        "source": "lifetimes %s ModifiedBetaGeoFitter (fit + lifetimes values) and an mpmath (dps=50) "
                  "implementation of the MBG/NBD (Batislam, Denizel & Filiztekin 2007) closed forms. "
                  "The 'at_published' block uses the published BG/NBD parameters (there are no published "
                  "MBG/NBD values for CDNOW) only as a fixed test point. P(alive) is < 1 also for x = 0 "
                  "(MBG/NBD customers can drop out at time 0)." % lifetimes.__version__,
        "versions": VERSIONS,
        "inputs": dict(cdnow_inputs, fixed_test_params={"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}),
        **mbg,
    })

    pareto = pareto_section(d)
    write_json("pareto_cdnow.json", {
        "source": "lifetimes %s ParetoNBDFitter (fit + lifetimes values) and mpmath (dps=50) values from the "
                  "Schmittlein-Morrison-Colombo / Fader-Hardie (2005, note 009) closed forms with mpmath.hyp2f1: "
                  "LL eqs. (18)-(20), P(alive) eq. (36)-(37), E[Y(t)|.] eq. (41). Total LL = sum of per-customer "
                  "LLs (mpmath)." % lifetimes.__version__,
        "versions": VERSIONS,
        "inputs": dict(cdnow_inputs, published_params={"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669},
                       published_loglik=-9595.0,
                       published_x26_tx30_86_T31={"p_alive": 0.9979, "cond_expected_52w": 25.46}),
        **pareto,
    })

    gg, ggf = gammagamma_section(d)
    write_json("gammagamma_cdnow.json", {
        "source": "lifetimes %s GammaGammaFitter on the repeat buyers (x > 0, monetary = zbar); per-customer LL "
                  "is the density of zbar given x from Fader & Hardie (2013) 'The Gamma-Gamma model of monetary "
                  "value' (the formula lifetimes uses), summed in mpmath." % lifetimes.__version__,
        "versions": VERSIONS,
        "inputs": dict(cdnow_inputs, published_params={"p": 6.25, "q": 3.74, "gamma": 15.44}),
        **gg,
    })

    clv = clv_section(d, bgf, ggf)
    write_json("clv_cdnow.json", {
        "source": "lifetimes %s GammaGammaFitter.customer_lifetime_value(BG/NBD fitted as in bgnbd_cdnow.json, "
                  "x, t_x, T, zbar, time=12, discount_rate=0.01, freq='W') with the fitted Gamma-Gamma of "
                  "gammagamma_cdnow.json." % lifetimes.__version__,
        "versions": VERSIONS,
        "inputs": dict(cdnow_inputs, time_months=12, discount_rate_monthly=0.01, freq="W",
                       bgnbd_params=bg["fitted_params"], gammagamma_params=gg["fitted_params"]),
        "convention": (
            "lifetimes.utils._customer_lifetime_value: factor = 4.345 weeks per month (freq='W'); for "
            "k = 1..time the loop variable is i = k*4.345 (numpy float: np.arange(1, time+1) * 4.345); "
            "CLV = sum_k m_adj * (E[X(i)|x,t_x,T] - E[X(i - 4.345)|x,t_x,T]) / (1 + discount_rate)^(i/4.345), "
            "where E[X(t)|.] is BetaGeoFitter.conditional_expected_number_of_purchases_up_to_time (BG/NBD eq. 10, "
            "E[X(0)|.] = 0), m_adj = GammaGammaFitter.conditional_expected_average_profit(x, zbar) "
            "= (q-1)/(p x+q-1) * gamma p/(q-1) + p x/(p x+q-1) * zbar (= population mean gamma p/(q-1) "
            "when x = 0). i.e. purchases of month k are discounted at the END of month k, by (1.01)^k; no "
            "month-0 term; the sum telescopes to the 12*4.345 = 52.14-week horizon. i/4.345 equals k up "
            "to float rounding; clv_mpmath_exact_months uses exact k*4.345 and exponent k."
        ),
        **clv,
    })

    bgbb = bgbb_section()
    write_json("bgbb_donations.json", {
        "source": "lifetimes %s BetaGeoBetaBinomFitter on lifetimes.datasets.load_donations() (= donations.csv), "
                  "and mpmath (dps=50) values from Fader, Hardie & Shang (2010) 'Customer-base analysis in a "
                  "discrete-time noncontractual setting', Marketing Science 29(6): LL eq. (5), P(X(n)=x) eq. (7), "
                  "P(alive in period n+1) eq. (11), E[X(n, n+n*)] eq. (13). Published: alpha=1.204, beta=0.750, "
                  "gamma=0.657, delta=2.783, LL=-33225.6." % lifetimes.__version__,
        "versions": VERSIONS,
        "inputs": {"file": "tests/data/persistency/donations.csv",
                   "columns": "frequency (x), recency (t_x), periods (n = 6), weights (number of donors)",
                   "p_alive_convention": "A living customer drops out at the beginning of each transaction "
                                         "opportunity with probability theta. p_alive_next_period = P(alive at "
                                         "opportunity n+1 | x, t_x, n) (paper eq. 11, uses B(gamma, delta+n+1)) = "
                                         "lifetimes conditional_probability_alive(m_periods_in_future=1, ...); "
                                         "p_alive_at_n = P(alive at opportunity n | .) (uses B(gamma, delta+n)) = "
                                         "lifetimes with m_periods_in_future=0.",
                   "n_star": 10},
        **bgbb,
    })

    sbg = sbg_section()
    write_json("sbg.json", {
        "source": "Shifted-beta-geometric model, Fader & Hardie (2007) 'How to project customer retention', "
                  "J. Interactive Marketing 21(1); data = the paper's 'regular' and 'high end' cohorts; MLE on "
                  "years 0..7 with scipy %s (Nelder-Mead then BFGS on log-params, polished by Newton steps in mpmath). DEL/DERL from Fader & Hardie "
                  "(2010) 'Customer-base valuation in a contractual setting', Marketing Science 29(1), eq. (6), "
                  "computed with mpmath.hyp2f1 and checked by direct summation (mpmath.nsum)." % scipy.__version__,
        "versions": VERSIONS,
        "inputs": {"survivors": SBG_DATA, "calibration_years": "0..7", "discount_rate": 0.10,
                   "published": {k: {"alpha": v[0], "beta": v[1]} for k, v in SBG_PUBLISHED.items()}},
        "derl_convention": (
            "n = the customer's current period (the customer has made n-1 renewals and is observed just before "
            "the renewal decision at the end of period n). Net cash flow 1 per period, received at the START of "
            "each period (at renewal). DERL = sum_{t=n}^inf P(T > t | T > n-1) / (1+d)^(t-n): the first term, the "
            "payment for period n+1 collected at the upcoming renewal, is undiscounted. "
            "DEL (new customer, incl. the first payment at t=0) = sum_{t=0}^inf S(t)/(1+d)^t "
            "= 1 + DERL(n=1)/(1+d)."
        ),
        "models": sbg,
    })
    print("done in %.1f s" % (time.time() - t_start))


if __name__ == "__main__":
    main()
