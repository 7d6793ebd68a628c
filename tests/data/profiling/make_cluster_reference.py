#!/usr/bin/env python3
"""Reference values from scikit-learn for the tests of acrm's clustering metrics.

Prints, as Rust literals, the label vectors and point coordinates below with
`sklearn.metrics.adjusted_rand_score` (for `acrm::profiling::adjusted_rand_index`) and
`sklearn.metrics.silhouette_score(metric="euclidean")` (for the mean silhouette used to
choose k), each to 15 significant digits and also as the shortest round-trip repr.

Not run by CI; the inputs are fixed literals (no randomness). Produced with Python 3.11.7,
numpy 1.24.4, scikit-learn 1.9.1:

    python tests/data/profiling/make_cluster_reference.py

The coordinates are multiples of 0.5, exact in binary, so both sides see the same doubles.
Labels are 0-based with every cluster non-empty, as the library expects (u32, 0..k).
"""

import numpy as np
import sklearn
from sklearn.metrics import adjusted_rand_score, silhouette_score

# (name, labels_a, labels_b, what it covers)
ARI_CASES = [
    ("one_cluster_vs_four",
     [0, 0, 0, 0, 0, 0, 0, 0],
     [0, 0, 1, 1, 2, 2, 3, 3],
     "a single cluster against several: the index is exactly 0"),
    ("permuted_labels",
     [0, 0, 1, 1, 1, 2, 2, 3, 3, 3],
     [2, 2, 3, 3, 3, 0, 0, 1, 1, 1],
     "the same partition under other label names: 1"),
    ("typical",
     [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 0, 1],
     [0, 0, 0, 1, 0, 1, 1, 1, 2, 1, 1, 2, 2, 2, 3, 3, 2, 2, 3, 0],
     "20 items, 3 clusters against 4, mostly agreeing"),
    ("worse_than_chance",
     [0, 0, 0, 1, 1, 1, 2, 2, 2],
     [0, 1, 2, 0, 1, 2, 0, 1, 2],
     "crossed partitions: negative"),
]

# 12 points in the plane, 3 clusters of 5, 4 and 3 points; point 4 sits nearer cluster 1
SIL_POINTS = [
    [0.0, 0.0], [1.0, 0.5], [0.5, 1.5], [-0.5, 1.0], [2.5, 2.0],
    [4.0, 3.0], [5.0, 2.5], [4.5, 4.0], [3.5, 3.5],
    [0.0, 5.0], [1.0, 5.5], [-0.5, 6.0],
]
SIL_LABELS = [0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2]


def lit(v: float) -> str:
    """15 significant digits as a Rust f64 literal (always with a decimal point)."""
    s = format(v, ".15g")
    return s if any(c in s for c in ".eE") or s in ("inf", "nan") else s + ".0"


def main() -> None:
    print(f"// scikit-learn {sklearn.__version__}, numpy {np.__version__}: "
          "tests/data/profiling/make_cluster_reference.py")
    print("// adjusted_rand_score(a, b)")
    for name, a, b, what in ARI_CASES:
        assert len(a) == len(b)
        v = float(adjusted_rand_score(a, b))
        print(f"// {name}: {what}; repr {v!r}")
        print(f"let a: [u32; {len(a)}] = {a};")
        print(f"let b: [u32; {len(b)}] = {b};")
        print(f"let ari_{name} = {lit(v)};")
    x = np.array(SIL_POINTS, dtype=float)
    labels = np.array(SIL_LABELS)
    v = float(silhouette_score(x, labels, metric="euclidean"))
    print("// silhouette_score(points, labels, metric='euclidean')")
    rows = ", ".join(f"[{p[0]:.1f}, {p[1]:.1f}]" for p in SIL_POINTS)
    print(f"let points: [[f64; 2]; {len(SIL_POINTS)}] = [{rows}];")
    print(f"let labels: [u32; {len(SIL_LABELS)}] = {SIL_LABELS};")
    print(f"// repr {v!r}")
    print(f"let silhouette = {lit(v)};")


if __name__ == "__main__":
    main()
