"""Test data and independent reference numbers for the weighted pipeline (acrm issue 19
item 3), checked by tests/it/pipeline.rs.

1. Draws `opportunities.csv` (150 deals, numpy seed 19) and `stage_history.csv`.
2. Computes with DuckDB SQL (not with acrm's algorithm): the weekly, quarterly and
   by-stage / by-owner / by-product tables of the open deals (week = floor((close -
   2024-10-01) / 7), quarter = week // 13), weeks starting on Monday, the overdue deals
   as of 2024-11-15, and the stage win rates learned from the closed deals' histories
   with statsmodels' Wilson intervals (proportion_confint(method="wilson")).
3. Writes `reference.json`.

Run: /tmp/acrm-pyenv/bin/python reference.py
"""
import datetime as dt
import json
import os

import duckdb
import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

HERE = os.path.dirname(os.path.abspath(__file__))
START = dt.date(2024, 10, 1)
STAGES = ["prospect", "qualify", "proposal", "negotiation"]
ENTERED = [0.1, 0.25, 0.5, 0.75]
ADVANCE = [0.6, 0.6, 0.7, 0.75]

rng = np.random.default_rng(19)
opps, hist = [], []
for i in range(150):
    oid = f"op{i:03d}"
    created = START + dt.timedelta(days=int(rng.integers(-200, 100)))
    closed = rng.random() < 0.45
    if closed:
        s, won = 0, False
        while True:
            if rng.random() >= ADVANCE[s]:
                break
            if s == 3:
                won = True
                break
            s += 1
        last = s
    else:
        last = int(rng.integers(0, 4))
    day = created
    for s in range(last + 1):
        if s > 0:
            day += dt.timedelta(days=int(rng.integers(5, 35)))
        hist.append((oid, STAGES[s], day.isoformat()))
    if closed:
        close = day + dt.timedelta(days=int(rng.integers(5, 35)))
        status = "won" if won else "lost"
        closed_on = close.isoformat()
    else:
        # Some open deals before the fiscal-year start, most in quarters 0 to 5.
        close = START + dt.timedelta(days=int(rng.integers(-40, 520)))
        if close < created:
            close = created + dt.timedelta(days=3)
        status, closed_on = "open", ""
    # Entered probability: the stage's, with noise; empty for a few closed deals.
    p = ENTERED[last] + float(rng.choice([-0.05, 0.0, 0.05]))
    prob = "" if closed and rng.random() < 0.15 else f"{p:.2f}"
    amount = round(float(rng.lognormal(np.log(20000), 0.8)), 2)
    opps.append(
        dict(
            opp_id=oid,
            stage=STAGES[last],
            probability=prob,
            amount=f"{amount:.2f}",
            close_date=close.isoformat(),
            owner=["ann", "bob", "cy", "dee"][int(rng.integers(0, 4))],
            product=["A", "B", "C"][int(rng.integers(0, 3))],
            created=created.isoformat(),
            status=status,
            closed=closed_on,
            loss_reason="price" if status == "lost" else "",
            region=["north", "south"][int(rng.integers(0, 2))],
        )
    )

pd.DataFrame(opps).to_csv(os.path.join(HERE, "opportunities.csv"), index=False)
pd.DataFrame(hist, columns=["opportunity", "stage", "entered"]).to_csv(
    os.path.join(HERE, "stage_history.csv"), index=False
)

con = duckdb.connect()
con.execute(
    f"""CREATE TABLE o AS SELECT * FROM read_csv('{HERE}/opportunities.csv',
    header=true, all_varchar=true)"""
)
con.execute(
    f"""CREATE TABLE h AS SELECT * FROM read_csv('{HERE}/stage_history.csv',
    header=true, all_varchar=true)"""
)
# Open deals in the tables: on or after the fiscal-year start.
con.execute(
    """CREATE VIEW d AS SELECT opp_id, stage, owner, product,
      CAST(amount AS DOUBLE) AS amount, CAST(probability AS DOUBLE) AS p,
      CAST(close_date AS DATE) AS close,
      CAST(floor(date_diff('day', DATE '2024-10-01', CAST(close_date AS DATE)) / 7) AS INTEGER) AS week
    FROM o WHERE status = 'open'"""
)


def rows(sql):
    df = con.execute(sql).df()
    return json.loads(df.to_json(orient="records", date_format="iso"))


