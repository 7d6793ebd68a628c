"""Writes the issue's comparison shape: 1,000,000 transactions over 100,000 customers
(10 each), in the 8-column layout of `synthesize`. Seeded; needs numpy and pandas
(benches/compare/requirements.txt).

    python benches/compare/make_wide_csv.py /tmp/c100k.csv
    python benches/compare/summary_vs_lifetimes.py --csv /tmp/c100k.csv --runs 5

Customers are acquired over 12 weeks from 2024-01-01; each has 10 purchase days drawn
uniformly over the next 700 days (sorted), Gamma spend, cost 45% of the amount.
"""
import sys

import numpy as np
import pandas as pd

out = sys.argv[1] if len(sys.argv) > 1 else "c100k.csv"
rng = np.random.default_rng(5)
n, per = 100_000, 10
cust = np.repeat(np.arange(1, n + 1), per)
first = rng.integers(0, 84, n)
days = np.repeat(first, per) + np.sort(rng.integers(0, 700, (n, per)), axis=1).ravel()
dates = pd.Timestamp("2024-01-01") + pd.to_timedelta(days, unit="D")
amount = rng.gamma(6.25, 1 / (15.44 / 3.74 * 0.3), n * per)
pd.DataFrame(
    {
        "customer_id": cust,
        "date": dates.strftime("%Y-%m-%d"),
        "amount": amount,
        "cost": amount * 0.45,
        "quantity": rng.integers(1, 4, n * per),
        "product_id": ["p%d" % i for i in rng.integers(0, 300, n * per)],
        "channel": rng.choice(["store", "web", "phone"], n * per),
        "region": rng.choice(["north", "south", "east", "west"], n * per),
    }
).to_csv(out, index=False)
print(f"{n * per} rows, {n} customers -> {out}")
