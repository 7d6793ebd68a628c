"""Reference numbers for the Fellegi-Sunter tests (run with /tmp/acrm-pyenv/bin/python).

1. Synthetic comparison vectors (4 fields, levels 3,4,2,3, ~5% missing) drawn from planted
   lambda, m, u (seed 21): vectors.csv (one row per pair, 255 = missing), random.csv
   (random pairs, drawn from u only, for u estimation).
2. splink_em.json: a numpy transcription of splink 5's EM
   (splink/internals/expectation_maximisation.py): agreement patterns counted, E-step
   match_probability = bf/(1+bf) with bf = lambda/(1-lambda) * prod m/u over non-null
   levels, M-step m = sum(p*count) per level / sum over non-null levels, lambda =
   sum(p*count)/sum(count), u held fixed; stop when max |change| of m, u, lambda < 1e-4,
   at most 25 iterations; starting m = splink's _default_m_values (0.95 exact, rest equal),
   lambda = 1e-4. u from random pairs (level shares, missing skipped). Every iteration's
   lambda and m stored.
3. ecm.json: recordlinkage 0.16 ECMClassifier(init='random', binarize=None, atol=1e-12,
   max_iter=2000) on the rows without missing (recordlinkage cannot take missing levels):
   lambda, m, u after convergence (class 1 of its arbitrary labelling mapped to the
   class whose exact level of field 0 is most likely).
5. ecm_numpy.json: an independent numpy ECM (lambda, m and u all by EM) on ALL 4,000 rows,
   missing levels skipped (as splink skips them): start lambda = 0.1, m = splink's default
   m, u = level shares over all pairs with half a count added per level; iterate until the
   largest change of lambda, m, u is below 1e-14 (max 5000 iterations). Stored: lambda, m,
   u, the iteration count, and weight / probability of the first 20 pairs.
4. scores.json: match weights and probabilities by splink's formulas for a few rows, with
   and without term-frequency adjustment (bf_tf = u_exact / tf at the exact level).
"""
import json
import numpy as np

rng = np.random.default_rng(21)
LEVELS = [3, 4, 2, 3]
LAM = 0.2
M = [[0.85, 0.1, 0.05], [0.7, 0.15, 0.1, 0.05], [0.9, 0.1], [0.8, 0.15, 0.05]]
U = [[0.05, 0.15, 0.8], [0.02, 0.08, 0.2, 0.7], [0.1, 0.9], [0.03, 0.17, 0.8]]
MISS = 0.05


def draw(n, lam):
    match = rng.random(n) < lam
    rows = np.zeros((n, len(LEVELS)), dtype=np.int64)
    for f, l in enumerate(LEVELS):
        gm = rng.choice(l, size=n, p=M[f])
        gu = rng.choice(l, size=n, p=U[f])
        rows[:, f] = np.where(match, gm, gu)
        rows[rng.random(n) < MISS, f] = 255
    return rows, match


vec, truth = draw(4000, LAM)
rnd, _ = draw(4000, 0.0)
np.savetxt("vectors.csv", np.column_stack([vec, truth.astype(int)]), fmt="%d", delimiter=",",
           header="f0,f1,f2,f3,match", comments="")
np.savetxt("random.csv", rnd, fmt="%d", delimiter=",", header="f0,f1,f2,f3", comments="")

# u from random pairs
u = []
for f, l in enumerate(LEVELS):
    c = np.array([(rnd[:, f] == k).sum() for k in range(l)], dtype=float)
    c[c == 0] = 0.5
    u.append(c / c.sum())

# splink EM over agreement patterns
pats, counts = np.unique(vec, axis=0, return_counts=True)
counts = counts.astype(float)
m = [np.array([0.95] + [0.05 / (l - 1)] * (l - 1)) for l in LEVELS]
lam = 1e-4
hist = []
for it in range(1, 26):
    bf = np.full(len(pats), lam / (1 - lam))
    for f in range(len(LEVELS)):
        g = pats[:, f]
        ok = g != 255
        r = np.ones(len(pats))
        r[ok] = m[f][g[ok]] / u[f][g[ok]]
        bf = bf * r
    p = bf / (1 + bf)
    new_lam = (p * counts).sum() / counts.sum()
    new_m = []
    for f, l in enumerate(LEVELS):
        mc = np.array([(p * counts)[pats[:, f] == k].sum() for k in range(l)])
        new_m.append(mc / mc.sum())
    change = max([abs(new_lam - lam)] + [np.abs(a - b).max() for a, b in zip(new_m, m)])
    lam, m = new_lam, new_m
    hist.append({"lambda": lam, "m": [x.tolist() for x in m], "max_change": change})
    if change < 1e-4:
        break