ref = {}
ref["totals"] = rows(
    """SELECT count(*) AS n, sum(amount) AS total_amount, sum(amount * p) AS total_weighted
    FROM d WHERE close >= DATE '2024-10-01'"""
)[0]
ref["weekly"] = rows(
    """WITH w AS (SELECT range AS week FROM range(0,
         (SELECT max(week) + 1 FROM d WHERE close >= DATE '2024-10-01')))
    SELECT w.week, count(d.opp_id) AS n, coalesce(sum(d.amount), 0) AS amount,
      coalesce(sum(d.amount * d.p), 0) AS weighted,
      sum(coalesce(sum(d.amount * d.p), 0)) OVER (ORDER BY w.week) AS cumulative_weighted
    FROM w LEFT JOIN d ON d.week = w.week AND d.close >= DATE '2024-10-01'
    GROUP BY w.week ORDER BY w.week"""
)
ref["quarterly"] = rows(
    """SELECT week // 13 AS quarter, coalesce(stage, 'ALL') AS stage, count(*) AS n,
      sum(amount) AS amount, sum(amount * p) AS weighted
    FROM d WHERE close >= DATE '2024-10-01'
    GROUP BY GROUPING SETS ((week // 13, stage), (week // 13))
    ORDER BY quarter, stage = 'ALL', stage"""
)
for key in ["stage", "owner", "product"]:
    ref[f"by_{key}"] = rows(
        f"""SELECT {key} AS name, count(*) AS n, sum(amount) AS amount,
          sum(amount * p) AS weighted
        FROM d WHERE close >= DATE '2024-10-01' GROUP BY {key} ORDER BY {key}"""
    )
ref["before_start"] = rows(
    """SELECT count(*) AS n, sum(amount) AS amount, sum(amount * p) AS weighted,
      list(opp_id ORDER BY opp_id) AS ids
    FROM d WHERE close < DATE '2024-10-01'"""
)[0]
ref["closed"] = rows("SELECT count(*) AS n FROM o WHERE status <> 'open'")[0]["n"]
# Weeks starting on Monday: week 0 begins on Monday 2024-09-30.
ref["weekly_monday"] = rows(
    """SELECT CAST(floor(date_diff('day', DATE '2024-09-30', close) / 7) AS INTEGER) AS week,
      count(*) AS n, sum(amount) AS amount, sum(amount * p) AS weighted
    FROM d WHERE close >= DATE '2024-10-01' GROUP BY 1 ORDER BY 1"""
)
# As of 2024-11-15: open deals expected to close before it are overdue.
ref["as_of_2024_11_15"] = rows(
    """SELECT count(*) FILTER (WHERE close < DATE '2024-11-15') AS overdue_n,
      sum(amount) FILTER (WHERE close < DATE '2024-11-15') AS overdue_amount,
      sum(amount * p) FILTER (WHERE close < DATE '2024-11-15') AS overdue_weighted,
      count(*) FILTER (WHERE close >= DATE '2024-11-15') AS n,
      sum(amount * p) FILTER (WHERE close >= DATE '2024-11-15') AS total_weighted
    FROM d"""
)[0]
# Owner ann's deals alone.
ref["owner_ann"] = rows(
    """SELECT count(*) AS n, sum(amount * p) AS total_weighted FROM d
    WHERE close >= DATE '2024-10-01' AND owner = 'ann'"""
)[0]
# Learned win rates: closed deals, each stage entered once per deal.
rates = rows(
    """WITH e AS (SELECT DISTINCT h.opportunity, h.stage, o.status, o.owner FROM h
         JOIN o ON o.opp_id = h.opportunity WHERE o.status <> 'open')
    SELECT stage, count(*) AS entered, count(*) FILTER (WHERE status = 'won') AS won
    FROM e GROUP BY stage ORDER BY stage"""
)
for r in rates:
    lo, hi = proportion_confint(r["won"], r["entered"], alpha=0.05, method="wilson")
    r["rate"], r["ci_low"], r["ci_high"] = r["won"] / r["entered"], float(lo), float(hi)
ref["win_rates"] = rates
owner_rates = rows(
    """WITH e AS (SELECT DISTINCT h.opportunity, h.stage, o.status, o.owner FROM h
         JOIN o ON o.opp_id = h.opportunity WHERE o.status <> 'open')
    SELECT owner, stage, count(*) AS entered, count(*) FILTER (WHERE status = 'won') AS won
    FROM e GROUP BY owner, stage ORDER BY owner, stage"""
)
for r in owner_rates:
    lo, hi = proportion_confint(r["won"], r["entered"], alpha=0.05, method="wilson")
    r["ci_low"], r["ci_high"] = float(lo), float(hi)
ref["win_rates_by_owner"] = owner_rates
ref["mean_entered"] = rows(
    """SELECT stage, avg(CAST(probability AS DOUBLE)) AS mean, count(probability) AS n
    FROM o WHERE probability IS NOT NULL AND probability <> '' GROUP BY stage ORDER BY stage"""
)
ref["versions"] = {
    "duckdb": duckdb.__version__,
    "numpy": np.__version__,
    "statsmodels": __import__("statsmodels").__version__,
}
with open(os.path.join(HERE, "reference.json"), "w") as f:
    json.dump(ref, f, indent=1)
print(json.dumps(ref["totals"]), len(ref["weekly"]), "weeks", ref["before_start"]["n"], "before start")
