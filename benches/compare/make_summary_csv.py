#!/usr/bin/env python3
"""Write a seeded synthetic customer summary (`ID,x,t_x,T,zbar`, weeks) for fit_vs_lifetimes.py.

    python benches/compare/make_summary_csv.py /tmp/s1m.csv --customers 1000000 --seed 7

Customers follow the BG/NBD generative process with CDNOW-like parameters (Fader, Hardie and
Lee 2005: r=0.243, alpha=4.414, a=0.793, b=2.426), so a BG/NBD fit should land near them:

  - purchase rate    lambda ~ Gamma(shape r, scale 1/alpha)   (per week)
  - dropout chance   p      ~ Beta(a, b), tried after every repeat purchase
  - age              T      ~ Uniform(27, 39) weeks (CDNOW's cohort joined over 12 weeks and
                              was observed to week 39)

Spend follows the Gamma-Gamma model (Fader and Hardie 2013, note 025: p=6.25, q=3.74,
gamma=15.44): nu ~ Gamma(q, scale 1/gamma), each transaction ~ Gamma(p, scale 1/nu), and
zbar is the mean of the x repeat transactions (0 when x = 0).

Needs numpy and pandas (benches/compare/requirements.txt). Vectorised: 1M customers take a
few seconds, most of it writing the CSV.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}
T_MIN, T_MAX = 27.0, 39.0
DECIMALS = 4  # zbar (and t_x, T with --time-grid none) are written rounded to 1e-4


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out", type=Path, help="CSV to write")
    p.add_argument("--customers", type=int, default=1_000_000, help="customers to draw (default 1000000)")
    p.add_argument("--seed", type=int, default=7, help="seed for numpy's default_rng (default 7)")
    p.add_argument("--time-grid", choices=["days", "none"], default="days",
                   help="days (default): t_x and T are whole days in weeks (days / 7), as in any "
                        "summary made from dated transactions; none: continuous, rounded to 1e-4")
    return p.parse_args()


def simulate(n: int, rng: np.random.Generator, grid: str = "days") -> pd.DataFrame:
    r, alpha, a, b = BGNBD["r"], BGNBD["alpha"], BGNBD["a"], BGNBD["b"]
    lam = rng.gamma(r, 1.0 / alpha, n)
    p_drop = rng.beta(a, b, n)
    T = rng.uniform(T_MIN, T_MAX, n)

    # Instead of walking each customer's purchase sequence (a Python loop, as lifetimes'
    # generate_data does), draw the two independent pieces directly:
    #   N = purchases a never-dying customer would make in (0, T]  ~ Poisson(lambda T)
    #   J = the repeat purchase after which the customer drops out ~ Geometric(p) on 1, 2, ...
    # The customer is seen making x = min(N, J) repeat purchases.
    N = rng.poisson(lam * T)
    J = rng.geometric(p_drop)
    x = np.minimum(N, J)

    # Given N, a Poisson process' arrival times in (0, T] are N sorted uniforms, so the x-th
    # (the last one seen) is T * Beta(x, N - x + 1). This is exact whether the customer
    # dropped out (x = J < N) or survived to T (x = N). Beta needs positive shapes, hence
    # the dummy 1s for x = 0, whose draws are discarded.
    buyer = x > 0
    t_x = np.where(buyer, T * rng.beta(np.where(buyer, x, 1), np.where(buyer, N - x + 1, 1)), 0.0)

    # Gamma-Gamma: the mean of x Gamma(p, scale 1/nu) spends is Gamma(p x, scale 1/(nu x)).
    nu = rng.gamma(GG["q"], 1.0 / GG["gamma"], n)
    xs = np.where(buyer, x, 1)
    zbar = np.where(buyer, rng.gamma(GG["p"] * xs, 1.0 / (nu * xs)), 0.0)

    # Rounding is monotone, so t_x <= T survives it; keep spend strictly positive because
    # Gamma-Gamma fitters (lifetimes included) reject zbar <= 0 for repeat buyers.
    if grid == "days":
        # Purchases happen on whole days: T and t_x become day counts (t_x floored, so it
        # stays <= T), written as weeks = days / 7 at full precision.
        T = np.ceil(T * 7.0) / 7.0
        t_x = np.floor(t_x * 7.0) / 7.0
    else:
        T = np.round(T, DECIMALS)
        t_x = np.round(t_x, DECIMALS)
    zbar = np.where(buyer, np.maximum(np.round(zbar, DECIMALS), 10.0 ** -DECIMALS), 0.0)

    return pd.DataFrame({"ID": np.arange(1, n + 1), "x": x.astype(np.int64), "t_x": t_x, "T": T, "zbar": zbar})


def main() -> None:
    args = parse_args()
    t0 = time.perf_counter()
    df = simulate(args.customers, np.random.default_rng(args.seed), args.time_grid)
    t1 = time.perf_counter()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(args.out, index=False)
    t2 = time.perf_counter()

    x = df["x"].to_numpy()
    print(f"{len(df):,} customers (seed {args.seed}) -> {args.out}  "
          f"[{t2 - t0:.2f} s: simulate {t1 - t0:.2f} s, write {t2 - t1:.2f} s]")
    print(f"  repeat purchases {int(x.sum()):,}, mean x {x.mean():.3f}, max x {int(x.max())}, "
          f"x = 0: {(x == 0).mean():.1%}, mean zbar of repeat buyers {df.loc[x > 0, 'zbar'].mean():.2f}")


if __name__ == "__main__":
    main()
