"""References for acrm's uplift models (tests/it/uplift_models.rs).

Writes, beside this script:
- campaign.csv: 3,000 synthetic campaign rows (numpy default_rng(20261206)): id,
  treatment (0/1), outcome (0/1), features a, b, c on grids of sixteenths (so float32,
  which causalml's trees use, holds them exactly and a tree sees at most 17 distinct
  values per feature), d continuous (3 decimals; not used by the trees).
- trees.json: causalml UpliftTreeClassifier fits on (a, b, c) for four settings (KL, ED,
  Chi with normalisation; KL without normalisation and n_reg 0): each row's uplift
  p_t - p_c (as the distinct values and each row's index into them), and the node count.
- gains.json: split gains of hand-made nodes computed with numpy transcriptions of
  causalml's criterion formulas (causalml/inference/tree/_uplift/_criterion.pyx of
  causalml 0.18.0: KL / ED / Chi pair divergences, the `_reg_summary` shrinkage, the
  `arr_normI` normalisation factor and the gain p*D(left) + (1-p)*D(right) - D(node)).
- tlearner.json: statsmodels Logit fits (Newton, tol 1e-12) on the treated and on the
  control rows of campaign.csv with features (a, b, c, d) and an intercept: both
  coefficient vectors and the uplift P_t(x) - P_c(x) of the first 50 rows; the Logit
  fit of z = y t + (1 - y)(1 - t) on every row and the class-transformation uplift
  2 P(z = 1 | x) - 1 of the first 50 rows.
- forest.json: causalml UpliftRandomForestClassifier (20 trees, depth 5,
  min_samples_leaf 100, KL, max_features 10 clamped to 6) on 20,000 rows of the
  acrm.synth.UpliftSynth distribution (6 features; drawn here with numpy): correlation of
  its predictions with the true uplift on 20,000 fresh rows and the realised uplift of
  its top and bottom deciles there.

Run: /tmp/acrm-pyenv/bin/python tests/data/promotion/uplift_models/make_reference.py
"""

import json
import math
import pathlib

from importlib.metadata import version
CAUSALML = version("causalml")
import numpy as np
import pandas as pd
import statsmodels
import statsmodels.api as sm
from causalml.inference.tree import UpliftRandomForestClassifier, UpliftTreeClassifier

HERE = pathlib.Path(__file__).parent
EPS = 1e-6


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def campaign():
    rng = np.random.default_rng(20261206)
    n = 3000
    a = rng.integers(0, 17, n) / 16.0
    b = rng.integers(0, 17, n) / 16.0
    c = rng.integers(0, 17, n) / 16.0
    d = np.round(rng.normal(0.0, 1.0, n), 3)
    t = (rng.random(n) < 0.5).astype(int)
    base = -1.0 + 1.2 * a - 0.8 * c + 0.3 * d
    tau = np.where((a > 0.5) & (b > 0.5), 1.0, np.where(b < 0.25, -0.6, 0.0))
    y = (rng.random(n) < sigmoid(base + t * tau)).astype(int)
    df = pd.DataFrame(
        {"id": [f"r{i}" for i in range(n)], "treatment": t, "outcome": y,
         "a": a, "b": b, "c": c, "d": d}
    )
    df.to_csv(HERE / "campaign.csv", index=False, float_format="%.6g")
    return pd.read_csv(HERE / "campaign.csv")


# --- causalml's formulas, transcribed (_criterion.pyx, causalml 0.18.0) ---------------

def kl(pk, qk):
    if qk == 0.0:
        return 0.0
    q = min(max(qk, EPS), 1.0 - EPS)
    if pk == 0.0:
        return -math.log(1.0 - q)
    if pk == 1.0:
        return -math.log(q)
    return pk * math.log(pk / q) + (1.0 - pk) * math.log((1.0 - pk) / (1.0 - q))


def divergence(criterion, pt, pc):
    if criterion == "KL":
        return kl(pt, pc)
    if criterion == "ED":
        return 2.0 * (pt - pc) ** 2
    d2 = (pt - pc) ** 2
    return d2 / max(pc, EPS) + d2 / max(1.0 - pc, EPS)


def entropy_h(p, q=-1.0):
    if q == -1.0 and p > 0.0:
        return -p * math.log(p)
    if q > 0.0:
        return -p * math.log(q)
    return 0.0


