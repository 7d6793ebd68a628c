"""Reference numbers for tests/it/winloss.rs: statsmodels (Wilson intervals, pooled
two-proportion z-test), scipy (chi2_contingency without continuity correction), lifelines
(Kaplan-Meier of creation to close, open deals censored at the as-of date), pandas
(time in stage, slippage, following the definitions in src/prospecting/winloss.rs).

Run: /tmp/acrm-pyenv/bin/python reference.py (reads opportunities.csv and
stage_history.csv; writes reference.json).
"""
import json
import os

import lifelines
import numpy as np
import pandas as pd
import scipy
import statsmodels
from lifelines import KaplanMeierFitter
from scipy.stats import chi2_contingency
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

HERE = os.path.dirname(os.path.abspath(__file__))
AS_OF = pd.Timestamp("2024-10-31")
o = pd.read_csv(os.path.join(HERE, "opportunities.csv"), dtype=str, keep_default_na=False)
h = pd.read_csv(os.path.join(HERE, "stage_history.csv"), dtype=str, keep_default_na=False)
for col in ["created", "closed", "expected_close"]:
    o[col] = pd.to_datetime(o[col].replace("", None))
h["entered"] = pd.to_datetime(h["entered"])
h["expected_close"] = pd.to_datetime(h["expected_close"].replace("", None))
o["amount"] = o["amount"].astype(float)


def km(mask):
    sub = o[mask]
    closed = sub.closed.notna()
    d = np.where(closed, (sub.closed - sub.created).dt.days, (AS_OF - sub.created).dt.days)
    kmf = KaplanMeierFitter().fit(d, closed)
    med = kmf.median_survival_time_
    return kmf, (None if np.isinf(med) else float(med)), d, closed.to_numpy()


def groups(labels):
    out = []
    won_all = int((o.status == "won").sum())
    closed_all = int((o.status != "open").sum())
    table = []
    for g in sorted(set(labels)):
        m = (labels == g).to_numpy()
        won = int(((o.status == "won") & m).sum())
        lost = int(((o.status == "lost") & m).sum())
        lo, hi = proportion_confint(won, won + lost, alpha=0.05, method="wilson")
        z, p = proportions_ztest([won, won_all - won], [won + lost, closed_all - won - lost])
        out.append({"group": g, "won": won, "lost": lost, "open": int(((o.status == "open") & m).sum()),
                    "rate": won / (won + lost), "ci_low": float(lo), "ci_high": float(hi),
                    "z": float(z), "z_p": float(p), "median_cycle_days": km(m)[1]})
        table.append([won, lost])
    chi2, p, dof, _ = chi2_contingency(np.array(table), correction=False)
    return {"groups": out, "test": {"chi2": float(chi2), "dof": int(dof), "p": float(p)}}


bands = pd.Series(np.select([o.amount < 5000, o.amount < 10000, o.amount < 20000],
                            ["< 5000", "[5000, 10000)", "[10000, 20000)"], "≥ 20000"))
kmf, med, d, ev = km(np.ones(len(o), dtype=bool))
sf = kmf.survival_function_.iloc[:, 0]

lost = o[o.status == "lost"]
reasons = lost.loss_reason.replace("", "(none)").value_counts()
loss = [{"reason": r, "count": int(c), "share": c / len(lost)} for r, c in reasons.items()]

# Time in stage: to the next stage's entry, or for the last stage of a closed deal to
# the close when entered before it.
stays = {}
close_of = dict(zip(o.id, o.closed))
for oid, g in h.groupby("opportunity", sort=False):
    g = g.sort_values("entered", kind="stable")
    rows = list(g.itertuples())
    for i, r in enumerate(rows):
        if i + 1 < len(rows):
            end = rows[i + 1].entered
        else:
            c = close_of[oid]
            end = c if pd.notna(c) and c > r.entered else None
        if end is not None:
            stays.setdefault(r.stage, []).append((end - r.entered).days)
stages = [{"stage": s, "stays": len(v), "mean_days": float(np.mean(v)), "median_days": float(np.median(v))}
          for s, v in stays.items()]

# Slippage.
per = []
hist_of = {oid: g.sort_values("entered", kind="stable") for oid, g in h.groupby("opportunity")}
for r in o.itertuples():
    seq = []
    if r.id in hist_of:
        seq += [x for x in hist_of[r.id].expected_close if pd.notna(x)]
    seq.append(r.expected_close)
    if pd.notna(r.closed):
        seq.append(r.closed)
    pushes = sum(1 for a, b in zip(seq, seq[1:]) if b > a)
    days = sum((b - a).days for a, b in zip(seq, seq[1:]) if b > a)
    per.append({"id": r.id, "pushes": pushes, "days_pushed": days})
slipped = [p["days_pushed"] for p in per if p["pushes"] > 0]

ref = {
    "versions": {"statsmodels": statsmodels.__version__, "scipy": scipy.__version__,
                 "lifelines": lifelines.__version__, "pandas": pd.__version__},
    "as_of": "2024-10-31",
    "by_segment": groups(o.segment),
    "by_owner": groups(o.owner),
    "by_amount": groups(bands),
    "total": {"won": int((o.status == "won").sum()), "lost": int((o.status == "lost").sum()),
              "open": int((o.status == "open").sum())},
    "loss_reasons": loss,
    "stages": stages,
    "cycle": {"deals": len(d), "closed": int(ev.sum()), "median_days": med,
              "mean_closed_days": float(d[ev].mean()),
              "curve": [[float(t), float(v)] for t, v in sf.items()]},
    "slippage": {"deals": len(per), "slipped": len(slipped), "share_slipped": len(slipped) / len(per),
                 "mean_pushes": float(np.mean([p["pushes"] for p in per])),
                 "mean_days_pushed": float(np.mean(slipped)), "median_days_pushed": float(np.median(slipped)),
                 "per_deal": per},
}
with open(os.path.join(HERE, "reference.json"), "w") as f:
    json.dump(ref, f)
print(ref["by_segment"]["test"], ref["cycle"]["median_days"], ref["slippage"]["share_slipped"], stages)
