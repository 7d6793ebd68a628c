#!/usr/bin/env python3
"""Reference values for the price-elasticity test (tests/it/elasticity.rs).

An independent check for the Rust code: nothing here runs at build or test time; the files
it writes are committed and read by the test.

Makes (next to this script):
  * transactions.csv -- seeded synthetic raw transactions, columns
        customer_id,date,amount,quantity,product_id,region
    (see make_transactions()), including returns (negative amount) and zero-quantity rows
    that must be left out of the price series.
  * reference.json   -- per line (product; product x region; product x quarter of the year):
        the monthly price series aggregated with pandas and the OLS fit from statsmodels
        (full-precision floats, Python repr; NaN/inf written as null).

The rules reproduced here are those documented in src/product/elasticity.rs:
  * rows with quantity > 0 and amount > 0 only; per (line, month): Q = sum quantity,
    R = sum amount, P = R / Q; months without such rows are not observations;
  * a line needs n >= 8 months, sd(ln P, ddof=1) >= 0.02 and >= 3 distinct prices;
  * regression ln Q ~ 1 + trend + quarter dummies + ln P, where
      trend = month index - the line's first month index, in when n >= 3 + 5,
      quarter dummies = one per observed quarter of the year except the earliest observed,
      in when n >= k + (number of dummies) + 5 (k = columns so far), never when split by
      quarter;
  * 95% t interval (statsmodels conf_int), two-sided t p-value, centred R^2, df_resid.

Produced with: Python 3.11.7, statsmodels 0.15.0, numpy 1.26.4, pandas 2.3.3, scipy 1.10.1
(also stored in reference.json under "meta").

Rerun from this directory:
    /path/to/venv/bin/python make_reference.py
(here /work/pyenv/bin/python make_reference.py). The output is deterministic for fixed
package versions.
"""
import json
import math
import os
import sys

import numpy as np
import pandas as pd
import scipy
import statsmodels
import statsmodels.api as sm

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20260611
MIN_OBS = 8
MIN_SD = 0.02
MIN_DISTINCT = 3
MIN_DF = 5
CONFIDENCE = 0.95