def reg_summary(counts, target, n_reg, mst):
    """counts: [n_c, pos_c, n_t, pos_t]; returns [p_c, p_t]."""
    out = []
    for n, pos, g in ((counts[0], counts[1], 0), (counts[2], counts[3], 1)):
        if target is None:
            out.append(pos / n if n > 0 else 0.0)
        elif n > mst:
            out.append((pos + target[g] * n_reg) / (n + n_reg))
        else:
            out.append(target[g])
    return out


def norm_factor(node, right):
    n_c, n_c_gt = node[0], right[0]
    sum_n_t, sum_n_t_gt = node[2], right[2]
    pt_a = sum_n_t_gt / (sum_n_t + 0.1)
    pc_a = n_c_gt / (n_c + 0.1)
    res = 0.9 * entropy_h(sum_n_t / (sum_n_t + n_c), n_c / (sum_n_t + n_c)) * kl(pt_a, pc_a)
    n_t_i = node[2]
    pt_a_i = right[2] / (n_t_i + 0.1)
    res += 0.1 * entropy_h(n_t_i / (n_t_i + n_c), n_c / (n_t_i + n_c)) * kl(pt_a_i, pc_a)
    res += n_t_i / (sum_n_t + n_c) * entropy_h(pt_a_i, -1.0)
    res += n_c / (sum_n_t + n_c) * entropy_h(pc_a, -1.0)
    return res + 0.5


def gain(criterion, node, left, parent, n_reg, mst, normalization):
    node = np.asarray(node, float)
    left = np.asarray(left, float)
    right = node - left
    if min(left[0], left[2]) < mst or min(right[0], right[2]) < mst:
        return float("-inf"), None
    s_node = reg_summary(node, parent, n_reg, mst)
    s_left = reg_summary(left, s_node, n_reg, mst)
    s_right = reg_summary(right, s_node, n_reg, mst)
    p = (left[0] + left[2]) / (node[0] + node[2])
    g = (p * divergence(criterion, s_left[1], s_left[0])
         + (1 - p) * divergence(criterion, s_right[1], s_right[0])
         - divergence(criterion, s_node[1], s_node[0]))
    if normalization:
        g = g / norm_factor(node, right)
    return g, s_node


def gains():
    # Hand nodes: [control rows, control positives, treated rows, treated positives].
    nodes = [
        ([400, 60, 380, 95], [150, 20, 210, 70], None),
        ([400, 60, 380, 95], [150, 20, 210, 70], [0.2, 0.3]),
        ([120, 0, 130, 13], [60, 0, 50, 9], [0.05, 0.1]),
        ([50, 50, 60, 20], [20, 20, 30, 15], None),
        ([1000, 300, 1000, 300], [500, 100, 500, 200], None),
        ([90, 9, 110, 11], [8, 1, 40, 4], [0.1, 0.1]),
        ([300, 30, 20, 20], [150, 15, 12, 12], [0.1, 0.9]),
    ]
    cases = []
    for criterion in ("KL", "ED", "Chi"):
        for normalization in (True, False):
            for n_reg, mst in ((100.0, 10.0), (0.0, 0.0), (10.0, 30.0)):
                for node, left, parent in nodes:
                    g, s_node = gain(criterion, node, left, parent, n_reg, mst, normalization)
                    cases.append({
                        "criterion": criterion, "normalization": normalization,
                        "n_reg": n_reg, "min_samples_treatment": mst,
                        "node": node, "left": left, "parent": parent,
                        "gain": None if math.isinf(g) else g,
                        "node_rates": s_node,
                    })
    divs = []
    for pt, pc in ((0.3, 0.2), (0.0, 0.4), (1.0, 0.4), (0.5, 0.0), (0.2, 1.0),
                   (0.7, 0.9999999), (0.01, 0.0000001)):
        divs.append({"pt": pt, "pc": pc,
                     "KL": divergence("KL", pt, pc), "ED": divergence("ED", pt, pc),
                     "Chi": divergence("Chi", pt, pc)})
    return {"source": "numpy transcription of causalml 0.18.0 _uplift/_criterion.pyx",
            "cases": cases, "divergences": divs}


