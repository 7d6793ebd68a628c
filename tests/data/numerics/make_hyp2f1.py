#!/usr/bin/env python3
"""Generate high-precision reference values of ln 2F1(a, b; c; z) for acrm's tests.

How to run (from the repository root):

    /work/pyenv/bin/python tests/data/numerics/make_hyp2f1.py

It rewrites tests/data/numerics/hyp2f1.csv next to this script and prints a
summary.  Generated with Python 3.11.7 and mpmath 1.4.1; the only dependency
is mpmath (plus the standard library).  The case list is fully determined by
SEED below, so reruns are byte-for-byte reproducible with the same mpmath.

Method
------
* Every input a, b, c, z is a float64 produced by ordinary double arithmetic
  (e.g. c = a_ + b_ + x - 1.0, z = t / (alpha + T + t)).  The CSV stores
  repr() of those doubles, and mpmath evaluates 2F1 on mpf(double), i.e. on
  exactly the same binary values a Rust test will parse.
* 2F1 is evaluated with mpmath.hyp2f1 at mp.dps = 60; ln_value = ln(2F1) is
  written with 17 significant digits (enough to round-trip any f64).
* Every case is recomputed independently at mp.dps = 100; the relative
  difference of the two ln values must be < 1e-25 (absolute when the ln is 0).
* Cases whose value is not finite, not real, <= 0, that raise inside mpmath
  or exceed a per-case time limit are dropped (and resampled for random
  families); they are listed in the summary.
"""

import csv
import math
import os
import random
import signal
import sys
import time
from decimal import Decimal

import mpmath
from mpmath import mp, mpf

SEED = 20240611
DPS = 60
DPS_CHECK = 100
TOL = mpf("1e-25")
TIME_LIMIT_S = 300  # per single hyp2f1 evaluation

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "hyp2f1.csv")

rng = random.Random(SEED)


def sig(v, n=6):
    """Round a float to n significant digits (keeps the CSV readable)."""
    return float(f"{v:.{n - 1}e}")


def loguniform(lo, hi, n=6):
    return sig(math.exp(rng.uniform(math.log(lo), math.log(hi))), n)


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout()


signal.signal(signal.SIGALRM, _alarm)


def ln_hyp2f1(a, b, c, z, dps):
    """ln 2F1 at the given precision; returns (mpf or None, reason)."""
    signal.alarm(TIME_LIMIT_S)
    try:
        with mp.workdps(dps):
            v = mp.hyp2f1(mpf(a), mpf(b), mpf(c), mpf(z))
            if isinstance(v, mpmath.mpc):
                if v.imag != 0:
                    return None, "complex value"
                v = v.real
            if not mp.isfinite(v):
                return None, "not finite"
            if v <= 0:
                return None, "value <= 0"
            return +mp.log(v), "ok"
    except Timeout:
        return None, f"timeout > {TIME_LIMIT_S}s"
    except Exception as e:  # mpmath NoConvergence, ZeroDivisionError, ...
        return None, f"{type(e).__name__}: {e}"
    finally:
        signal.alarm(0)


def fmt17(x):
    """17 significant digits, scientific notation, parseable by Rust f64."""
    if x == 0:
        return "0.0"
    s = mpmath.libmp.to_str(x._mpf_, 17, strip_zeros=False, min_fixed=0, max_fixed=0)
    m, e = "{:.16e}".format(Decimal(s)).split("e")
    return f"{m}e{int(e):+03d}"


rows = []  # (a, b, c, z, ln60, family)
dropped = []  # (family, a, b, c, z, reason)
worst = {"rel": mpf(0), "case": None}
counts = {}


def try_case(fam, a, b, c, z):
    a, b, c, z = float(a), float(b), float(c), float(z)
    for v in (a, b, c, z):
        assert math.isfinite(v)
    ln60, why = ln_hyp2f1(a, b, c, z, DPS)
    if ln60 is None:
        dropped.append((fam, a, b, c, z, why))
        return False
    ln100, why = ln_hyp2f1(a, b, c, z, DPS_CHECK)
    if ln100 is None:
        dropped.append((fam, a, b, c, z, "check at dps=100: " + why))
        return False
    with mp.workdps(DPS_CHECK):
        diff = abs(ln60 - ln100)
        rel = diff / abs(ln100) if ln100 != 0 else diff
    if rel >= TOL:
        dropped.append((fam, a, b, c, z, f"precision check failed rel={mpmath.nstr(rel, 3)}"))
        return False
    if rel > worst["rel"] or worst["case"] is None:
        worst["rel"] = rel
        worst["case"] = (fam, a, b, c, z)
    rows.append((a, b, c, z, ln60, fam))
    counts[fam] = counts.get(fam, 0) + 1
    return True


def sample_until_ok(fam, gen, max_tries=50):
    for _ in range(max_tries):
        args = gen()
        if args is None:
            continue
        if try_case(fam, *args):
            return True
    raise RuntimeError(f"could not produce a case for {fam}")


# --------------------------------------------------------------------------
# bgnbd_cond: 2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))
# --------------------------------------------------------------------------
def bgnbd_cond_args(r, alpha, a, b, x, T, t):
    return (r + x, b + x, a + b + x - 1.0, t / (alpha + T + t))


# the CDNOW textbook fit (Fader, Hardie & Lee 2005) for a customer with x=2, T=38.86
try_case("bgnbd_cond", *bgnbd_cond_args(0.243, 4.414, 0.793, 2.426, 2.0, 38.86, 39.0))

