"""Synthetic campaign history for the allocation tests: 4 channels x 12 campaigns.

Each channel's incremental outcome follows a known saturating curve plus normal noise
(sd 4 % of the curve's top), with spends drawn uniformly over a channel-specific range.
Seeded (numpy default_rng(2026)), so re-running writes the same history.csv.

    display  Hill  top 900,  half 400, k 2.2  (S-shaped)
    email    exp   top 300,  scale 80
    search   Hill  top 1200, half 500, k 1
    social   exp   top 600,  scale 300
"""
import numpy as np

rng = np.random.default_rng(2026)
channels = [
    ("display", "hill", (900.0, 400.0, 2.2), (50.0, 1500.0)),
    ("email", "exp", (300.0, 80.0), (10.0, 400.0)),
    ("search", "hill", (1200.0, 500.0, 1.0), (50.0, 2000.0)),
    ("social", "exp", (600.0, 300.0), (30.0, 1200.0)),
]


def curve(kind, p, s):
    if kind == "hill":
        top, half, k = p
        return top * s**k / (s**k + half**k)
    top, scale = p
    return top * (1 - np.exp(-s / scale))


rows = []
for name, kind, p, (lo, hi) in channels:
    s = np.round(rng.uniform(lo, hi, 12), 2)
    y = curve(kind, p, s) + rng.normal(0.0, 0.04 * p[0], 12)
    rows += [(name, a, round(b, 3)) for a, b in zip(s, y)]

with open("history.csv", "w") as f:
    f.write("group,spend,outcome\n")
    for name, a, b in rows:
        f.write(f"{name},{a},{b}\n")