json.dump({"u": [x.tolist() for x in u], "iterations": it, "history": hist},
          open("splink_em.json", "w"), indent=1)

# recordlinkage ECM (no missing rows)
import recordlinkage.algorithms.nb_sklearn as nb
full = vec[(vec != 255).all(axis=1)]
np.random.seed(3)
ecm = nb.ECM(init="random", binarize=None, atol=1e-12, max_iter=2000)
ecm.fit(full)
prior = np.exp(ecm.class_log_prior_)
fp = np.exp(ecm.feature_log_prob_)
off = np.cumsum([0] + LEVELS)
mi = int(np.argmax(fp[:, 0]))  # class with the larger P(field 0 exact) is "match"
ecm_out = {"pairs": int(len(full)), "iterations": int(len(ecm._logging_class_log_prior) - 1),
           "lambda": float(prior[mi]),
           "m": [fp[mi, off[f]:off[f + 1]].tolist() for f in range(len(LEVELS))],
           "u": [fp[1 - mi, off[f]:off[f + 1]].tolist() for f in range(len(LEVELS))]}
json.dump(ecm_out, open("ecm.json", "w"), indent=1)

# splink scoring formulas
rows = [[0, 0, 0, 0], [2, 3, 1, 2], [1, 255, 0, 2], [255, 255, 255, 255], [0, 1, 1, 0]]
tfs = [[0.001, None, None, 0.2], [None] * 4, [None, None, 0.5, None], [None] * 4,
       [0.3, None, None, 0.0005]]
out = []
for r, tf in zip(rows, tfs):
    w = np.log2(LAM / (1 - LAM))
    wt = w
    for f, g in enumerate(r):
        if g == 255:
            continue
        w += np.log2(M[f][g] / U[f][g])
        wt += np.log2(M[f][g] / U[f][g])
        if g == 0 and tf[f] is not None:
            wt += np.log2(U[f][0] / tf[f])
    bf = 2.0 ** w
    bft = 2.0 ** wt
    out.append({"row": r, "tf": tf, "weight": w, "probability": bf / (1 + bf),
                "weight_tf": wt, "probability_tf": bft / (1 + bft)})
json.dump({"lambda": LAM, "m": M, "u": U, "rows": out}, open("scores.json", "w"), indent=1)
# independent numpy ECM with missing levels skipped
m = [np.array([0.95] + [0.05 / (l - 1)] * (l - 1)) for l in LEVELS]
u = []
for f, l in enumerate(LEVELS):
    c = np.array([(counts * (pats[:, f] == k)).sum() for k in range(l)], dtype=float)
    u.append((c + 0.5) / (c.sum() + 0.5 * l))
lam = 0.1
for eit in range(1, 5001):
    lm = np.full(len(pats), np.log(lam))
    lu = np.full(len(pats), np.log(1 - lam))
    for f in range(len(LEVELS)):
        g = pats[:, f]
        ok = g != 255
        lm[ok] += np.log(m[f][g[ok]])
        lu[ok] += np.log(u[f][g[ok]])
    p = 1.0 / (1.0 + np.exp(lu - lm))
    new_lam = (p * counts).sum() / counts.sum()
    new_m, new_u = [], []
    for f, l in enumerate(LEVELS):
        mc = np.array([(p * counts)[pats[:, f] == k].sum() for k in range(l)])
        uc = np.array([((1 - p) * counts)[pats[:, f] == k].sum() for k in range(l)])
        new_m.append(mc / mc.sum())
        new_u.append(uc / uc.sum())
    change = max([abs(new_lam - lam)] + [np.abs(a - b).max() for a, b in zip(new_m, m)]
                 + [np.abs(a - b).max() for a, b in zip(new_u, u)])
    lam, m, u = new_lam, new_m, new_u
    if change < 1e-14:
        break
scored = []
for r in vec[:20]:
    w = np.log2(lam / (1 - lam))
    for f, g in enumerate(r):
        if g != 255:
            w += np.log2(m[f][g] / u[f][g])
    scored.append({"row": r.tolist(), "weight": w, "probability": 2.0 ** w / (1 + 2.0 ** w)})
json.dump({"iterations": eit, "lambda": lam, "m": [x.tolist() for x in m],
           "u": [x.tolist() for x in u], "pairs": scored},
          open("ecm_numpy.json", "w"), indent=1)

print("splink EM iterations", it, "ECM lambda", ecm_out["lambda"], ecm_out["iterations"], "numpy ECM", eit, lam)
