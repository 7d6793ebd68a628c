#!/usr/bin/env python3
"""Time acrm's FP-growth and association rules (the `basket` example) against mlxtend.

Not run by CI. See README.md beside this file for the environment (a virtualenv with
mlxtend 0.25.0, pandas and numpy) and how to run it.

Data (numpy default_rng(seed), generated in a child process, written to --workdir as
`baskets_n{B}_i{I}_seed{S}.txt` and reused when a file made with the same settings is already
there; a sidecar .json records them). One basket per line, items as integers 0..I-1 in
increasing order, separated by single spaces; no empty lines. The distribution (the criterion
benchmark implements the same one in Rust; the random streams differ):
  * items k = 0..I-1 with popularity weight proportional to 1/(k+1) (Zipf, exponent 1.0);
  * P = max(10, floor(I/10)) patterns; pattern j has length min(I, 2 + Poisson(1.5)), its
    items drawn by popularity without replacement (successive draws proportional to the
    weights of the items not drawn yet); pattern weights proportional to Exp(1) draws;
  * basket size n = 1 + Poisson(9) (mean 10); with probability 0.6 the basket holds one
    pattern drawn by pattern weight, each of its items kept independently with probability
    0.85; the remaining n - kept slots (if positive) are filled with items drawn by
    popularity, with replacement; duplicates are then removed (so a basket has at most
    max(n, kept) items, and fewer where a draw repeats an item; never zero).
  Drawing order: the P pattern lengths, then the pattern items, then the pattern weights, then
  per block of 1,000,000 baskets: sizes, pattern flags, pattern ids, keep flags (a basket x
  max-pattern-length array), fill items.
  Defaults --baskets 100000 --items 1000 --seed 2026: 100 patterns (mean length 3.53),
  892,444 item mentions (8.92 per basket: item 0 alone has weight 1/H(1000) = 0.134, so fill
  draws repeat often), 7 single-item baskets, a 2.6 MiB file, under 1 s to generate.
  --baskets 10000000 --items 50000: 5,000 patterns, 95,157,908 item mentions (9.52 per
  basket), a 367 MB (350 MiB) file, 32-46 s to generate on this machine (while other builds
  ran), peak RSS 0.9 GB (blocks of 1M baskets). The same seed gives the same bytes.

Measured, --repeats times each, each run a fresh process; the median is reported:
  mlxtend  reading the file into lists of item strings (`line.split()`; timed as read), then
           the encode: TransactionEncoder().fit(b).transform(b, sparse=True) and
           pd.DataFrame.sparse.from_spmatrix(..., columns=te.columns_) (a sparse bool
           DataFrame, as mlxtend's user guides show for many items and small baskets: its
           encode is 0.35-0.5 s against 1.1-1.2 s for the dense one (--encoding dense), and
           fpgrowth is as fast at 0.02 and faster at lower supports), then, timed apart,
           fpgrowth(df, min_support, use_colnames=False, max_len) and
           association_rules(itemsets, num_itemsets=N, metric='confidence', min_threshold).
  acrm     `basket FILE --min-support S --min-confidence C --json [--max-len N]
           --out-itemsets F --out-rules F`: its `elapsed_ms` (mining + rules, the file read
           excluded), `fpgrowth_ms`, `rules_ms` and `read_ms`. The wall time of each whole
           process (start-up, read, mining, rules, writing both CSVs) is reported too.
Peak RSS is each child's ru_maxrss from os.wait4, the largest over the repeats. mlxtend's
includes the interpreter with numpy, pandas, scipy and mlxtend imported (printed apart, from
one process that only imports them) and the baskets as Python lists. This process imports
nothing heavy, so the children's RSS floor stays small (printed with the table).

Default --min-support 0.02 (count >= 2,000) is calibrated so that mlxtend's fpgrowth takes
about 2 s on the default data on this 2-core machine: median 1.83 s over 3 runs (1.70-1.93 s;
1.7-2.1 s of CPU time over a dozen runs), 284 itemsets (67 single items, 140 pairs, 70
triples, 7 of 4) and 372 rules at confidence 0.2; with it the read takes 0.28 s, the encode
0.26 s, association_rules 0.004 s, the whole process 4.6 s (2.2 s of it imports) and peaks
at 270 MB (142 MB with only the imports). Most of fpgrowth is building the FP-tree (1.3 s:
one Python loop over the 100,000 baskets), so lower supports grow slowly: 0.015 2.3-2.6 s,
0.01 2.4-3.3 s (804 itemsets), 0.005 about 4 s (2,156), 0.003 about 5.5 s (4,281). While
other processes compete for the cores, wall times reach 1.5x the CPU times; the worker
reports both.

Agreement (when both sides ran): the same frequent itemsets with the same counts (sets of item
names -> count), the same number of rules, and for every rule, matched by (antecedent,
consequent), every metric within --tol (|a - b| <= tol * max(1, |b|); inf equals inf only).
A rule whose confidence equals --min-confidence within --tol and that only one side keeps is
reported apart and not counted as a disagreement: mlxtend computes the confidence as
(sAC * N) / (sA * N) with sX = count_X / N, which can land one ulp below count_AC / count_A
(so a rule whose exact confidence is 1/10 can be dropped at 0.1 on one side and kept on the
other).
acrm's top_rules (10 highest lifts) must be mlxtend rules with the same support, confidence
and lift, none below mlxtend's 10th highest lift. Also the basket and distinct-item counts.
mlxtend quirk: it keeps an itemset when count / N >= min_support (float), but prunes inside
conditional FP-trees at count >= ceil(min_support * N); when min_support * N is not an exact
integer in floating point those two can disagree at the boundary; the script warns then.

Exit status: 0 when everything ran (and agrees), 1 on a setup problem or a failed run, 2 on
disagreement.

Threads: mlxtend is single-threaded Python; RAYON_NUM_THREADS is passed through as it is
(unset, acrm's rayon pool, if it uses one, takes every core).

Usage (from the repository root):
  /work/pyenv-mlxtend/bin/python benches/compare/basket_vs_mlxtend.py
  /work/pyenv-mlxtend/bin/python benches/compare/basket_vs_mlxtend.py --skip-acrm --repeats 1
  /work/pyenv-mlxtend/bin/python benches/compare/basket_vs_mlxtend.py --baskets 10000000 \\
      --items 50000 --min-support 0.001 --skip-mlxtend --repeats 1
"""

