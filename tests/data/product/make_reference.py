#!/usr/bin/env python3
"""Reference frequent itemsets and association rules from mlxtend, for the FP-growth tests.

An independent check for the Rust tests: nothing here runs at build or test time; the files
below are committed and read by the tests, which need no Python.

Files (in tests/data/product/):
  * small_baskets.txt -- 60 baskets, one per line, item names separated by single spaces
                         (items within a line are not sorted). Made by make_baskets() below
                         (Python's `random.Random(11)`, see there) and committed; rewrite it with
                         `--write-baskets`. 11 distinct items: milk bread eggs butter cheese
                         apples bananas coffee tea yogurt, plus honey in 3 baskets (support
                         0.05, so infrequent at 0.1). Line 18 is the single-item basket `tea`;
                         line 41 repeats line 6 exactly (and, as sets, 17 baskets repeat an
                         earlier one). At min_support 0.1 (count >= 6 of 60) there are 10
                         single items, 18 pairs, 7 triples and 1 quadruple
                         ({bread, butter, eggs, milk}); {eggs, yogurt} and {butter, yogurt} sit
                         exactly on the threshold (count 6) and 4 itemsets just below (count 5).
                         92 rules at min confidence 0, 4 of them with confidence 1 (conviction
                         null).
  * reference.json    -- written by this script:
      {"mlxtend": "0.25.0", "min_support": 0.1, "baskets": 60,
       "itemsets": [{"items": [sorted names], "support": s}, ...]      sorted by (len, items)
       "rules": [{"antecedent": [sorted], "consequent": [sorted], "antecedent_support",
                  "consequent_support", "support", "confidence", "lift", "leverage",
                  "conviction", "zhangs_metric", "jaccard", "certainty", "kulczynski"}, ...]}
                                                                sorted by (antecedent, consequent)
    Floats are Python repr (round-trip exact); conviction is null where mlxtend gives inf.

How it was run (2026, from tests/data/product/):
    python3.11 -m venv /work/pyenv-mlxtend
    /work/pyenv-mlxtend/bin/pip install mlxtend==0.25.0 pandas numpy
    /work/pyenv-mlxtend/bin/python make_reference.py
with Python 3.11.7, mlxtend 0.25.0, pandas 3.1.1, numpy 2.4.6 (scipy 1.17.1,
scikit-learn 1.9.1 come with mlxtend). The output is deterministic.

What is called:
    te = TransactionEncoder(); df = DataFrame(te.fit(b).transform(b), columns=te.columns_)
    itemsets = fpgrowth(df, min_support=0.1, use_colnames=True)
    rules = association_rules(itemsets, num_itemsets=len(df), metric="confidence",
                              min_threshold=0.0)
In 0.25 `num_itemsets` is the second parameter, optional (default 1); mathematically it only
matters with null_values=True, but it enters the floating-point evaluation (below).

Bit-exact evaluation order (float64, N = number of baskets as a float, sX = count_X / N):
    conf = (sAC * N) / (sA * N)          -- NOT count_AC / count_A, nor sAC / sA
    lift = conf / sC;  leverage = sAC - sA * sC;  conviction = (1 - sC) / (1 - conf)
    zhangs = leverage / max(sAC * (1 - sA), sA * (sC - sAC))
    jaccard = sAC / (sA + sC - sAC);  certainty = (conf - sC) / (1 - sC)
    kulczynski = ((sAC * N) / (sA * N) + (sAC * N) / (sC * N)) / 2
The script checks that these reproduce every stored value bit for bit. count_AC / count_A
differs from mlxtend's confidence by one ulp for many rules (none in this file, 18% of the
rules of a 3,000-basket test set), and with num_itemsets=1 (the default) sAC / sA differs
again. That matters only for ties at min_threshold: a rule whose exact confidence equals the
threshold (e.g. 1/10 at 0.1) is kept or dropped depending on the last bit.

mlxtend 0.25.0 definitions, read from mlxtend/frequent_patterns/{fpgrowth,fpcommon,
association_rules}.py (sA, sC, sAC: supports of antecedent, consequent, both; all are
count / N as float64):
  * support of an itemset = count / N; kept when count / N >= min_support (float compare).
    Inside conditional FP-trees items are pruned with count >= ceil(min_support * N), so if
    min_support * N rounds up past an integer (e.g. 0.1 * 3 = 0.30000000000000004) an itemset
    of 2+ items whose count equals that integer is dropped while a single item with the same
    count is kept. No such case for 0.1 * 60 = 6.0 exactly.
  * max_len: itemsets of at most max_len items.
  * rules: for every frequent itemset of >= 2 items, every non-empty proper subset as the
    antecedent and the rest as the consequent; kept when confidence >= min_threshold.
  * confidence = sAC / sA;  lift = confidence / sC;  leverage = sAC - sA * sC.
  * conviction = (1 - sC) / (1 - confidence) when confidence < 1, else +inf (no special case
    for sC = 1, where it is 0 / (1 - conf) = 0 when conf < 1).
  * zhangs_metric = leverage / max(sAC * (1 - sA), sA * (sC - sAC)), and 0 when that
    denominator is exactly 0, which happens only when the antecedent is in every basket
    (sA = 1, hence sAC = sC and leverage = 0).
  * jaccard = sAC / (sA + sC - sAC)  (no guard; the denominator is >= sA > 0).
  * certainty = (confidence - sC) / (1 - sC), and 0 when sC == 1. This is NOT the textbook
    certainty factor (which divides by sC when confidence < sC): negative values are divided
    by 1 - sC too. (np.where evaluates the division anyway, so sC == 1 warns.)
  * kulczynski = (sAC / sA + sAC / sC) / 2  (computed as sAC*N/(sA*N) and sAC*N/(sC*N)).
  * representativity (also returned; not stored here) = 1 without null values.

Rerun: /work/pyenv-mlxtend/bin/python make_reference.py            (reads small_baskets.txt)
       /work/pyenv-mlxtend/bin/python make_reference.py --write-baskets   (rewrites it first)
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASKETS = HERE / "small_baskets.txt"
OUT = HERE / "reference.json"
MIN_SUPPORT = 0.1
METRICS = [  # (json key, mlxtend column)
    ("antecedent_support", "antecedent support"),
    ("consequent_support", "consequent support"),
    ("support", "support"),
    ("confidence", "confidence"),
    ("lift", "lift"),
    ("leverage", "leverage"),
    ("conviction", "conviction"),
    ("zhangs_metric", "zhangs_metric"),
    ("jaccard", "jaccard"),
    ("certainty", "certainty"),
    ("kulczynski", "kulczynski"),
]

ITEMS = ["milk", "bread", "eggs", "butter", "cheese", "apples", "bananas", "coffee", "tea", "yogurt"]
PATTERNS = [  # (items, weight)
    (["milk", "bread", "eggs", "butter"], 4),
    (["bread", "cheese", "apples"], 2),
    (["coffee", "milk", "yogurt"], 2),
    (["bananas", "apples", "yogurt"], 2),
    (["tea", "bread"], 1),
]


def make_baskets(seed: int = 11, n: int = 58) -> list[list[str]]:
    """58 random baskets of >= 2 items, then the single-item basket and an exact duplicate.

    Each basket: with probability 0.75 a pattern (by weight), each of its items kept with
    probability 0.8; then 0-2 uniformly drawn items (no repeats); kept only with >= 2 items.
    Then ["tea"] is inserted at index 17, a copy of basket 5 at index 40, and "honey" is
    appended to the baskets at indices 3, 20 and 33.
    """
    r = random.Random(seed)
    out: list[list[str]] = []
    while len(out) < n:
        b: list[str] = []
        if r.random() < 0.75:
            pat = r.choices([p for p, _ in PATTERNS], [w for _, w in PATTERNS])[0]
            b = [i for i in pat if r.random() < 0.8]
        for _ in range(r.randint(0, 2)):
            it = r.choice(ITEMS)
            if it not in b:
                b.append(it)
        if len(b) >= 2:
            out.append(b)
    out.insert(17, ["tea"])
    out.insert(40, list(out[5]))
    for i in (3, 20, 33):
        out[i].append("honey")
    return out


def read_baskets(path: Path) -> list[list[str]]:
    return [line.split(" ") for line in path.read_text().splitlines() if line.strip()]


def finite(v: float):
    return float(v) if math.isfinite(v) else None


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--write-baskets", action="store_true", help="rewrite small_baskets.txt first")
    args = p.parse_args()
    if args.write_baskets:
        BASKETS.write_text("".join(" ".join(b) + "\n" for b in make_baskets()))
        print(f"wrote {BASKETS}")

    import mlxtend
    import numpy as np
    import pandas as pd
    from mlxtend.frequent_patterns import association_rules, fpgrowth
    from mlxtend.preprocessing import TransactionEncoder

    baskets = read_baskets(BASKETS)
    n = len(baskets)
    te = TransactionEncoder()
    df = pd.DataFrame(te.fit(baskets).transform(baskets), columns=te.columns_)
    fi = fpgrowth(df, min_support=MIN_SUPPORT, use_colnames=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        rules = association_rules(fi, num_itemsets=n, metric="confidence", min_threshold=0.0)

    itemsets = sorted(({"items": sorted(s), "support": float(v)} for s, v in zip(fi["itemsets"], fi["support"])),
                      key=lambda d: (len(d["items"]), d["items"]))
    out_rules = []
    for _, row in rules.iterrows():
        r = {"antecedent": sorted(row["antecedents"]), "consequent": sorted(row["consequents"])}
        for key, col in METRICS:
            r[key] = finite(row[col])
        out_rules.append(r)
    out_rules.sort(key=lambda d: (d["antecedent"], d["consequent"]))

    # one itemset or rule per line
    head = json.dumps({"mlxtend": mlxtend.__version__, "min_support": MIN_SUPPORT, "baskets": n})[:-1]
    OUT.write_text(head + ',\n "itemsets": [\n' + ",\n".join("  " + json.dumps(d) for d in itemsets)
                   + '\n ],\n "rules": [\n' + ",\n".join("  " + json.dumps(r) for r in out_rules) + "\n ]\n}\n")

    # checks against a brute-force count and the evaluation order of the docstring (not written)
    sets = [frozenset(b) for b in baskets]
    count = lambda s: sum(1 for b in sets if s <= b)  # noqa: E731
    nf = float(n)
    worst, ratio_differs = 0.0, 0
    for d in itemsets:
        assert count(frozenset(d["items"])) / n == d["support"]
    for r in out_rules:
        a, c = frozenset(r["antecedent"]), frozenset(r["consequent"])
        ca, cc, cac = count(a), count(c), count(a | c)
        sa, sc, sac = ca / n, cc / n, cac / n
        conf = (sac * nf) / (sa * nf)
        ratio_differs += conf != cac / ca
        lev = sac - sa * sc
        den = max(sac * (1 - sa), sa * (sc - sac))
        expect = {"antecedent_support": sa, "consequent_support": sc, "support": sac, "confidence": conf,
                  "lift": conf / sc, "leverage": lev, "jaccard": sac / (sa + sc - sac),
                  "kulczynski": ((sac * nf) / (sa * nf) + (sac * nf) / (sc * nf)) / 2,
                  "certainty": 0.0 if sc == 1 else (conf - sc) / (1 - sc),
                  "conviction": None if not conf < 1.0 else (1 - sc) / (1 - conf),
                  "zhangs_metric": 0.0 if den == 0 else lev / den}
        for k, v in expect.items():
            if v is None or r[k] is None:
                assert v is None and r[k] is None, (r, k)
            else:
                worst = max(worst, abs(v - r[k]))
    lens = Counter(len(d["items"]) for d in itemsets)
    dup = sum(c - 1 for c in Counter(frozenset(b) for b in baskets).values() if c > 1)
    print(f"wrote {OUT}: {n} baskets, {len(te.columns_)} items, itemsets by size {dict(sorted(lens.items()))}, "
          f"{len(out_rules)} rules ({sum(r['conviction'] is None for r in out_rules)} with confidence 1); "
          f"{dup} baskets repeat an earlier one as sets, {sum(len(b) == 1 for b in baskets)} single-item")
    print(f"largest |mlxtend - docstring formulas| over all rule metrics: {worst:.2e} (must be 0); "
          f"confidence != count_AC / count_A for {ratio_differs} rules")
    if worst != 0.0:
        print("mlxtend's evaluation order is not the one in the docstring", file=sys.stderr)
        return 1
    print(f"versions: Python {sys.version.split()[0]}, mlxtend {mlxtend.__version__}, pandas {pd.__version__}, "
          f"numpy {np.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
