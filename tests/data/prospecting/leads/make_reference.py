"""Seeded synthetic leads and the statsmodels reference for acrm's lead scoring.

Writes leads.csv (3,000 leads: lead_id, converted, employees, visits,
days_since_contact, source, region) and reference.json: statsmodels' Logit fit with
Newton's method (tol 1e-12, maxiter 100) on the same one-hot design acrm builds
(`source` with reference level `web`, `region` with its first level `east`, indicators
named COLUMN_LEVEL, intercept `const` first), its in-sample ROC AUC from the
Mann-Whitney rank statistic (scipy.stats.rankdata, ties averaged), conversion by score
decile (ranked by score, highest first, ties in row order, 300 leads a group) and the
fitted probabilities of the first 20 leads.

Run: /tmp/acrm-pyenv/bin/python tests/data/prospecting/leads/make_reference.py
"""

import json
import pathlib

import numpy as np
import pandas as pd
import scipy
import scipy.stats
import statsmodels
import statsmodels.api as sm

HERE = pathlib.Path(__file__).parent
N = 3000
SOURCES = ["web", "referral", "event", "partner"]
REGIONS = ["east", "west", "north"]


def generate():
    rng = np.random.default_rng(20261206)
    employees = np.round(np.exp(rng.normal(4.0, 1.2, N))).astype(int) + 1
    visits = rng.poisson(3.0, N)
    days = rng.integers(0, 121, N)
    source = rng.choice(SOURCES, N, p=[0.45, 0.2, 0.2, 0.15])
    region = rng.choice(REGIONS, N, p=[0.4, 0.35, 0.25])
    eta = (
        -1.6
        + 0.25 * np.log(employees)
        + 0.22 * visits
        - 0.012 * days
        + np.select([source == "referral", source == "event", source == "partner"], [0.9, 0.4, -0.3], 0.0)
        + np.select([region == "west", region == "north"], [0.2, -0.25], 0.0)
    )
    converted = rng.random(N) < 1.0 / (1.0 + np.exp(-eta))
    return pd.DataFrame(
        {
            "lead_id": [f"L{i:05d}" for i in range(1, N + 1)],
            "converted": converted.astype(int),
            "employees": employees,
            "visits": visits,
            "days_since_contact": days,
            "source": source,
            "region": region,
        }
    )


def design(df):
    cols = {}
    for c in ["employees", "visits", "days_since_contact"]:
        cols[c] = df[c].astype(float)
    for c, ref in [("source", "web"), ("region", "east")]:
        for level in sorted(df[c].unique()):
            if level != ref:
                cols[f"{c}_{level}"] = (df[c] == level).astype(float)
    return sm.add_constant(pd.DataFrame(cols), prepend=True)


def main():
    df = generate()
    df.to_csv(HERE / "leads.csv", index=False)
    df = pd.read_csv(HERE / "leads.csv")
    X = design(df)
    y = df["converted"].to_numpy()
    res = sm.Logit(y, X).fit(method="newton", tol=1e-12, maxiter=100, disp=False)
    p = res.predict(X).to_numpy()
    ranks = scipy.stats.rankdata(p)
    pos = y == 1
    n_pos, n_neg = pos.sum(), (~pos).sum()
    auc = (ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    order = np.argsort(-p, kind="stable")
    sizes = [N // 10 + (1 if g < N % 10 else 0) for g in range(10)]
    deciles, start = [], 0
    for g, size in enumerate(sizes):
        rows = order[start : start + size]
        start += size
        positives = int(y[rows].sum())
        deciles.append(
            {
                "decile": g + 1,
                "customers": int(size),
                "positives": positives,
                "rate": positives / size,
                "lift": (positives / size) / y.mean(),
            }
        )
    ref = {
        "source": f"statsmodels {statsmodels.__version__} Logit(method='newton', tol=1e-12, "
        f"maxiter=100), numpy {np.__version__}, scipy {scipy.__version__}",
        "n": int(N),
        "conversions": int(y.sum()),
        "coefficients": [
            {
                "name": name,
                "coef": float(res.params[name]),
                "se": float(res.bse[name]),
                "z": float(res.tvalues[name]),
                "p": float(res.pvalues[name]),
            }
            for name in X.columns
        ],
        "llf": float(res.llf),
        "llnull": float(res.llnull),
        "pseudo_r2": float(res.prsquared),
        "iterations": int(res.mle_retvals["iterations"]),
        "auc": float(auc),
        "deciles": deciles,
        "first_probabilities": [float(v) for v in p[:20]],
    }
    (HERE / "reference.json").write_text(json.dumps(ref, indent=1) + "\n")
    print(json.dumps({k: ref[k] for k in ["llf", "llnull", "pseudo_r2", "auc", "iterations"]}))


if __name__ == "__main__":
    main()