# product -> (elasticity, base price, base quantity per month, months it sells in, regions)
ALL_MONTHS = [(2021 + m // 12, m % 12 + 1) for m in range(30)]  # Jan 2021 .. Jun 2023
PRODUCTS = {
    "A": (-0.6, 20.0, 60.0, ALL_MONTHS, ["north", "south"]),
    "B": (-1.8, 8.0, 120.0, ALL_MONTHS, ["north", "south"]),
    # Ten months over four quarters: trend in, quarter dummies out (they need 11).
    "C": (-1.2, 15.0, 80.0, [(2021, m) for m in range(3, 13)], ["north"]),
    # Ten months over two quarters: trend in, one dummy in (needs 9).
    "D": (-0.9, 30.0, 40.0, [(2021, m) for m in range(4, 10)] + [(2022, m) for m in range(4, 8)],
          ["south"]),
    # A fixed list price: not enough variation.
    "F": (-1.0, 5.0, 50.0, ALL_MONTHS, ["north"]),
    # Five months: too few.
    "G": (-1.0, 12.0, 30.0, ALL_MONTHS[:5], ["north"]),
}


def make_transactions(rng):
    rows = []
    customers = [f"c{i:03d}" for i in range(1, 41)]
    for product, (eps, base_price, base_q, months, regions) in PRODUCTS.items():
        for region in regions:
            for (y, m) in months:
                t = (y - 2021) * 12 + (m - 1)
                if product == "F":
                    price = base_price
                else:
                    price = base_price * math.exp(rng.uniform(-0.25, 0.25))
                season = 1.0 + 0.15 * math.sin(2 * math.pi * (m - 1) / 12)
                mean_q = base_q * season * (1.0 + 0.01 * t) * (price / base_price) ** eps
                total = max(2, int(round(mean_q * math.exp(rng.normal(0, 0.1)))))
                # Split the month's units over 1..4 sales at slightly different prices
                # (discounts), so the period price is a revenue-weighted average.
                k = int(rng.integers(1, 5))
                cuts = sorted(rng.choice(np.arange(1, total), size=min(k - 1, total - 1),
                                         replace=False).tolist()) if total > 1 else []
                parts = [b - a for a, b in zip([0] + cuts, cuts + [total])]
                for units in parts:
                    unit = price * (1.0 - (0.1 if rng.uniform() < 0.3 and product != "F" else 0.0))
                    day = int(rng.integers(1, 29))
                    rows.append({
                        "customer_id": customers[int(rng.integers(0, len(customers)))],
                        "date": f"{y:04d}-{m:02d}-{day:02d}",
                        "amount": round(units * unit, 2),
                        "quantity": float(units),
                        "product_id": product,
                        "region": region,
                    })
                if rng.uniform() < 0.1:
                    # A return of one unit: negative amount, out of the price series.
                    rows.append({
                        "customer_id": customers[int(rng.integers(0, len(customers)))],
                        "date": f"{y:04d}-{m:02d}-{int(rng.integers(1, 29)):02d}",
                        "amount": -round(price, 2),
                        "quantity": 1.0,
                        "product_id": product,
                        "region": region,
                    })
                if rng.uniform() < 0.05:
                    # A free item: zero amount, out of the price series.
                    rows.append({
                        "customer_id": customers[int(rng.integers(0, len(customers)))],
                        "date": f"{y:04d}-{m:02d}-{int(rng.integers(1, 29)):02d}",
                        "amount": 0.0,
                        "quantity": 1.0,
                        "product_id": product,
                        "region": region,
                    })
    df = pd.DataFrame(rows)
    # Shuffle so the loader's sort is exercised.
    return df.sample(frac=1.0, random_state=SEED).reset_index(drop=True)


def num(x):
    x = float(x)
    return x if math.isfinite(x) else None


def fit_line(g, by_season):
    """g: rows of one line. Returns the JSON entry (without the line's key)."""
    usable = g[(g.quantity > 0) & (g.amount > 0)]
    excluded = int(len(g) - len(usable))
    cells = (usable.groupby("month").agg(Q=("quantity", "sum"), R=("amount", "sum"))
             .reset_index().sort_values("month"))
    n = len(cells)
    out = {"observations": n, "excluded_rows": excluded,
           "quantity": float(cells.Q.sum()), "revenue": float(cells.R.sum())}
    if n < MIN_OBS:
        out["status"] = "TooFewObservations"
        return out
    lnp = np.log(cells.R / cells.Q).to_numpy()
    lnq = np.log(cells.Q).to_numpy()
    sd = float(np.std(lnp, ddof=1))
    s = np.sort(lnp)
    distinct = 1 + int(np.sum(np.diff(s) > 1e-9))
    if sd < MIN_SD or distinct < MIN_DISTINCT:
        out.update(status="NotEnoughVariation", log_price_sd=sd, distinct_prices=distinct)
        return out
    cols = {"const": np.ones(n)}
    k = 2
    trend = n >= k + 1 + MIN_DF
    if trend:
        cols["trend"] = (cells.month - cells.month.iloc[0]).to_numpy(dtype=float)
        k += 1
    quarters = ((cells.month % 12) // 3 + 1).to_numpy()
    observed = sorted(set(quarters.tolist()))
    dummies = observed[1:]
    use = (not by_season) and len(dummies) > 0 and n >= k + len(dummies) + MIN_DF
    if use:
        for d in dummies:
            cols[f"q{d}"] = (quarters == d).astype(float)
        k += len(dummies)
    cols["lnP"] = lnp
    X = pd.DataFrame(cols)
    res = sm.OLS(lnq, X).fit()
    lo, hi = res.conf_int(alpha=1 - CONFIDENCE).loc["lnP"]
    out.update(
        status="Estimated",
        elasticity=num(res.params["lnP"]),
        se=num(res.bse["lnP"]),
        lo=num(lo),
        hi=num(hi),
        p_value=num(res.pvalues["lnP"]),
        r_squared=num(res.rsquared),
        df=int(round(res.df_resid)),
        trend=bool(trend),
        season_dummies=len(dummies) if use else 0,
        log_price_sd=sd,
        distinct_prices=distinct,
        params={name: num(v) for name, v in res.params.items()},
    )
    return out


def main():
    rng = np.random.default_rng(SEED)
    tx = make_transactions(rng)
    tx.to_csv(os.path.join(HERE, "transactions.csv"), index=False, float_format="%.2f")
    # Read back what was written, so the reference sees exactly the file's numbers.
    tx = pd.read_csv(os.path.join(HERE, "transactions.csv"), dtype={"customer_id": str})
    dates = pd.to_datetime(tx.date)
    tx["month"] = dates.dt.year * 12 + dates.dt.month - 1
    tx["season"] = (dates.dt.month - 1) // 3 + 1

    ref = {"meta": {
        "python": sys.version.split()[0], "statsmodels": statsmodels.__version__,
        "numpy": np.__version__, "pandas": pd.__version__, "scipy": scipy.__version__,
        "seed": SEED, "confidence": CONFIDENCE, "min_observations": MIN_OBS,
        "min_price_variation": MIN_SD, "rows": len(tx),
        "planted": {p: v[0] for p, v in PRODUCTS.items()},
    }}
    for split, keys, by_season in [
        ("product", ["product_id"], False),
        ("product_region", ["product_id", "region"], False),
        ("product_season", ["product_id", "season"], True),
    ]:
        lines = []
        for key, g in tx.groupby(keys, sort=True):
            key = key if isinstance(key, tuple) else (key,)
            entry = {"product": key[0],
                     "region": key[1] if split == "product_region" else None,
                     "season": int(key[1]) if split == "product_season" else None}
            entry.update(fit_line(g, by_season))
            lines.append(entry)
        ref[split] = lines
    with open(os.path.join(HERE, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")
    for split in ["product", "product_region", "product_season"]:
        for e in ref[split]:
            print(split, e["product"], e["region"], e["season"], e["status"], e["observations"],
                  e.get("elasticity"), e.get("lo"), e.get("hi"), e.get("trend"),
                  e.get("season_dummies"))


if __name__ == "__main__":
    main()