def trees(df):
    x = df[["a", "b", "c"]].to_numpy()
    w = np.where(df["treatment"] == 1, "treatment", "control")
    y = df["outcome"].to_numpy()
    fits = []
    for crit, norm, n_reg, mst in (("KL", True, 100, 10), ("ED", True, 100, 10),
                                   ("Chi", True, 100, 10), ("KL", False, 0, 0)):
        m = UpliftTreeClassifier(control_name="control", max_depth=4, min_samples_leaf=60,
                                 min_samples_treatment=mst, n_reg=n_reg,
                                 evaluationFunction=crit, normalization=norm,
                                 random_state=0)
        m.fit(x, treatment=w, y=y)
        p = m.predict(x)  # columns: control, treatment
        u = p[:, 1] - p[:, 0]
        # Each row's uplift as an index into the distinct leaf values (keeps the file small).
        values, index = np.unique(u, return_inverse=True)
        fits.append({"criterion": crit, "normalization": norm, "n_reg": n_reg,
                     "min_samples_treatment": mst, "max_depth": 4, "min_samples_leaf": 60,
                     "nodes": int(m.tree_.node_count),
                     "values": values.tolist(), "index": index.tolist()})
    return {"source": f"causalml {CAUSALML} UpliftTreeClassifier", "fits": fits}


def tlearner(df):
    names = ["a", "b", "c", "d"]
    out = {"source": f"statsmodels {statsmodels.__version__} Logit newton tol 1e-12"}
    probs = {}
    for g, label in ((1, "treated"), (0, "control")):
        sub = df[df["treatment"] == g]
        X = sm.add_constant(sub[names].to_numpy())
        r = sm.Logit(sub["outcome"].to_numpy(), X).fit(method="newton", tol=1e-12,
                                                        maxiter=100, disp=0)
        out[label] = r.params.tolist()
        probs[label] = r.predict(sm.add_constant(df[names].to_numpy()[:50], has_constant="add"))
    out["uplift"] = (probs["treated"] - probs["control"]).tolist()
    # Class transformation: z = y t + (1 - y)(1 - t) on every row; uplift 2 P(z) - 1.
    z = (df["outcome"] == df["treatment"]).astype(int).to_numpy()
    X = sm.add_constant(df[names].to_numpy())
    r = sm.Logit(z, X).fit(method="newton", tol=1e-12, maxiter=100, disp=0)
    out["z"] = r.params.tolist()
    out["class_transformation"] = (2.0 * r.predict(X[:50]) - 1.0).tolist()
    return out


def synth(rng, n, p, effect=1.0):
    x = rng.random((n, p))
    base = -1.0 + x[:, 0] - x[:, 2] + 0.5 * x[:, 3]
    tau = np.where((x[:, 0] > 0.5) & (x[:, 1] > 0.5), effect,
                   np.where(x[:, 1] < 0.25, -effect / 2, 0.0))
    t = rng.random(n) < 0.5
    y = rng.random(n) < sigmoid(base + t * tau)
    return x, t.astype(int), y.astype(int), sigmoid(base + tau) - sigmoid(base)


def decile_uplift(score, t, y):
    order = np.argsort(-score, kind="stable")
    k = len(score) // 10
    res = []
    for idx in (order[:k], order[-k:]):
        tt, yy = t[idx], y[idx]
        res.append(yy[tt == 1].mean() - yy[tt == 0].mean())
    return res


def forest():
    rng = np.random.default_rng(7)
    x, t, y, _ = synth(rng, 20000, 6)
    xt, tt, yt, ut = synth(rng, 20000, 6)
    w = np.where(t == 1, "treatment", "control")
    m = UpliftRandomForestClassifier(control_name="control", n_estimators=20, max_depth=5,
                                     min_samples_leaf=100, evaluationFunction="KL",
                                     max_features=10, random_state=0)
    m.fit(x, treatment=w, y=y)
    pred = m.predict(xt)[:, 0]
    top, bottom = decile_uplift(pred, tt, yt)
    return {"source": f"causalml {CAUSALML} UpliftRandomForestClassifier",
            "train_rows": 20000, "test_rows": 20000, "features": 6, "trees": 20,
            "correlation": float(np.corrcoef(pred, ut)[0, 1]),
            "top_decile_uplift": float(top), "bottom_decile_uplift": float(bottom)}


def main():
    df = campaign()
    (HERE / "gains.json").write_text(json.dumps(gains(), indent=1))
    (HERE / "trees.json").write_text(json.dumps(trees(df)))
    (HERE / "tlearner.json").write_text(json.dumps(tlearner(df), indent=1))
    (HERE / "forest.json").write_text(json.dumps(forest(), indent=1))


if __name__ == "__main__":
    main()