XS = [0, 1, 2, 5, 10, 30, 100, 300, 1000, 3000, 10000]
TS_COND = [1, 10, 39, 52, 104, 500, 5000]
for x in XS:
    for t in TS_COND:
        for _ in range(2):
            def gen(x=x, t=t):
                r = loguniform(0.05, 20)
                alpha = loguniform(0.1, 500)
                a = loguniform(0.05, 20)
                b = loguniform(0.05, 20)
                if a + b + x - 1.0 <= 0:
                    return None
                # T (age) at least ~x (clipped to [1, 500]) and at most 1000
                T_lo = max(1.0, min(0.8 * x, 500.0))
                T = sig(rng.uniform(T_lo, 1000.0), 5)
                return bgnbd_cond_args(r, alpha, a, b, float(x), T, float(t))
            sample_until_ok("bgnbd_cond", gen)

# --------------------------------------------------------------------------
# bgnbd_uncond: 2F1(r, b; a+b-1; t/(alpha+t))
# --------------------------------------------------------------------------
for t in [1, 10, 52, 500, 5000, 50000]:
    for _ in range(10):
        def gen(t=t):
            r = loguniform(0.05, 20)
            alpha = loguniform(0.1, 500)
            a = loguniform(0.05, 20)
            b = loguniform(0.05, 20)
            if a + b - 1.0 <= 0:
                return None
            return (r, b, a + b - 1.0, float(t) / (alpha + float(t)))
        sample_until_ok("bgnbd_uncond", gen)

# --------------------------------------------------------------------------
# derl: 2F1(1, beta+n; alpha+beta+n; 1/(1+d))   (sBG discounted expected
# residual lifetime)
# --------------------------------------------------------------------------
for n in [1, 2, 5, 12, 100]:
    for d in [0.01, 0.05, 0.1, 0.3]:
        for _ in range(3):
            def gen(n=n, d=d):
                al = loguniform(0.05, 50)
                be = loguniform(0.05, 50)
                return (1.0, be + n, al + be + n, 1.0 / (1.0 + d))
            sample_until_ok("derl", gen)

# --------------------------------------------------------------------------
# near_one: generic parameters, z close to 1
# --------------------------------------------------------------------------
for z in [0.9, 0.99, 0.999, 0.9999]:
    for _ in range(15):
        def gen(z=z):
            return (loguniform(0.01, 2000), loguniform(0.01, 2000), loguniform(0.01, 4000), z)
        sample_until_ok("near_one", gen)

# --------------------------------------------------------------------------
# large_params: a, b, c up to 1e4, z in [0, 0.9]
# --------------------------------------------------------------------------
# c - a - b == 0 exactly (dyadic fractions make the double sums exact)
for a, b, z in [(1500.5, 2000.25, 0.9), (10.0, 20.0, 0.5), (2500.0, 2500.0, 0.3),
                (0.75, 8000.25, 0.75), (4999.5, 4999.5, 0.05)]:
    try_case("large_params", a, b, a + b, z)
# c - a - b a negative integer
for a, b, k, z in [(100.5, 200.25, 1, 0.9), (3000.0, 4000.0, 3, 0.6),
                   (50.125, 9000.5, 10, 0.25), (7.5, 12.5, 2, 0.85), (6000.0, 3999.75, 50, 0.1)]:
    try_case("large_params", a, b, a + b - k, z)
# a == c or b == c  (2F1 = (1-z)^(-b) resp. (1-z)^(-a))
for a, b, z, which in [(1234.5678, 0.5, 0.9, "a"), (9999.0, 9999.0, 0.5, "a"),
                       (3.25, 5000.125, 0.7, "b"), (0.01, 10000.0, 0.2, "b"),
                       (750.0, 42.0, 0.9, "a")]:
    try_case("large_params", a, b, a if which == "a" else b, z)
# random
for _ in range(35):
    def gen():
        a = loguniform(1, 1e4)
        b = loguniform(1, 1e4)
        c = loguniform(1, 1e4)
        z = sig(rng.uniform(0.0, 0.9), 6)
        return (a, b, c, z)
    sample_until_ok("large_params", gen)

# --------------------------------------------------------------------------
# small_z: z in {0, 1e-12, 1e-6, 0.01}
# --------------------------------------------------------------------------
for z in [0.0, 1e-12, 1e-6, 0.01]:
    for _ in range(5):
        def gen(z=z):
            return (loguniform(0.05, 100), loguniform(0.05, 100), loguniform(0.05, 100), z)
        sample_until_ok("small_z", gen)

# --------------------------------------------------------------------------
with open(OUT, "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["a", "b", "c", "z", "ln_value", "family"])
    for a, b, c, z, ln60, fam in rows:
        w.writerow([repr(a), repr(b), repr(c), repr(z), fmt17(ln60), fam])

print(f"mpmath {mpmath.__version__}, Python {sys.version.split()[0]}, seed {SEED}")
print(f"wrote {len(rows)} rows to {OUT} ({os.path.getsize(OUT)} bytes)")
for fam, n in counts.items():
    print(f"  {fam:13s} {n:4d}")
print(f"worst relative difference of ln values (dps {DPS} vs {DPS_CHECK}): "
      f"{mpmath.nstr(worst['rel'], 3)} at {worst['case']}")
print(f"dropped cases: {len(dropped)}")
for d in dropped:
    print("  ", d)
