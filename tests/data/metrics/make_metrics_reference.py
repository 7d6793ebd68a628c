"""Reference values for src/numerics/metrics.rs, from scikit-learn.

Run from the repository root:
    /work/pyenv/bin/python tests/data/metrics/make_metrics_reference.py \
        > tests/data/metrics/metrics_reference.json

Deterministic: the same package versions give a byte-identical file.

Cases:
  continuous  200 rows, scores = logistic(N(0, 1.5)), labels ~ Bernoulli(score): no ties.
  ties        150 rows, the same kind of scores rounded to 1 decimal, so most scores tie and
              every score k/10 lies on a calibration bin edge (0.0 and 1.0 are forced in).
  tiny        8 hand-written rows with one tie across classes.

Per case: sklearn's roc_auc_score, average_precision_score, brier_score_loss and
calibration_curve(n_bins=10, strategy="uniform"), which returns the non-empty bins only.
`calibration_counts` is NOT a sklearn output: it repeats sklearn's binning
(np.searchsorted(np.linspace(0, 1, 11)[1:-1], p), i.e. bins (lo, hi], the first one [0, hi])
to count rows per bin, including empty bins.
`lift_numpy` is NOT a sklearn output either (sklearn has no lift table): an independent numpy
version of the crate's rule, rows sorted by score descending with ties by index ascending,
split with np.array_split into 10 groups (the first n % 10 groups get one extra row);
`null` for the tiny case, which has fewer rows than groups.
"""

import json
import sys

import numpy as np
import sklearn
from sklearn.calibration import calibration_curve
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score


def logistic_case(rng, n):
    x = rng.normal(0.0, 1.5, n)
    p = 1.0 / (1.0 + np.exp(-x))
    y = rng.random(n) < p
    return p, y


def lift_numpy(p, y, groups=10):
    order = np.lexsort((np.arange(len(p)), -p))
    overall = y.mean()
    total = y.sum()
    rows = []
    cum_n = cum_pos = 0
    for d, part in enumerate(np.array_split(order, groups), start=1):
        n, pos = len(part), int(y[part].sum())
        cum_n += n
        cum_pos += pos
        rows.append(
            {
                "decile": d,
                "customers": n,
                "positives": pos,
                "rate": pos / n,
                "lift": (pos / n) / overall,
                "cumulative_capture": cum_pos / total,
                "cumulative_lift": (cum_pos / cum_n) / overall,
            }
        )
    return rows


def reference(name, p, y):
    p = np.asarray(p, dtype=float)
    y = np.asarray(y, dtype=bool)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy="uniform")
    binids = np.searchsorted(np.linspace(0.0, 1.0, 11)[1:-1], p)
    return {
        "name": name,
        "scores": [float(v) for v in p],
        "labels": [bool(v) for v in y],
        "roc_auc": float(roc_auc_score(y, p)),
        "average_precision": float(average_precision_score(y, p)),
        "brier": float(brier_score_loss(y, p)),
        "calibration_prob_true": [float(v) for v in prob_true],
        "calibration_prob_pred": [float(v) for v in prob_pred],
        "calibration_counts": [int(v) for v in np.bincount(binids, minlength=10)],
        "lift_numpy": lift_numpy(p, y) if len(p) >= 10 else None,
    }


def main():
    rng = np.random.default_rng(5)
    cases = []

    p, y = logistic_case(rng, 200)
    assert len(np.unique(p)) == len(p)
    cases.append(reference("continuous", p, y))

    p, y = logistic_case(rng, 150)
    p = np.round(p, 1)
    p[:2] = [0.0, 1.0]
    y[:2] = [False, True]
    assert len(np.unique(p)) <= 11
    cases.append(reference("ties", p, y))

    p = [0.9, 0.8, 0.8, 0.6, 0.4, 0.35, 0.2, 0.05]
    y = [True, True, False, False, True, False, False, False]
    cases.append(reference("tiny", p, y))

    out = {
        "meta": {
            "generator": "tests/data/metrics/make_metrics_reference.py",
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "sklearn": sklearn.__version__,
        },
        "cases": cases,
    }
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
