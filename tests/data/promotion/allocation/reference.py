"""Reference numbers for src/promotion/allocation.rs, from scipy.

Fits (scipy.optimize.curve_fit, method="lm", ftol = xtol = gtol = 1e-15, the best of
several starts; pcov with absolute_sigma=False) of three curves to every group of
history.csv:  hill  top*s^k/(s^k+half^k);  hill1  the same with k = 1 fixed;
exp  top*(1-exp(-s/scale)).  AIC = n ln(SSE/n) + 2(p+1).

Allocations (scipy.optimize.minimize, SLSQP, ftol 1e-15, the best of a coarse
exhaustive grid polished by SLSQP and 30 seeded random starts) of a budget across the
groups on the curves fitted here: maximise sum_g y_g(s_g) s.t. sum_g s_g = B, bounds.

Writes reference.json. Run with the venv python: python reference.py
"""
import itertools
import json

import numpy as np
import scipy
from scipy.optimize import curve_fit, minimize


def hill(s, top, half, k):
    return top / (1.0 + (half / np.maximum(s, 1e-300)) ** k) * (s > 0)


def hill1(s, top, half):
    return hill(s, top, half, 1.0)


def expc(s, top, scale):
    return top * (1.0 - np.exp(-s / scale))


FAMILIES = {"hill": (hill, 3), "hill1": (hill1, 2), "exp": (expc, 2)}

data = {}
for line in open("history.csv").read().strip().splitlines()[1:]:
    g, s, y = line.split(",")
    data.setdefault(g, ([], []))
    data[g][0].append(float(s))
    data[g][1].append(float(y))
groups = sorted(data)

fits = {}
for g in groups:
    s, y = (np.array(v) for v in data[g])
    n = len(s)
    mean = s[s > 0].mean()
    fits[g] = {}
    for fam, (f, p) in FAMILIES.items():
        best = None
        for m in [0.1, 0.3, 1.0, 3.0]:
            for k in ([0.7, 1.5, 2.5] if fam == "hill" else [None]):
                p0 = [y.max(), m * mean] + ([k] if k else [])
                try:
                    popt, pcov = curve_fit(
                        f, s, y, p0=p0, method="lm", ftol=1e-15, xtol=1e-15,
                        gtol=1e-15, maxfev=200000)
                except RuntimeError:
                    continue
                if np.any(popt <= 0):
                    continue
                sse = float(np.sum((y - f(s, *popt)) ** 2))
                if best is None or sse < best[2]:
                    best = (popt, pcov, sse)
        popt, pcov, sse = best
        fits[g][fam] = {
            "params": popt.tolist(),
            "cov": pcov.tolist(),
            "se": np.sqrt(np.diag(pcov)).tolist(),
            "sse": sse,
            "aic": n * np.log(sse / n) + 2 * (p + 1),
        }


def curve_of(g, fam):
    f, _ = FAMILIES[fam]
    params = fits[g][fam]["params"]
    return lambda s: f(np.asarray(s, dtype=float), *params)


def chosen(g, choice):
    if choice == "auto":
        return min(["hill", "exp"], key=lambda fam: fits[g][fam]["aic"])
    return choice


def allocate(choice, budget, bounds):
    fams = [chosen(g, choice) for g in groups]
    curves = [curve_of(g, fam) for g, fam in zip(groups, fams)]
    lo = np.array([bounds.get(g, (0.0, None))[0] for g in groups])
    hi = [bounds.get(g, (0.0, None))[1] for g in groups]
    obj = lambda x: -sum(float(c(xi)) for c, xi in zip(curves, x))
    cons = [{"type": "eq", "fun": lambda x: np.sum(x) - budget}]
    bnds = list(zip(lo, hi))
    candidates = []

    def polish(x0):
        r = minimize(obj, x0, method="SLSQP", bounds=bnds, constraints=cons,
                     options={"ftol": 1e-15, "maxiter": 2000})
        if abs(np.sum(r.x) - budget) < 1e-6 and np.all(r.x >= lo - 1e-9):
            candidates.append((-r.fun, r.x))

    # Coarse exhaustive grid over the first G-1 groups (step B/120), the last takes the
    # rest; its best point is polished.
    step = budget / 120
    levels = np.arange(0.0, budget + step / 2, step)
    bestg = None
    for combo in itertools.product(levels, repeat=len(groups) - 1):
        last = budget - sum(combo)
        x = np.array(list(combo) + [last])
        if last < 0 or np.any(x < lo) or any(h is not None and xi > h for xi, h in zip(x, hi)):
            continue
        v = -obj(x)
        if bestg is None or v > bestg[0]:
            bestg = (v, x)
    if bestg is not None:
        polish(bestg[1])
    rng = np.random.default_rng(7)
    for _ in range(30):
        w = rng.dirichlet(np.ones(len(groups)))
        polish(np.maximum(w * budget, lo))
    v, x = max(candidates, key=lambda c: c[0])
    return {"families": fams, "spends": x.tolist(), "objective": v}


cases = [
    {"name": "exp_unbounded", "curve": "exp", "budget": 2500.0, "bounds": {}},
    {"name": "hill1_unbounded", "curve": "hill1", "budget": 3000.0, "bounds": {}},
    {"name": "auto_bounded", "curve": "auto", "budget": 2500.0,
     "bounds": {"display": (0.0, 700.0), "email": (20.0, 150.0), "social": (100.0, None)}},
    {"name": "auto_small", "curve": "auto", "budget": 600.0, "bounds": {}},
    {"name": "auto_unbounded", "curve": "auto", "budget": 2500.0, "bounds": {}},
]
allocations = []
for c in cases:
    r = allocate(c["curve"], c["budget"], c["bounds"])
    allocations.append({**c, "bounds": {g: list(b) for g, b in c["bounds"].items()}, **r})
    print(c["name"], r)

json.dump({
    "source": f"scipy {scipy.__version__}, numpy {np.__version__}: curve_fit (lm) and "
              "minimize (SLSQP) with grid and multi-start",
    "groups": groups,
    "fits": fits,
    "allocations": allocations,
}, open("reference.json", "w"), indent=1)
