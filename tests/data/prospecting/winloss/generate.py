"""Seeded synthetic deals with stage histories for the win/loss tests.

Run: /tmp/acrm-pyenv/bin/python generate.py (writes opportunities.csv and
stage_history.csv here).
"""
import datetime as dt
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(5)
AS_OF = dt.date(2024, 10, 31)
STAGES = ["prospect", "proposal", "negotiation"]
OWNERS = ["ann", "bob", "cat"]
PRODUCTS = ["boiler", "heat_pump"]
SEGMENTS = {"smb": 0.45, "mid": 0.35, "enterprise": 0.25}
REASONS = ["price", "competitor", "no_budget", "timing"]

opps, hist = [], []
for i in range(1, 201):
    oid = f"o{i:04d}"
    seg = list(SEGMENTS)[int(rng.integers(0, 3))]
    owner = OWNERS[int(rng.integers(0, 3))]
    product = PRODUCTS[int(rng.integers(0, 2))]
    amount = round(float(rng.lognormal(9, 0.8)), 2)
    created = dt.date(2024, 1, 1) + dt.timedelta(days=int(rng.integers(0, 300)))
    expected = created + dt.timedelta(days=int(rng.integers(30, 90)))
    day = created
    closed = None
    status = "open"
    for s, stage in enumerate(STAGES):
        if day > AS_OF:
            break
        hist.append([oid, stage, day.isoformat(), expected.isoformat()])
        stay = int(rng.exponential([12, 20, 15][s])) + 1
        day = day + dt.timedelta(days=stay)
        # Now and then the expected close date is pushed out.
        if rng.random() < 0.3:
            expected = expected + dt.timedelta(days=int(rng.integers(7, 45)))
        if rng.random() < 0.15 and s < 2:
            # Lost early.
            status = "lost"
            break
    else:
        status = "won" if rng.random() < SEGMENTS[seg] / 0.45 * 0.55 else "lost"
    if day > AS_OF:
        status, closed = "open", None
    elif status != "open":
        closed = day
    if status == "open" and rng.random() < 0.5 and hist[-1][0] == oid:
        # Some deals are still being worked: their last stage is running.
        pass
    reason = REASONS[int(rng.integers(0, 4))] if status == "lost" and rng.random() < 0.9 else ""
    opps.append([oid, owner, product, seg, f"{amount:.2f}", status, created.isoformat(),
                 closed.isoformat() if closed else "", expected.isoformat(), reason])

with open(os.path.join(HERE, "opportunities.csv"), "w") as f:
    f.write("id,owner,product,segment,amount,status,created,closed,expected_close,loss_reason\n")
    for r in opps:
        f.write(",".join(r) + "\n")
with open(os.path.join(HERE, "stage_history.csv"), "w") as f:
    f.write("opportunity,stage,entered,expected_close\n")
    for r in hist:
        f.write(",".join(r) + "\n")
