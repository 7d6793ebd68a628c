"""acrm's uplift random forest against causalml's UpliftRandomForestClassifier, side by side.

Draws a synthetic campaign of the acrm.synth.UpliftSynth distribution with numpy
(features x_j ~ U(0, 1); treatment ~ Bernoulli(1/2); log-odds -1 + x0 - x2 + x3/2, plus
+1 where x0 > 1/2 and x1 > 1/2, -1/2 where x1 < 1/4 when treated), writes it as CSV
(id, treatment, outcome, x0..x{p-1}), then fits both forests to it at equal settings
(trees, max_depth, min_samples_leaf, max_features, KL criterion, n_reg 10,
min_samples_treatment 10, normalisation on), each in its own process under
/usr/bin/time -v:

- acrm: `target/release/examples/uplift fit CSV --model forest ...` (reads the CSV,
  fits, scores every row, writes the scores);
- causalml: this script with --causalml-worker (pandas.read_csv, fit, predict).

Reports per side: fit seconds (the tool's own timer around the fit), wall seconds of the
whole process, peak resident memory (time -v), and, on the same rows (in sample: both
score the rows they were fitted to), the Qini coefficient (sklift.metrics.qini_auc_score)
and the correlation of the scores with the true uplift. Medians over --runs.

Run (from the repository root, after `cargo build --release --example uplift`):
    /tmp/acrm-pyenv/bin/python benches/compare/uplift_forest.py --rows 1000000 --runs 3
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def synth(n, p, seed):
    rng = np.random.default_rng(seed)
    x = rng.random((n, p))
    base = -1.0 + x[:, 0] - x[:, 2] + 0.5 * x[:, 3]
    tau = np.where((x[:, 0] > 0.5) & (x[:, 1] > 0.5), 1.0,
                   np.where(x[:, 1] < 0.25, -0.5, 0.0))
    t = (rng.random(n) < 0.5).astype(np.int8)
    y = (rng.random(n) < sigmoid(base + t * tau)).astype(np.int8)
    return x, t, y, sigmoid(base + tau) - sigmoid(base)


def write_csv(path, x, t, y):
    import pandas as pd
    df = pd.DataFrame(x, columns=[f"x{j}" for j in range(x.shape[1])])
    df.insert(0, "outcome", y)
    df.insert(0, "treatment", t)
    df.insert(0, "id", np.arange(len(t)))
    df.to_csv(path, index=False, float_format="%.6f")


def timed(cmd, env=None):
    """Runs cmd under /usr/bin/time -v: (stdout, wall seconds, peak RSS MiB)."""
    r = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"{cmd[0]} failed:\n{r.stderr[-3000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1))
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)",
                  r.stderr)
    wall = int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    return r.stdout, wall, rss / 1024.0


def causalml_worker(a):
    import pandas as pd
    from causalml.inference.tree import UpliftRandomForestClassifier
    df = pd.read_csv(a.csv)
    feats = [c for c in df.columns if c.startswith("x")]
    x = df[feats].to_numpy()
    w = np.where(df["treatment"].to_numpy() == 1, "treatment", "control")
    y = df["outcome"].to_numpy()
    m = UpliftRandomForestClassifier(
        control_name="control", n_estimators=a.trees, max_depth=a.max_depth,
        min_samples_leaf=a.min_samples_leaf, max_features=a.max_features,
        min_samples_treatment=10, n_reg=10, evaluationFunction="KL", normalization=True,
        random_state=a.seed, n_jobs=a.jobs)
    t0 = time.perf_counter()
    m.fit(x, treatment=w, y=y)
    fit_s = time.perf_counter() - t0
    pred = m.predict(x)[:, 0]
    np.save(a.scores, pred)
    print(json.dumps({"fit_s": fit_s}))


def qini(y, score, t):
    from sklift.metrics import qini_auc_score
    return float(qini_auc_score(y, score, t))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--features", type=int, default=20)
    ap.add_argument("--trees", type=int, default=20)
    ap.add_argument("--max-depth", type=int, default=5)
    ap.add_argument("--min-samples-leaf", type=int, default=100)
    ap.add_argument("--max-features", type=int, default=10)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--causalml-runs", type=int, default=None,
                    help="runs of the causalml side (default: --runs)")
    ap.add_argument("--jobs", type=int, default=2, help="causalml n_jobs; acrm uses as many threads")
    ap.add_argument("--acrm-bin", default=os.path.join(ROOT, "target/release/examples/uplift"))
    ap.add_argument("--skip-causalml", action="store_true")
    ap.add_argument("--json-out")
    ap.add_argument("--causalml-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--csv", help=argparse.SUPPRESS)
    ap.add_argument("--scores", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.causalml_worker:
        return causalml_worker(a)
    if not os.path.exists(a.acrm_bin):
        sys.exit(f"{a.acrm_bin} missing: run `cargo build --release --example uplift`")
    work = tempfile.mkdtemp(prefix="uplift_cmp_")
    csv = os.path.join(work, "campaign.csv")
    x, t, y, truth = synth(a.rows, a.features, a.seed)
    write_csv(csv, x, t, y)
    del x
    out = {"rows": a.rows, "features": a.features, "trees": a.trees, "max_depth": a.max_depth,
           "min_samples_leaf": a.min_samples_leaf, "max_features": a.max_features,
           "threads": a.jobs}
    env = dict(os.environ, RAYON_NUM_THREADS=str(a.jobs))
    runs = []
    for _ in range(a.runs):
        scores = os.path.join(work, "acrm_scores.csv")
        stdout, wall, rss = timed([a.acrm_bin, "fit", csv, "--treatment", "treatment",
                                   "--outcome", "outcome", "--id", "id", "--model", "forest",
                                   "--trees", str(a.trees), "--max-depth", str(a.max_depth),
                                   "--min-samples-leaf", str(a.min_samples_leaf),
                                   "--max-features", str(a.max_features), "--criterion", "kl",
                                   "--seed", str(a.seed), "--out", scores], env=env)
        s = json.loads(stdout)
        runs.append((s["fit_ms"] / 1e3, wall, rss))
    pred = np.loadtxt(scores, delimiter=",", skiprows=1, usecols=1)
    out["acrm"] = {"fit_s": statistics.median(r[0] for r in runs),
                   "wall_s": statistics.median(r[1] for r in runs),
                   "peak_rss_mib": statistics.median(r[2] for r in runs),
                   "qini": qini(y, pred, t), "corr_true_uplift": float(np.corrcoef(pred, truth)[0, 1])}
    print(json.dumps({"acrm": out["acrm"]}), flush=True)
    if not a.skip_causalml:
        runs = []
        for _ in range(a.causalml_runs or a.runs):
            npy = os.path.join(work, "causalml_scores.npy")
            stdout, wall, rss = timed([sys.executable, os.path.abspath(__file__),
                                       "--causalml-worker", "--csv", csv, "--scores", npy,
                                       "--trees", str(a.trees), "--max-depth", str(a.max_depth),
                                       "--min-samples-leaf", str(a.min_samples_leaf),
                                       "--max-features", str(a.max_features),
                                       "--seed", str(a.seed), "--jobs", str(a.jobs)])
            runs.append((json.loads(stdout.strip().splitlines()[-1])["fit_s"], wall, rss))
        pred = np.load(npy)
        out["causalml"] = {"fit_s": statistics.median(r[0] for r in runs),
                           "wall_s": statistics.median(r[1] for r in runs),
                           "peak_rss_mib": statistics.median(r[2] for r in runs),
                           "qini": qini(y, pred, t),
                           "corr_true_uplift": float(np.corrcoef(pred, truth)[0, 1])}
        out["fit_speedup"] = out["causalml"]["fit_s"] / out["acrm"]["fit_s"]
        out["memory_ratio"] = out["acrm"]["peak_rss_mib"] / out["causalml"]["peak_rss_mib"]
    print(json.dumps(out, indent=1))
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
