#!/usr/bin/env python3
"""Side-by-side deduplication: splink 5 (DuckDB), recordlinkage and acrm on one CSV of
customer records written by `cargo run --release --example synthesize -- --kind people`
(columns rec_id,source,first_name,surname,dob,email,phone,postcode,address,city,person_id;
person_id is the truth and is never given to a tool).

    /tmp/acrm-pyenv/bin/python benches/compare/dedupe.py FILE.csv [--tools splink,recordlinkage,acrm]
        [--out-dir DIR] [--label 5k] [--json-out FILE.json]

Each tool runs in its own worker process (wall time and peak RSS of that process, from
os.wait4). Metrics against the truth (see README "Identity resolution"):
- pairs: predicted pairs = pairs the tool scores at or above its match threshold;
  true pairs = pairs of records with one person_id; precision, recall, F1;
- cluster pairs: every pair of records within one predicted cluster, against true pairs;
- exact clusters: a predicted cluster (singletons included) is correct when it holds
  exactly the records of one person; precision = correct / predicted clusters,
  recall = correct / true clusters (people), F1 their harmonic mean.
Clusters are "exact clusters" in the summary JSON (--json-out): its "clusters" entry.
Writes DIR/dedupe_<label>_<tool>.json (everything) and prints a markdown table; with
--json-out FILE also one summary {tool: {pairs, clusters, cluster_pairs, elapsed_s,
peak_rss_mb, ...}, records, true_pairs, command} (tests/data/identity/splink_5k.json).
elapsed_s is the tool's own work (read the CSV to clusters) in its worker, imports
excluded; peak_rss_mb is the worker process's peak resident set (imports included).
acrm runs the `dedupe` example's binary (built first by `cargo build --release --example
dedupe`, in $CARGO_TARGET_DIR or ./target, outside the timing); when that example is
missing or fails, acrm is skipped with a message and the others still run.
DuckDB spills to $ACRM_DUCKDB_TMP (default /tmp/acrm-duckdb-tmp), never to ./.tmp.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PLACEHOLDERS = {"", "n/a", "unknown", "none", "null", "-", "xxx"}
THRESHOLD = 0.5  # match probability: pairs >= it are matches, clusters cut at it


# ---------------------------------------------------------------- cleaning (shared)
def clean(df):
    """The data preparation splink's tutorials ask for before linking: placeholders to
    null, names lower case, one date format, phones as digits, e-mails lower case."""
    import pandas as pd

    out = df.copy()
    for c in ["first_name", "surname", "dob", "email", "phone", "postcode", "address", "city"]:
        s = out[c].astype("string").str.strip()
        s = s.where(~s.str.lower().isin(PLACEHOLDERS), pd.NA)
        out[c] = s
    for c in ["first_name", "surname", "address", "city", "email"]:
        out[c] = out[c].str.lower()
    d = out["dob"].str.replace("-", "", regex=False)
    out["dob"] = d.str.slice(0, 4) + "-" + d.str.slice(4, 6) + "-" + d.str.slice(6, 8)
    p = out["phone"].str.replace(r"\D", "", regex=True)
    p = p.where(~p.str.startswith("44", na=False), "0" + p.str.slice(2))
    out["phone"] = p
    out["postcode"] = out["postcode"].str.upper()
    return out


# ---------------------------------------------------------------- workers
def run_splink(path, res):
    import pandas as pd
    import splink
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    t0 = time.perf_counter()
    df = clean(pd.read_csv(path, dtype=str, keep_default_na=False)).drop(columns=["person_id"])
    df = df.rename(columns={"rec_id": "unique_id"})
    res["phases"]["load_clean_s"] = time.perf_counter() - t0
    import duckdb

    # DuckDB spills to `.tmp/` in the working directory by default: keep it under /tmp.
    con = duckdb.connect(":memory:")
    tmpdir = Path(os.environ.get("ACRM_DUCKDB_TMP", "/tmp/acrm-duckdb-tmp"))
    tmpdir.mkdir(parents=True, exist_ok=True)
    con.execute(f"SET temp_directory = '{tmpdir}'")
    db_api = DuckDBAPI(connection=con)
    sdf = db_api.register(df)
    # Settings after splink's "deduplicate_50k_synthetic" example: NameComparison (exact,
    # Jaro-Winkler >= 0.92 / 0.88 / 0.70) with term-frequency adjustment for names,
    # DateOfBirthComparison, EmailComparison, PostcodeComparison, Jaro-Winkler levels on the
    # address, exact phone and city; prediction blocking rules chosen so blocks stay small
    # at 1M (the example's block_on("surname") alone is quadratic on common surnames).
    settings = SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on("first_name", "surname"),
            block_on("surname", "dob"),
            block_on("dob", "postcode"),
            block_on("email"),
            block_on("phone"),
        ],
        comparisons=[
            cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.EmailComparison("email"),
            cl.ExactMatch("phone"),
            cl.PostcodeComparison("postcode"),
            cl.JaroWinklerAtThresholds("address", [0.95, 0.88]),
            cl.ExactMatch("city").configure(term_frequency_adjustments=True),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(sdf, settings, log_level="WARNING")
    t = time.perf_counter()
    # As the example: deterministic rules with recall 0.6 for the prior, u from random
    # pairs (max_pairs 5e6), m by EM on three training blocking rules (each field is
    # estimated in at least one session where it is not blocked on).
    linker.training.estimate_probability_two_random_records_match(
        [block_on("first_name", "surname", "dob"), block_on("email")], recall=0.6
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("first_name", "surname"), estimate_without_term_frequencies=True
    )
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("dob"), estimate_without_term_frequencies=True
    )
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("postcode"), estimate_without_term_frequencies=True
    )
    res["phases"]["train_s"] = time.perf_counter() - t
    t = time.perf_counter()
    pred = linker.inference.predict(threshold_match_probability=THRESHOLD)
    pairs = pred.as_pandas_dataframe()[["unique_id_l", "unique_id_r", "match_probability"]]
    res["phases"]["predict_s"] = time.perf_counter() - t
    t = time.perf_counter()
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        pred, threshold_match_probability=THRESHOLD
    ).as_pandas_dataframe()[["unique_id", "cluster_id"]]
    res["phases"]["cluster_s"] = time.perf_counter() - t
    res["version"] = splink.__version__
    res["settings"] = {
        "threshold_match_probability": THRESHOLD,
        "u": "estimate_u_using_random_sampling(max_pairs=5e6)",
        "em": ["block_on(first_name, surname)", "block_on(dob)", "block_on(postcode)"],
        "duckdb": duckdb.__version__,
    }
    p = pairs.rename(columns={"unique_id_l": "l", "unique_id_r": "r"})
    return p[p["match_probability"] >= THRESHOLD][["l", "r"]], clusters.rename(
        columns={"unique_id": "rec_id"}
    )


def run_recordlinkage(path, res):
    import networkx  # noqa: F401  (kept for parity of environments)
    import pandas as pd
    import recordlinkage
    from recordlinkage.index import Block

    t0 = time.perf_counter()
    df = clean(pd.read_csv(path, dtype=str, keep_default_na=False)).drop(columns=["person_id"])
    df = df.set_index("rec_id")
    res["phases"]["load_clean_s"] = time.perf_counter() - t0
    t = time.perf_counter()
    idx = recordlinkage.Index()
    for keys in (["first_name", "surname"], ["surname", "dob"], ["dob", "postcode"], ["email"], ["phone"]):
        idx.add(Block(keys))
    cand = idx.index(df)
    res["phases"]["index_s"] = time.perf_counter() - t
    res["candidates"] = int(len(cand))
    t = time.perf_counter()
    c = recordlinkage.Compare(n_jobs=1)
    c.string("first_name", "first_name", method="jarowinkler", threshold=0.85, label="first_name")
    c.string("surname", "surname", method="jarowinkler", threshold=0.85, label="surname")
    c.exact("dob", "dob", label="dob")
    c.exact("email", "email", label="email")
    c.exact("phone", "phone", label="phone")
    c.exact("postcode", "postcode", label="postcode")
    c.string("address", "address", method="levenshtein", threshold=0.85, label="address")
    c.exact("city", "city", label="city")
    feats = c.compute(cand, df)
    res["phases"]["compare_s"] = time.perf_counter() - t
    t = time.perf_counter()
    ecm = recordlinkage.ECMClassifier(binarize=0.5)
    matches = ecm.fit_predict(feats)
    res["phases"]["ecm_s"] = time.perf_counter() - t
    t = time.perf_counter()
    p = pd.DataFrame({"l": matches.get_level_values(0), "r": matches.get_level_values(1)})
    clusters = union_find(df.index.tolist(), p)
    res["phases"]["cluster_s"] = time.perf_counter() - t
    res["version"] = recordlinkage.__version__
    res["settings"] = {
        "blocking": "union of 5 Block rules, as splink's prediction rules",
        "compare": "jarowinkler >= 0.85 on names, levenshtein >= 0.85 on the address, exact elsewhere",
        "classifier": "ECMClassifier(binarize=0.5)",
    }
    return p, clusters


def union_find(ids, p):
    import pandas as pd

    pos = {r: i for i, r in enumerate(ids)}
    parent = list(range(len(ids)))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in zip(p["l"], p["r"]):
        ra, rb = find(pos[a]), find(pos[b])
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return pd.DataFrame({"rec_id": ids, "cluster_id": [find(i) for i in range(len(ids))]})


def run_acrm(path, res, tmp):
    import pandas as pd

    ex = REPO / "examples" / "dedupe.rs"
    if not ex.exists() and not (REPO / "examples" / "dedupe").exists():
        raise FileNotFoundError("examples/dedupe.rs is missing: acrm skipped")
    pairs_f, clus_f = Path(tmp) / "acrm_pairs.csv", Path(tmp) / "acrm_clusters.csv"
    # The built binary itself, so that cargo's own start is not timed as acrm's work.
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    cmd = [str(target / "release" / "examples" / "dedupe"), str(path), "--id", "rec_id"]
    for f in ["first_name:name", "surname:name", "dob:date", "email:email", "phone:phone",
              "postcode:postcode", "address:address"]:
        cmd += ["--field", f]
    cmd += ["--json", "--out-pairs", str(pairs_f), "--out-clusters", str(clus_f)]
    run = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if run.returncode != 0 or not pairs_f.exists() or not clus_f.exists():
        raise FileNotFoundError(f"the dedupe example failed: acrm skipped\n{run.stderr[-2000:]}")
    out = run.stdout
    try:
        res["acrm_json"] = json.loads(out)
    except json.JSONDecodeError:
        res["acrm_stdout"] = out[-2000:]
    p = pd.read_csv(pairs_f, dtype={"left_id": str, "right_id": str})
    p = p.rename(columns={"left_id": "l", "right_id": "r"})
    return p[["l", "r"]], pd.read_csv(clus_f, dtype=str)


# ---------------------------------------------------------------- metrics
def prf(tp, pred, true):
    p = tp / pred if pred else 0.0
    r = tp / true if true else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "tp": int(tp), "predicted": int(pred), "true": int(true)}


def metrics(truth, pairs, clusters):
    """truth: DataFrame rec_id, person_id; pairs: DataFrame l, r; clusters: rec_id, cluster_id."""
    person = dict(zip(truth["rec_id"], truth["person_id"]))
    sizes = truth["person_id"].value_counts()
    true_pairs = int((sizes * (sizes - 1) // 2).sum())
    seen = {(min(a, b), max(a, b)) for a, b in zip(pairs["l"], pairs["r"]) if a != b}
    tp = sum(person[a] == person[b] for a, b in seen)
    out = {"pairs": prf(tp, len(seen), true_pairs)}
    c = truth.merge(clusters, on="rec_id", how="left")
    # Records a tool left out of its clusters are singletons.
    c["cluster_id"] = c["cluster_id"].astype(str).where(c["cluster_id"].notna(), "_" + c["rec_id"])
    cs = c["cluster_id"].value_counts()
    both = c.groupby(["cluster_id", "person_id"]).size()
    out["cluster_pairs"] = prf(int((both * (both - 1) // 2).sum()), int((cs * (cs - 1) // 2).sum()), true_pairs)
    g = c.groupby("cluster_id").agg(n=("person_id", "size"), k=("person_id", "nunique"), p=("person_id", "first"))
    exact = int(((g["k"] == 1) & (g["n"] == g["p"].map(sizes))).sum())
    ex = prf(exact, len(g), len(sizes))
    out["exact_clusters"] = {k: ex[k] for k in ("precision", "recall", "f1")} | {
        "correct": exact, "predicted_clusters": int(len(g)), "true_clusters": int(len(sizes))}
    return out


# ---------------------------------------------------------------- driver
def worker(tool, path, out_json, tmp):
    import pandas as pd

    res = {"tool": tool, "file": str(path), "phases": {}}
    t = time.perf_counter()
    fn = {"splink": run_splink, "recordlinkage": run_recordlinkage}.get(tool)
    pairs, clusters = fn(path, res) if fn else run_acrm(path, res, tmp)
    res["wall_s"] = time.perf_counter() - t
    truth = pd.read_csv(path, dtype=str, keep_default_na=False, usecols=["rec_id", "person_id"])
    res["records"] = int(len(truth))
    res["metrics"] = metrics(truth, pairs.astype(str), clusters.astype(str))
    Path(out_json).write_text(json.dumps(res, indent=2))


def summary(rows, truth_path, command):
    """The comparison in one JSON object: per tool the pair and exact-cluster metrics, the
    tool's own time (load to clusters, in its worker) and the worker's peak RSS."""
    import pandas as pd

    truth = pd.read_csv(truth_path, dtype=str, keep_default_na=False, usecols=["person_id"])
    sizes = truth["person_id"].value_counts()
    out = {}
    for r in rows:
        m = r["metrics"]
        pick = lambda d: {k: d[k] for k in ("precision", "recall", "f1")}  # noqa: E731
        out[r["tool"]] = {
            "pairs": pick(m["pairs"]) | {"predicted": m["pairs"]["predicted"], "tp": m["pairs"]["tp"]},
            "clusters": pick(m["exact_clusters"]) | {
                k: m["exact_clusters"][k] for k in ("correct", "predicted_clusters", "true_clusters")},
            "cluster_pairs": pick(m["cluster_pairs"]),
            "elapsed_s": round(r["wall_s"], 3),
            "process_wall_s": round(r["process_wall_s"], 3),
            "peak_rss_mb": round(r["peak_rss_mb"], 1),
            "version": r.get("version"),
            "phases_s": {k: round(v, 3) for k, v in r["phases"].items()},
            "settings": r.get("settings"),
        }
    out["records"] = int(len(truth))
    out["people"] = int(len(sizes))
    out["true_pairs"] = int((sizes * (sizes - 1) // 2).sum())
    out["threshold_match_probability"] = THRESHOLD
    out["command"] = command
    out["python"] = sys.version.split()[0]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--tools", default="splink,recordlinkage,acrm")
    ap.add_argument("--out-dir", default="/tmp/acrm-dedupe")
    ap.add_argument("--label", default=None)
    ap.add_argument("--json-out", default=None, help="also write the summary JSON here")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--worker-json", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    out_dir = Path(a.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if a.worker:
        try:
            worker(a.worker, a.file, a.worker_json, out_dir)
        except FileNotFoundError as e:
            print(f"{a.worker}: {e}", file=sys.stderr)
            sys.exit(3)
        return
    label = a.label or Path(a.file).stem
    if "acrm" in a.tools.split(","):
        # Built here, before any worker starts, so that neither the build's time nor its
        # memory is counted as acrm's.
        build = subprocess.run(["cargo", "build", "--release", "--example", "dedupe"], cwd=REPO)
        if build.returncode != 0:
            # Never time a binary left from an earlier build.
            print("acrm: skipped (cargo build --example dedupe failed)", file=sys.stderr)
            a.tools = ",".join(t for t in a.tools.split(",") if t != "acrm")
    rows = []
    for tool in a.tools.split(","):
        js = out_dir / f"dedupe_{label}_{tool}.json"
        js.unlink(missing_ok=True)
        t = time.perf_counter()
        proc = subprocess.Popen([sys.executable, __file__, a.file, "--worker", tool,
                                 "--worker-json", str(js), "--out-dir", str(out_dir)])
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        if status != 0 or not js.exists():
            print(f"{tool}: skipped (worker exit status {os.waitstatus_to_exitcode(status)})", file=sys.stderr)
            continue
        res = json.loads(js.read_text())
        res["process_wall_s"] = wall
        # ru_maxrss is in KiB on Linux: the worker's peak, or its child's (acrm) if higher.
        res["peak_rss_mb"] = ru.ru_maxrss / 1024
        js.write_text(json.dumps(res, indent=2))
        rows.append(res)
    print("| tool | records | pair P | pair R | pair F1 | cluster P | cluster R | cluster F1 | time s | peak MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        m = r["metrics"]
        print(f"| {r['tool']} | {r['records']} | {m['pairs']['precision']:.4f} | {m['pairs']['recall']:.4f} | "
              f"{m['pairs']['f1']:.4f} | {m['exact_clusters']['precision']:.4f} | "
              f"{m['exact_clusters']['recall']:.4f} | {m['exact_clusters']['f1']:.4f} | "
              f"{r['wall_s']:.1f} | {r['peak_rss_mb']:.0f} |")
    if a.json_out:
        rel = os.path.relpath(a.file, REPO) if Path(a.file).resolve().is_relative_to(REPO) else a.file
        command = (f"/tmp/acrm-pyenv/bin/python benches/compare/dedupe.py {rel} --tools {a.tools}"
                   f" --json-out {os.path.relpath(a.json_out, REPO) if Path(a.json_out).resolve().is_relative_to(REPO) else a.json_out}")
        Path(a.json_out).write_text(json.dumps(summary(rows, a.file, command), indent=2) + "\n")


if __name__ == "__main__":
    main()
