"""Reference values of scikit-uplift 0.5 (sklift.metrics) for the uplift evaluation tests.

Run with the project venv: /tmp/acrm-pyenv/bin/python reference.py
Writes reference.json (datasets with every metric and curve) and scored.csv (the scored
file the `uplift evaluate` example and its test read). numpy/scikit-learn versions are
recorded in the JSON.
"""
import json
import math
import warnings

import numpy as np
import sklearn
import sklift
from sklift.metrics import (
    perfect_qini_curve,
    perfect_uplift_curve,
    qini_auc_score,
    qini_curve,
    uplift_at_k,
    uplift_auc_score,
    uplift_by_percentile,
    uplift_curve,
    weighted_average_uplift,
)

warnings.filterwarnings("ignore")


def num(v):
    v = float(v)
    return None if math.isnan(v) else v


def attempt(f):
    try:
        return {"value": f()}
    except Exception as e:  # sklift raises ValueError / IndexError on degenerate input
        return {"error": f"{type(e).__name__}: {e}"}


def curve(f):
    x, y = f()
    return {"x": [float(v) for v in x], "y": [float(v) for v in y]}


def synthetic(seed, n, treated_share=0.5, decimals=None, equal=False, harm=False):
    rng = np.random.default_rng(seed)
    t = (rng.random(n) < treated_share).astype(np.int64)
    x = rng.normal(0, 1, n)
    effect = -0.15 if harm else 0.25
    p = 0.2 + effect * t * (x > 0) + 0.1 * (x < -1)
    y = (rng.random(n) < p).astype(np.int64)
    score = x * 0.3 + rng.normal(0, 0.3, n)
    if decimals is not None:
        score = np.round(score, decimals)
    if equal:
        score = np.full(n, 0.25)
    return y, score, t


def metrics(y, s, t):
    out = {}
    out["uplift_curve"] = attempt(lambda: curve(lambda: uplift_curve(y, s, t)))
    out["qini_curve"] = attempt(lambda: curve(lambda: qini_curve(y, s, t)))
    out["perfect_uplift_curve"] = attempt(lambda: curve(lambda: perfect_uplift_curve(y, t)))
    for ne in (True, False):
        out[f"perfect_qini_curve_{ne}"] = attempt(
            lambda: curve(lambda: perfect_qini_curve(y, t, negative_effect=ne)))
        out[f"qini_auc_score_{ne}"] = attempt(lambda: num(qini_auc_score(y, s, t, negative_effect=ne)))
    out["uplift_auc_score"] = attempt(lambda: num(uplift_auc_score(y, s, t)))
    at_k = []
    for k in (0.1, 0.3, 0.5, 0.75, 1, 5, 17):
        for strategy in ("overall", "by_group"):
            r = attempt(lambda: num(uplift_at_k(y, s, t, strategy=strategy, k=k)))
            r.update({"k": k, "k_is_count": isinstance(k, int), "strategy": strategy})
            at_k.append(r)
    out["uplift_at_k"] = at_k
    by_pct = []
    for bins in (10, 7, 3):
        for strategy in ("overall", "by_group"):
            def table():
                df = uplift_by_percentile(y, s, t, strategy=strategy, bins=bins, std=True)
                return [
                    {"percentile": idx, "n_treatment": int(r.n_treatment), "n_control": int(r.n_control),
                     "response_rate_treatment": num(r.response_rate_treatment),
                     "response_rate_control": num(r.response_rate_control), "uplift": num(r.uplift),
                     "std_treatment": num(r.std_treatment), "std_control": num(r.std_control),
                     "std_uplift": num(r.std_uplift)}
                    for idx, r in df.iterrows()
                ]
            r = attempt(table)
            r.update({"bins": bins, "strategy": strategy})
            by_pct.append(r)
            w = attempt(lambda: num(weighted_average_uplift(y, s, t, strategy=strategy, bins=bins)))
            w.update({"bins": bins, "strategy": strategy})
            out.setdefault("weighted_average_uplift", []).append(w)
    out["uplift_by_percentile"] = by_pct
    return out


datasets = {
    "continuous_300": synthetic(1, 300),
    "rounded_1_decimal_400": synthetic(2, 400, decimals=1),
    "rounded_2_decimals_imbalanced_250": synthetic(3, 250, treated_share=0.3, decimals=2),
    "all_equal_60": synthetic(4, 60, equal=True),
    "harmful_treatment_200": synthetic(5, 200, harm=True, decimals=1),
    "tiny_8": (np.array([1, 0, 1, 0, 1, 0, 0, 1]), np.array([0.9, 0.8, 0.3, 0.1, 0.7, 0.2, 0.4, 0.5]),
               np.array([1, 1, 0, 0, 1, 0, 1, 0])),
    "tiny_ties_6": (np.array([1, 0, 0, 1, 1, 0]), np.array([0.5, 0.5, 0.1, 0.5, 0.1, -0.0]),
                    np.array([1, 0, 1, 0, 1, 0])),
}

doc = {
    "source": f"scikit-uplift {sklift.__version__} (sklift.metrics), scikit-learn {sklearn.__version__}, numpy {np.__version__}",
    "datasets": {},
}
for name, (y, s, t) in datasets.items():
    doc["datasets"][name] = {
        "y": [int(v) for v in y], "uplift": [float(v) for v in s], "treatment": [int(v) for v in t],
        "metrics": metrics(y, s, t),
    }

# The scored file of the example: 3000 rows, the scores of the first half rounded to one
# decimal (heavy ties), the second half continuous.
rng = np.random.default_rng(20)
n = 3000
t = (rng.random(n) < 0.5).astype(np.int64)
x = rng.normal(0, 1, n)
y = (rng.random(n) < 0.1 + 0.12 * t * (x > 0.3) - 0.04 * t * (x < -1)).astype(np.int64)
s = 0.05 * x + rng.normal(0, 0.04, n)
s[: n // 2] = np.round(s[: n // 2], 1)
with open("scored.csv", "w") as f:
    f.write("customer_id,uplift_score,treated,converted\n")
    for i in range(n):
        f.write(f"C{i:05d},{float(s[i])!r},{int(t[i])},{int(y[i])}\n")
ks = [0.1, 0.2, 0.3, 0.5]
doc["scored_csv"] = {
    "n": n, "n_treatment": int(t.sum()),
    "qini_auc_score": qini_auc_score(y, s, t), "qini_auc_score_negative_effect_false":
        qini_auc_score(y, s, t, negative_effect=False),
    "uplift_auc_score": uplift_auc_score(y, s, t),
    "uplift_at_k": {str(k): {"overall": uplift_at_k(y, s, t, "overall", k),
                             "by_group": uplift_at_k(y, s, t, "by_group", k)} for k in ks},
    "weighted_average_uplift": weighted_average_uplift(y, s, t, "overall", 10),
    "uplift_by_percentile": [
        {"percentile": idx, "n_treatment": int(r.n_treatment), "n_control": int(r.n_control),
         "response_rate_treatment": r.response_rate_treatment, "response_rate_control": r.response_rate_control,
         "uplift": r.uplift}
        for idx, r in uplift_by_percentile(y, s, t, "overall", 10).iterrows()],
}
with open("reference.json", "w") as f:
    json.dump(doc, f, indent=None, separators=(",", ":"))
    f.write("\n")