from __future__ import annotations

# Only the standard library at module level, common.py included: while children are measured
# this process must stay small (see common.run_measured). numpy, pandas and mlxtend are
# imported in the workers.
import argparse
import csv
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # common.py, beside this file
from common import (conditions, die, examples_dir, fmt, json_line, ratio, reuse_data, rss,  # noqa: E402
                    run_measured, run_side, self_cmd, versions, write_json, write_sidecar)

ZIPF_EXPONENT = 1.0
PATTERN_LEN_BASE = 2
PATTERN_LEN_POISSON = 1.5
SIZE_POISSON = 9.0
PATTERN_PROB = 0.6
KEEP_PROB = 0.85
CHUNK = 1_000_000  # baskets per generator block (part of the random stream)
MINSUP_DEFAULT = 0.02
GENERATOR_VERSION = 1  # bump when the data-generating code below changes
METRICS = ["antecedent_support", "consequent_support", "support", "confidence", "lift", "leverage",
           "conviction", "zhangs_metric", "jaccard", "certainty", "kulczynski"]
PACKAGES = ("mlxtend", "pandas", "numpy", "scipy")  # whose versions the workers report
MLXTEND_COLUMNS = {"antecedent_support": "antecedent support", "consequent_support": "consequent support"}


# --------------------------------------------------------------------------------------------
# command line


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--baskets", type=int, default=100_000, help="baskets to generate (default 100000)")
    p.add_argument("--items", type=int, default=1000, help="distinct items of the generator (default 1000)")
    p.add_argument("--seed", type=int, default=2026, help="numpy seed of the data (default 2026)")
    p.add_argument("--min-support", type=float, default=MINSUP_DEFAULT,
                   help=f"minimum support, a fraction of the baskets (default {MINSUP_DEFAULT})")
    p.add_argument("--min-confidence", type=float, default=0.2, help="minimum rule confidence (default 0.2)")
    p.add_argument("--max-len", type=int, default=None, help="longest itemset (default: no limit)")
    p.add_argument("--repeats", type=int, default=3, help="runs per side; the median is reported (default 3)")
    p.add_argument("--encoding", choices=("sparse", "dense"), default="sparse",
                   help="mlxtend's one-hot DataFrame (default sparse)")
    p.add_argument("--skip-mlxtend", action="store_true", help="run only acrm (no agreement check)")
    p.add_argument("--skip-acrm", action="store_true", help="run only mlxtend (no acrm binary needed)")
    p.add_argument("--tol", type=float, default=1e-9,
                   help="metric tolerance, absolute below 1 and relative above (default 1e-9)")
    p.add_argument("--workdir", type=Path, default=Path("/tmp/acrm_compare"),
                   help="where the basket file (and a .json with its settings) is kept and reused, and "
                        "where both sides write their itemsets and rules (default /tmp/acrm_compare)")
    p.add_argument("--acrm-bin", type=Path, default=None,
                   help="the built `basket` example (default $CARGO_TARGET_DIR or <repo>/target, "
                        "/release/examples/basket)")
    p.add_argument("--json-out", type=Path, default=None, help="also write all results as JSON here")
    # internal: generate data, or run mlxtend once, in this (fresh) process
    p.add_argument("--worker", choices=("gen", "mlxtend", "mlxtend-import"), help=argparse.SUPPRESS)
    p.add_argument("--file", type=Path, default=None, help=argparse.SUPPRESS)
    p.add_argument("--dump", type=Path, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.baskets < 1 or args.items < 2 or args.repeats < 1:
        p.error("--baskets must be at least 1, --items at least 2, --repeats at least 1")
    if not 0.0 < args.min_support <= 1.0:
        p.error("--min-support must be in (0, 1]")
    if not 0.0 <= args.min_confidence <= 1.0:
        p.error("--min-confidence must be in [0, 1]")
    if args.max_len is not None and args.max_len < 1:
        p.error("--max-len must be at least 1")
    if args.skip_mlxtend and args.skip_acrm:
        p.error("nothing to do: --skip-mlxtend and --skip-acrm")
    return args


# --------------------------------------------------------------------------------------------
# workers (fresh processes)


def worker_gen(args) -> int:
    """Write the basket file (see the module docstring for the distribution)."""
    import numpy as np

    t_start = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    n_items, n_baskets = args.items, args.baskets
    w = 1.0 / np.arange(1, n_items + 1, dtype=np.float64) ** ZIPF_EXPONENT
    cdf = np.cumsum(w)
    total = cdf[-1]

    def draw(k: int):  # k items by popularity, with replacement
        return np.minimum(np.searchsorted(cdf, rng.random(k) * total, side="right"), n_items - 1)

    n_pat = max(10, n_items // 10)
    plen = np.minimum(PATTERN_LEN_BASE + rng.poisson(PATTERN_LEN_POISSON, n_pat), n_items)
    lmax = int(plen.max())
    pat = np.zeros((n_pat, lmax), dtype=np.int64)
    p = w / total
    for j in range(n_pat):  # successive draws by popularity, without replacement
        pat[j, :plen[j]] = rng.choice(n_items, size=int(plen[j]), replace=False, p=p)
    pw = rng.exponential(1.0, n_pat)
    pcdf = np.cumsum(pw)

    maxd = len(str(n_items - 1))
    names = np.arange(n_items).astype(f"S{maxd}")
    digits = np.frombuffer(names.tobytes(), dtype=np.uint8).reshape(n_items, maxd)
    nlen = np.char.str_len(names).astype(np.int64)

    tmp = args.file.with_suffix(".txt.part")
    tokens = 0
    item_seen = np.zeros(n_items, dtype=bool)
    size_hist = np.zeros(1, dtype=np.int64)
    with open(tmp, "wb") as f:
        for start in range(0, n_baskets, CHUNK):
            nb = min(CHUNK, n_baskets - start)
            size = 1 + rng.poisson(SIZE_POISSON, nb)
            has = rng.random(nb) < PATTERN_PROB
            pid = np.minimum(np.searchsorted(pcdf, rng.random(nb) * pcdf[-1], side="right"), n_pat - 1)
            keep = rng.random((nb, lmax)) < KEEP_PROB
            keep &= np.arange(lmax)[None, :] < plen[pid][:, None]
            keep &= has[:, None]
            kept = keep.sum(axis=1)
            fill = np.maximum(size - kept, 0)
            rp, cp = np.nonzero(keep)
            rows = np.concatenate([rp, np.repeat(np.arange(nb), fill)])
            its = np.concatenate([pat[pid[rp], cp], draw(int(fill.sum()))])
            key = rows * n_items + its
            key.sort()
            key = key[np.concatenate(([True], key[1:] != key[:-1]))]
            rows, its = np.divmod(key, n_items)
            counts = np.bincount(rows, minlength=nb)
            item_seen[its] = True
            h = np.bincount(counts)
            if h.size > size_hist.size:
                size_hist = np.concatenate([size_hist, np.zeros(h.size - size_hist.size, dtype=np.int64)])
            size_hist[:h.size] += h
            tokens += its.size
            # text: each item's digits followed by ' ', the last of a basket by '\n'
            tl = nlen[its] + 1
            ends = np.cumsum(tl)
            starts = ends - tl
            buf = np.empty(int(ends[-1]), dtype=np.uint8)
            il = nlen[its]
            for d in range(maxd):
                m = il > d
                buf[starts[m] + d] = digits[its[m], d]
            buf[ends - 1] = ord(" ")
            buf[ends[np.cumsum(counts) - 1] - 1] = ord("\n")
            buf.tofile(f)
    tmp.replace(args.file)
    meta = {
        "kind": "baskets", "generator_version": GENERATOR_VERSION, "baskets": n_baskets, "items": n_items,
        "seed": args.seed, "patterns": n_pat, "pattern_length_mean": float(plen.mean()),
        "item_mentions": int(tokens), "mean_basket_size": tokens / n_baskets,
        "max_basket_size": int(size_hist.size - 1), "single_item_baskets": int(size_hist[1]) if size_hist.size > 1 else 0,
        "distinct_items_used": int(item_seen.sum()), "file_bytes": args.file.stat().st_size,
        "generate_s": time.perf_counter() - t_start,
    }
    write_sidecar(args.file, meta)
    return 0


def worker_mlxtend_import(args) -> int:
    """Only the imports of worker_mlxtend: the RSS every mlxtend run starts from."""
    t0 = time.perf_counter()
    import pandas as pd  # noqa: F401
    from mlxtend.frequent_patterns import association_rules, fpgrowth  # noqa: F401
    from mlxtend.preprocessing import TransactionEncoder  # noqa: F401

    print(json.dumps({"import_s": time.perf_counter() - t0, "versions": versions(*PACKAGES)}))
    return 0


def worker_mlxtend(args) -> int:
    """One timed mlxtend run; prints a JSON object, and dumps itemsets and rules to --dump."""
    import warnings

    t0 = time.perf_counter()
    import numpy as np
    import pandas as pd
    from mlxtend.frequent_patterns import association_rules, fpgrowth
    from mlxtend.preprocessing import TransactionEncoder

    import_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    with open(args.file) as f:
        baskets = [line.split() for line in f]
    read_s = time.perf_counter() - t0
    n = len(baskets)

    t0 = time.perf_counter()
    te = TransactionEncoder().fit(baskets)
    if args.encoding == "sparse":
        df = pd.DataFrame.sparse.from_spmatrix(te.transform(baskets, sparse=True), columns=te.columns_)
    else:
        df = pd.DataFrame(te.transform(baskets), columns=te.columns_)
    encode_s = time.perf_counter() - t0
    names = list(te.columns_)
    del baskets

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0, c0 = time.perf_counter(), time.process_time()
        fi = fpgrowth(df, min_support=args.min_support, use_colnames=False, max_len=args.max_len)
        fpgrowth_s, fpgrowth_cpu_s = time.perf_counter() - t0, time.process_time() - c0
        t0, c0 = time.perf_counter(), time.process_time()
        if len(fi):
            with np.errstate(divide="ignore", invalid="ignore"):
                rules = association_rules(fi, num_itemsets=n, metric="confidence",
                                          min_threshold=args.min_confidence)
        else:  # association_rules raises on an empty itemset frame
            rules = None
        rules_s, rules_cpu_s = time.perf_counter() - t0, time.process_time() - c0

    n_rules = 0 if rules is None else len(rules)
    sizes = {}
    for s in fi["itemsets"]:
        sizes[len(s)] = sizes.get(len(s), 0) + 1
    if args.dump is not None:
        nm = lambda s: sorted(names[i] for i in s)  # noqa: E731
        out = {"baskets": n, "items": len(names),
               "itemsets": [[nm(s), int(round(v * n))] for s, v in zip(fi["itemsets"], fi["support"])],
               "rules": []}
        if rules is not None:
            cols = {k: rules[MLXTEND_COLUMNS.get(k, k)].to_numpy(dtype=float) for k in METRICS}
            for i, (a, c) in enumerate(zip(rules["antecedents"], rules["consequents"])):
                r = {"antecedent": nm(a), "consequent": nm(c)}
                for k in METRICS:
                    v = float(cols[k][i])
                    r[k] = v if math.isfinite(v) else ("inf" if v > 0 else str(v))
                out["rules"].append(r)
        tmp = args.dump.with_suffix(".part")
        tmp.write_text(json.dumps(out))
        tmp.replace(args.dump)
    print(json.dumps({
        "baskets": n, "items": len(names), "encoding": args.encoding, "import_s": import_s, "read_s": read_s,
        "encode_s": encode_s, "fpgrowth_s": fpgrowth_s, "rules_s": rules_s, "fpgrowth_cpu_s": fpgrowth_cpu_s,
        "rules_cpu_s": rules_cpu_s, "itemsets": int(len(fi)),
        "itemset_sizes": {str(k): v for k, v in sorted(sizes.items())}, "rules": n_rules,
        "warnings": sorted({f"{w.category.__name__}: {str(w.message).strip()[:200]}" for w in caught}),
        "versions": versions(*PACKAGES),
    }))
    return 0


# --------------------------------------------------------------------------------------------
# measurement (this process stays small)


def last_json(text: str, what: str) -> dict:
    """The JSON object a child printed on a line of its own, or else a pretty-printed one."""
    obj = json_line(text)
    if obj is not None:
        return obj
    # a pretty-printed object over several lines: the last '{' at a line start that parses
    lines = text.strip().splitlines()
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].startswith("{"):
            try:
                return json.loads("\n".join(lines[i:]))
            except json.JSONDecodeError:
                continue
    raise ValueError(f"no JSON object in the output of {what}:\n{text[-2000:]}")


def ensure_data(args) -> tuple[Path, dict]:
    """The basket file for (baskets, items, seed), generated in a child process unless already there."""
    args.workdir.mkdir(parents=True, exist_ok=True)
    path = (args.workdir / f"baskets_n{args.baskets}_i{args.items}_seed{args.seed}.txt").resolve()
    want = {"kind": "baskets", "generator_version": GENERATOR_VERSION, "baskets": args.baskets,
            "items": args.items, "seed": args.seed}
    meta = reuse_data(path, want, "file_bytes")
    if meta is not None:
        return path, meta
    print(f"generating {path} ({args.baskets:,} baskets over {args.items:,} items) ...", flush=True)
    t0 = time.perf_counter()
    m = run_measured(self_cmd(__file__, "--worker", "gen", "--file", str(path), "--baskets", str(args.baskets),
                              "--items", str(args.items), "--seed", str(args.seed)))
    if m["returncode"] != 0:
        die(f"generating the baskets failed:\n{m['stderr']}")
    meta = last_json(m["stdout"], "the generator")
    print(f"  done in {time.perf_counter() - t0:.1f} s ({meta['file_bytes'] / 2**20:.0f} MiB, peak RSS "
          f"{mb(m['maxrss_bytes'])})", flush=True)
    return path, meta


def acrm_exe(args) -> Path:
    if args.acrm_bin is not None:
        exe = args.acrm_bin
        if exe.is_dir():
            exe = exe / "basket"
    else:
        exe = examples_dir() / "basket"
    if not exe.is_file():
        die(f"no basket example at {exe}; build it with `cargo build --release --example basket` "
            "(or pass --acrm-bin FILE)")
    return exe.resolve()


def run_basket_side(name: str, cmd: list[str], repeats: int, seconds, note) -> dict:
    """common.run_side with this script's JSON reader and MB format, and stderr's last 4,000 characters."""
    return run_side(name, cmd, repeats, seconds, note, parse=last_json, mb=mb, stderr_tail=4000)


def mb(b) -> str:  # common.mb with thousands separators, as this script's other numbers
    return "-" if b is None else f"{b / 2**20:,.0f} MB"


def ms(rep: dict, key: str):
    v = rep.get(key)
    return None if v is None else float(v) / 1e3


# --------------------------------------------------------------------------------------------
# acrm's output files and the agreement check


def to_float(v) -> float:
    """A metric from either side: numbers, 'inf'/'Infinity'/'-inf', None or '' (NaN)."""
    if v is None or v == "":
        return math.nan
    return float(v)


def item_key(s) -> frozenset:
    if isinstance(s, str):
        s = s.split()
    return frozenset(str(x) for x in s)


def read_acrm_itemsets(path: Path) -> dict:
    out = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            k = item_key(row["items"])
            if k in out:
                raise ValueError(f"{path}: itemset {sorted(k)} twice")
            out[k] = int(float(row["count"]))
    return out


def read_acrm_rules(path: Path) -> dict:
    out = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            k = (item_key(row["antecedent"]), item_key(row["consequent"]))
            if k in out:
                raise ValueError(f"{path}: rule {sorted(k[0])} -> {sorted(k[1])} twice")
            out[k] = {m: to_float(row.get(m)) for m in METRICS}
    return out


def close(a: float, b: float, tol: float) -> bool:
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= tol * max(1.0, abs(b))  # NaN compares False


def compare(args, itemsets_csv: Path, rules_csv: Path, dump: Path, acrm_rep: dict, problems: list[str]) -> dict:
    ml = json.loads(dump.read_text())
    res = {}
    if acrm_rep.get("baskets") is not None and int(acrm_rep["baskets"]) != ml["baskets"]:
        problems.append(f"baskets: acrm {acrm_rep['baskets']} vs mlxtend {ml['baskets']}")
    if acrm_rep.get("items") is not None and int(acrm_rep["items"]) != ml["items"]:
        problems.append(f"distinct items: acrm {acrm_rep['items']} vs mlxtend {ml['items']}")

    m_sets = {item_key(s): c for s, c in ml["itemsets"]}
    a_sets = read_acrm_itemsets(itemsets_csv)
    only_m = [s for s in m_sets if s not in a_sets]
    only_a = [s for s in a_sets if s not in m_sets]
    wrong = [s for s in m_sets if s in a_sets and a_sets[s] != m_sets[s]]
    res.update({"itemsets_mlxtend": len(m_sets), "itemsets_acrm_file": len(a_sets),
                "itemsets_only_mlxtend": len(only_m), "itemsets_only_acrm": len(only_a),
                "itemsets_count_differs": len(wrong)})
    if acrm_rep.get("itemsets") is not None and int(acrm_rep["itemsets"]) != len(a_sets):
        problems.append(f"acrm's JSON says {acrm_rep['itemsets']} itemsets, its CSV has {len(a_sets)}")
    if only_m or only_a or wrong:
        ex = lambda xs: "; ".join(" ".join(sorted(s)) for s in xs[:3])  # noqa: E731
        problems.append(f"itemsets: {len(only_m)} only in mlxtend ({ex(only_m)}), {len(only_a)} only in acrm "
                        f"({ex(only_a)}), {len(wrong)} with other counts ({ex(wrong)})")

    m_rules = {}
    for r in ml["rules"]:
        m_rules[(item_key(r["antecedent"]), item_key(r["consequent"]))] = {k: to_float(r[k]) for k in METRICS}
    a_rules = read_acrm_rules(rules_csv)
    if acrm_rep.get("rules") is not None and int(acrm_rep["rules"]) != len(a_rules):
        problems.append(f"acrm's JSON says {acrm_rep['rules']} rules, its CSV has {len(a_rules)}")
    only_m = [k for k in m_rules if k not in a_rules]
    only_a = [k for k in a_rules if k not in m_rules]
    max_diff = {k: 0.0 for k in METRICS}
    bad = {k: 0 for k in METRICS}
    first_bad = []
    for key, mv in m_rules.items():
        av = a_rules.get(key)
        if av is None:
            continue
        for k in METRICS:
            a, b = av[k], mv[k]
            if not close(a, b, args.tol):
                bad[k] += 1
                if len(first_bad) < 5:
                    first_bad.append(f"{' '.join(sorted(key[0]))} -> {' '.join(sorted(key[1]))}: {k} acrm {a!r} "
                                     f"mlxtend {b!r}")
            elif math.isfinite(a) and math.isfinite(b):
                max_diff[k] = max(max_diff[k], abs(a - b))
    # a rule whose confidence is the threshold itself (e.g. 1/5 at 0.2) is in or out by the last bit of
    # the division; such one-sided rules are reported apart and are not a disagreement
    edge = lambda conf: abs(conf - args.min_confidence) <= args.tol * max(1.0, args.min_confidence)  # noqa: E731
    edge_m = [k for k in only_m if edge(m_rules[k]["confidence"])]
    edge_a = [k for k in only_a if edge(a_rules[k]["confidence"])]
    only_m = [k for k in only_m if k not in set(edge_m)]
    only_a = [k for k in only_a if k not in set(edge_a)]
    res.update({"rules_mlxtend": len(m_rules), "rules_acrm_file": len(a_rules), "rules_only_mlxtend": len(only_m),
                "rules_only_acrm": len(only_a), "rules_at_confidence_threshold_only_mlxtend": len(edge_m),
                "rules_at_confidence_threshold_only_acrm": len(edge_a), "rule_metric_max_abs_diff": max_diff,
                "rule_metric_mismatches": bad,
                "rules_infinite_conviction": sum(1 for v in m_rules.values() if math.isinf(v["conviction"]))})
    if only_m or only_a:
        ex = lambda xs: "; ".join(f"{' '.join(sorted(a))} -> {' '.join(sorted(c))}" for a, c in xs[:3])  # noqa: E731
        problems.append(f"rules: {len(only_m)} only in mlxtend ({ex(only_m)}), {len(only_a)} only in acrm ({ex(only_a)})")
    if any(bad.values()):
        problems.append("rule metrics beyond --tol: " + ", ".join(f"{k} {v}" for k, v in bad.items() if v)
                        + " (" + "; ".join(first_bad) + ")")

    # acrm's top rules by lift: mlxtend rules with the same numbers, none below its 10th lift
    top = acrm_rep.get("top_rules") or []
    lifts = sorted((v["lift"] for v in m_rules.values()), reverse=True)
    tenth = lifts[min(len(top), len(lifts)) - 1] if top and lifts else None
    top_bad = []
    for t in top:
        key = (item_key(t.get("antecedent", [])), item_key(t.get("consequent", [])))
        mv = m_rules.get(key)
        if mv is None:
            top_bad.append(f"{sorted(key[0])} -> {sorted(key[1])} not an mlxtend rule")
            continue
        for k in ("support", "confidence", "lift"):
            if k in t and not close(to_float(t[k]), mv[k], args.tol):
                top_bad.append(f"{sorted(key[0])} -> {sorted(key[1])}: {k} {t[k]} vs {mv[k]}")
        if tenth is not None and mv["lift"] < tenth * (1 - args.tol):
            top_bad.append(f"{sorted(key[0])} -> {sorted(key[1])}: lift {mv['lift']} below mlxtend's "
                           f"{len(top)}th highest {tenth}")
    res["top_rules_checked"] = len(top)
    res["mlxtend_top_lifts"] = lifts[:10]
    if top_bad:
        problems.append("top_rules: " + "; ".join(top_bad[:5]))
    return res


# --------------------------------------------------------------------------------------------


def main() -> int:
    args = parse_args()
    workers = {"gen": worker_gen, "mlxtend": worker_mlxtend, "mlxtend-import": worker_mlxtend_import}
    if args.worker:
        return workers[args.worker](args)
    exe = None if args.skip_acrm else acrm_exe(args)  # fail early, before any data is written

    threads_env = {v: os.environ.get(v) for v in ("RAYON_NUM_THREADS", "OMP_NUM_THREADS")}
    path, meta = ensure_data(args)
    n = meta["baskets"]
    print(f"data: {n:,} baskets, {meta['distinct_items_used']:,} distinct items (of {meta['items']:,}), "
          f"{meta['item_mentions']:,} item mentions ({meta['mean_basket_size']:.2f} per basket), "
          f"{meta['patterns']:,} patterns, {meta['file_bytes'] / 2**20:,.1f} MiB", flush=True)
    min_count = math.ceil(args.min_support * n)
    smallest_kept = next((c for c in range(max(0, min_count - 2), min_count + 3) if c / n >= args.min_support), None)
    boundary_note = None
    if smallest_kept is not None and smallest_kept != min_count:
        boundary_note = (f"min_support * N = {args.min_support * n!r}: mlxtend keeps count {smallest_kept} by "
                         f"count / N but prunes conditional trees at ceil = {min_count}; itemsets of 2+ items "
                         f"with count {smallest_kept} may be missing on its side")
        print("warning: " + boundary_note, flush=True)

    tag = f"s{args.min_support:g}_c{args.min_confidence:g}" + (f"_l{args.max_len}" if args.max_len else "")
    out_sets = path.with_name(path.stem + f"_{tag}_acrm_itemsets.csv")
    out_rules = path.with_name(path.stem + f"_{tag}_acrm_rules.csv")
    dump = path.with_name(path.stem + f"_{tag}_mlxtend.json")
    load_before = os.getloadavg()
    problems: list[str] = []

    ac = None
    if exe is not None:
        cmd = [str(exe), str(path), "--min-support", repr(args.min_support),
               "--min-confidence", repr(args.min_confidence), "--json"]
        if args.max_len is not None:
            cmd += ["--max-len", str(args.max_len)]
        cmd += ["--out-itemsets", str(out_sets), "--out-rules", str(out_rules)]
        for f in (out_sets, out_rules):
            f.unlink(missing_ok=True)
        print(f"== acrm basket, {args.repeats} runs", flush=True)
        ac = run_basket_side("acrm", cmd, args.repeats,
                             lambda r: ms(r, "elapsed_ms") if r.get("elapsed_ms") is not None
                             else (ms(r, "fpgrowth_ms") or 0.0) + (ms(r, "rules_ms") or 0.0),
                             lambda r: f", read {fmt(ms(r, 'read_ms'), '.2f')} s, fpgrowth "
                                       f"{fmt(ms(r, 'fpgrowth_ms'), '.3f')} s, rules "
                                       f"{fmt(ms(r, 'rules_ms'), '.3f')} s, "
                                       f"{r.get('itemsets')} itemsets, {r.get('rules')} rules")

    ml = imp = None
    if not args.skip_mlxtend:
        m = run_measured(self_cmd(__file__, "--worker", "mlxtend-import"))
        if m["returncode"] != 0:
            die(f"importing mlxtend failed (is this the virtualenv with mlxtend?):\n{m['stderr'][-3000:]}")
        imp = {**last_json(m["stdout"], "mlxtend-import"), "maxrss_bytes": m["maxrss_bytes"]}
        print(f"== mlxtend ({imp['versions']['mlxtend']}, {args.encoding} one-hot), {args.repeats} runs "
              f"(imports alone: peak RSS {mb(imp['maxrss_bytes'])})", flush=True)
        dump.unlink(missing_ok=True)
        mcmd = self_cmd(__file__, "--worker", "mlxtend", "--file", str(path), "--min-support", repr(args.min_support),
                        "--min-confidence", repr(args.min_confidence), "--encoding", args.encoding,
                        "--dump", str(dump))
        if args.max_len is not None:
            mcmd += ["--max-len", str(args.max_len)]
        ml = run_basket_side("mlxtend", mcmd, args.repeats, lambda r: r["fpgrowth_s"] + r["rules_s"],
                             lambda r: f", read {r['read_s']:.2f} s, encode {r['encode_s']:.2f} s, fpgrowth "
                                       f"{r['fpgrowth_s']:.3f} s, rules {r['rules_s']:.3f} s, "
                                       f"{r['itemsets']} itemsets, {r['rules']} rules")
    load_after = os.getloadavg()

    res = {"data": meta, "file": str(path), "min_support": args.min_support, "min_confidence": args.min_confidence,
           "max_len": args.max_len, "min_count": min_count, "repeats": args.repeats, "boundary_note": boundary_note}
    floors = []
    if ac is not None:
        a = ac["last"]
        floors += [r["floor_bytes"] for r in ac["runs"]]
        res["acrm"] = {
            "elapsed_median_s": ac["median_s"], "process_median_s": ac["wall_median_s"],
            "read_median_s": ac["med"](lambda r: ms(r["report"], "read_ms") or 0.0) if a.get("read_ms") is not None else None,
            "fpgrowth_median_s": ac["med"](lambda r: ms(r["report"], "fpgrowth_ms") or 0.0) if a.get("fpgrowth_ms") is not None else None,
            "rules_median_s": ac["med"](lambda r: ms(r["report"], "rules_ms") or 0.0) if a.get("rules_ms") is not None else None,
            "peak_rss_bytes": ac["maxrss_bytes"], "baskets": a.get("baskets"), "items": a.get("items"),
            "itemsets": a.get("itemsets"), "rules": a.get("rules"), "top_rules": a.get("top_rules"),
            "runs": [{k: r[k] for k in ("seconds", "wall_s", "maxrss_bytes")} for r in ac["runs"]],
        }
    if ml is not None:
        lr = ml["last"]
        floors += [r["floor_bytes"] for r in ml["runs"]]
        res["mlxtend"] = {
            "encoding": args.encoding, "total_median_s": ml["median_s"], "process_median_s": ml["wall_median_s"],
            "read_median_s": ml["med"](lambda r: r["report"]["read_s"]),
            "encode_median_s": ml["med"](lambda r: r["report"]["encode_s"]),
            "fpgrowth_median_s": ml["med"](lambda r: r["report"]["fpgrowth_s"]),
            "rules_median_s": ml["med"](lambda r: r["report"]["rules_s"]),
            "fpgrowth_cpu_median_s": ml["med"](lambda r: r["report"]["fpgrowth_cpu_s"]),
            "rules_cpu_median_s": ml["med"](lambda r: r["report"]["rules_cpu_s"]),
            "import_s": imp["import_s"], "import_peak_rss_bytes": imp["maxrss_bytes"],
            "peak_rss_bytes": ml["maxrss_bytes"], "baskets": lr["baskets"], "items": lr["items"],
            "itemsets": lr["itemsets"], "itemset_sizes": lr["itemset_sizes"], "rules": lr["rules"],
            "warnings": lr["warnings"], "versions": lr["versions"],
            "runs": [{k: r[k] for k in ("seconds", "wall_s", "maxrss_bytes")} for r in ml["runs"]],
        }
    res["rss_floor_bytes"] = max(floors) if floors else None
    if ac is not None and ml is not None:
        a = res["acrm"]
        res["ratio_fpgrowth_mlxtend_over_acrm"] = ratio(res["mlxtend"]["fpgrowth_median_s"], a["fpgrowth_median_s"])
        res["ratio_rules_mlxtend_over_acrm"] = ratio(res["mlxtend"]["rules_median_s"], a["rules_median_s"])
        res["ratio_total_mlxtend_over_acrm"] = ratio(res["mlxtend"]["total_median_s"], a["elapsed_median_s"])
        for f in (out_sets, out_rules):
            if not f.is_file():
                die(f"acrm wrote no {f}")
        try:
            res["agreement"] = compare(args, out_sets, out_rules, dump, ac["last"], problems)
        except (KeyError, ValueError) as e:
            die(f"reading acrm's output failed: {e!r}")

    print_table(res)
    print()
    print(f"machine: {os.cpu_count()} cores, load average {load_before[0]:.2f} before / {load_after[0]:.2f} after; "
          f"threads RAYON={threads_env['RAYON_NUM_THREADS'] or 'unset'}; Python {platform.python_version()}"
          + ("".join(f", {k} {v}" for k, v in res["mlxtend"]["versions"].items()) if "mlxtend" in res else ""))
    print(f"peak RSS: each child's ru_maxrss (os.wait4), largest of the runs; this script's own RSS when it "
          f"started them, the floor a child inherits, {mb(res['rss_floor_bytes'])}")
    if "agreement" in res:
        print("agreement: " + ("; ".join(problems) if problems else "all within tolerance"))
    else:
        print("agreement: not checked (one side only)")

    summary = {**res, "problems": problems, "seed": args.seed,
               **conditions(threads_env, load_before, load_after)}
    print(json.dumps(summary))
    if args.json_out:
        write_json(args.json_out, summary)
    return 2 if problems else 0


def print_table(r: dict) -> None:
    d = r["data"]
    ml, ac = r.get("mlxtend"), r.get("acrm")
    print()
    print(f"### FP-growth + association rules, {d['baskets']:,} baskets x {d['items']:,} items "
          f"({d['mean_basket_size']:.2f} items per basket), min support {r['min_support']:g} "
          f"(count >= {r['min_count']:,}), min confidence {r['min_confidence']:g}"
          + (f", max len {r['max_len']}" if r["max_len"] else "") + f", median of {r['repeats']}")
    print()
    print("| side | read s | encode s | fpgrowth s | rules s | fpgrowth + rules s | process s | peak RSS | "
          "itemsets | rules |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    floor = r["rss_floor_bytes"]
    if ml:
        print(f"| mlxtend | {ml['read_median_s']:.2f} | {ml['encode_median_s']:.2f} | {ml['fpgrowth_median_s']:.3f} | "
              f"{ml['rules_median_s']:.3f} | {ml['total_median_s']:.3f} | {ml['process_median_s']:.2f} | "
              f"{rss(ml['peak_rss_bytes'], floor, mb)} | {ml['itemsets']:,} | {ml['rules']:,} |")
    if ac:
        print(f"| acrm | {fmt(ac['read_median_s'], '.2f')} | - | {fmt(ac['fpgrowth_median_s'], '.3f')} | "
              f"{fmt(ac['rules_median_s'], '.3f')} | {ac['elapsed_median_s']:.3f} | {ac['process_median_s']:.2f} | "
              f"{rss(ac['peak_rss_bytes'], floor, mb)} | {fmt(ac['itemsets'], ',')} | {fmt(ac['rules'], ',')} |")
    if ml and ac:
        print(f"| ratio mlxtend/acrm | - | - | {fmt(r['ratio_fpgrowth_mlxtend_over_acrm'], '.1f')} | "
              f"{fmt(r['ratio_rules_mlxtend_over_acrm'], '.1f')} | {fmt(r['ratio_total_mlxtend_over_acrm'], '.1f')} | "
              f"{fmt(ratio(ml['process_median_s'], ac['process_median_s']), '.1f')} | - | - | - |")
    print()
    if ml:
        sizes = ", ".join(f"{v:,} of {k}" for k, v in ml["itemset_sizes"].items())
        print(f"mlxtend: {ml['encoding']} one-hot DataFrame; read = Python line.split(), encode = TransactionEncoder "
              f"+ DataFrame; imports {ml['import_s']:.2f} s, a process with only the imports peaks at "
              f"{mb(ml['import_peak_rss_bytes'])}; itemsets by size: {sizes}; CPU time (process_time) of "
              f"fpgrowth {ml['fpgrowth_cpu_median_s']:.3f} s, of rules {ml['rules_cpu_median_s']:.3f} s (below the "
              "wall times when other processes compete for the cores)")
        if ml["warnings"]:
            print("mlxtend warnings: " + " | ".join(ml["warnings"]))
    if ac:
        print("acrm: fpgrowth + rules = its elapsed_ms (file read excluded); process = the whole example, "
              "including writing both CSVs")
    if r.get("boundary_note"):
        print("note: " + r["boundary_note"])
    ag = r.get("agreement")
    if ag:
        print()
        print(f"itemsets: mlxtend {ag['itemsets_mlxtend']:,}, acrm {ag['itemsets_acrm_file']:,}; only mlxtend "
              f"{ag['itemsets_only_mlxtend']}, only acrm {ag['itemsets_only_acrm']}, other count "
              f"{ag['itemsets_count_differs']}. rules: mlxtend {ag['rules_mlxtend']:,}, acrm {ag['rules_acrm_file']:,} "
              f"({ag['rules_infinite_conviction']} with infinite conviction); only mlxtend {ag['rules_only_mlxtend']}, "
              f"only acrm {ag['rules_only_acrm']}")
        if ag["rules_at_confidence_threshold_only_mlxtend"] or ag["rules_at_confidence_threshold_only_acrm"]:
            print(f"rules with confidence equal to the threshold (within --tol), kept by one side only: mlxtend "
                  f"{ag['rules_at_confidence_threshold_only_mlxtend']}, acrm {ag['rules_at_confidence_threshold_only_acrm']} "
                  "(floating-point rounding of the division; not counted as disagreement)")
        print("largest |acrm - mlxtend| per metric: " + ", ".join(
            f"{k} {v:.1e}" for k, v in ag["rule_metric_max_abs_diff"].items()))
    if ac and ac.get("top_rules"):
        print()
        print("| acrm top rules by lift | support | confidence | lift |")
        print("|---|---|---|---|")
        for t in ac["top_rules"]:
            a = t.get("antecedent", [])
            c = t.get("consequent", [])
            a = a if isinstance(a, str) else " ".join(map(str, a))
            c = c if isinstance(c, str) else " ".join(map(str, c))
            print(f"| {a} -> {c} | {fmt(t.get('support'), '.5f')} | {fmt(t.get('confidence'), '.4f')} | "
                  f"{fmt(t.get('lift'), '.2f')} |")


if __name__ == "__main__":
    sys.exit(main())
