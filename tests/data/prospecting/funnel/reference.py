"""Reference numbers for tests/it/funnel.rs, from independent implementations:
statsmodels (Wilson intervals), scipy (chi2_contingency without continuity correction),
lifelines (Kaplan-Meier time to convert, not yet converted censored at the as-of date).

Run: /tmp/acrm-pyenv/bin/python reference.py (reads contacts.csv, campaigns.csv; writes
reference.json).
"""
import json
import os

import numpy as np
import pandas as pd
import lifelines
import scipy
import statsmodels
from lifelines import KaplanMeierFitter
from scipy.stats import chi2_contingency
from statsmodels.stats.proportion import proportion_confint

HERE = os.path.dirname(os.path.abspath(__file__))
AS_OF = pd.Timestamp("2024-09-30")
STEPS = ["contact_lead", "lead_opportunity", "opportunity_order"]

c = pd.read_csv(os.path.join(HERE, "contacts.csv"), dtype=str, keep_default_na=False)
camp = pd.read_csv(os.path.join(HERE, "campaigns.csv"), dtype=str, keep_default_na=False)
cost = {r.id: float(r.cost) for r in camp.itertuples()}
kind = {r.id: r.type for r in camp.itertuples()}
flags = c[["lead", "opportunity", "order"]].astype(int).to_numpy()
# A later stage implies the earlier ones.
depth = np.where(flags[:, 2] == 1, 3, np.where(flags[:, 1] == 1, 2, np.where(flags[:, 0] == 1, 1, 0)))
dates = [pd.to_datetime(c[col].replace("", None)) for col in ["created", "lead_date", "opportunity_date", "order_date"]]


def rate(x, n):
    lo, hi = proportion_confint(x, n, alpha=0.05, method="wilson")
    return {"successes": int(x), "trials": int(n), "rate": x / n, "ci_low": float(lo), "ci_high": float(hi)}


def step_time(mask, s):
    start = dates[s][mask]
    end = dates[s + 1][mask]
    d = depth[mask]
    durations, events = [], []
    for st, en, dp in zip(start, end, d):
        if dp < s or pd.isna(st):
            continue
        if dp > s:
            if pd.isna(en):
                continue
            durations.append((en - st).days)
            events.append(True)
        else:
            durations.append((AS_OF - st).days)
            events.append(False)
    conv = [x for x, e in zip(durations, events) if e]
    kmf = KaplanMeierFitter().fit(durations, events)
    sf = kmf.survival_function_.iloc[:, 0]
    med = kmf.median_survival_time_
    return {
        "step": STEPS[s],
        "at_start": len(durations),
        "converted": len(conv),
        "median_days": float(np.median(conv)) if conv else None,
        "km_median_days": None if np.isinf(med) else float(med),
        "curve": [[float(t), float(v)] for t, v in sf.items()],
    }


def funnel(mask, label, with_cost):
    n = [int(mask.sum())] + [int((depth[mask] >= k).sum()) for k in (1, 2, 3)]
    out = {
        "group": label,
        "contacts": n[0], "leads": n[1], "opportunities": n[2], "orders": n[3],
        "contact_lead": rate(n[1], n[0]),
        "lead_opportunity": rate(n[2], n[1]),
        "opportunity_order": rate(n[3], n[2]),
        "contact_order": rate(n[3], n[0]),
        "time_to_convert": [step_time(mask, s) for s in range(3)],
    }
    if with_cost is not None:
        out["costs"] = {"cost": with_cost, "per_lead": with_cost / n[1],
                        "per_opportunity": with_cost / n[2], "per_order": with_cost / n[3]}
    return out


def tests(groups):
    out = []
    for s, step in enumerate(STEPS):
        keys = [("contacts", "leads"), ("leads", "opportunities"), ("opportunities", "orders")][s]
        table = [[g[keys[1]], g[keys[0]] - g[keys[1]]] for g in groups]
        chi2, p, dof, _ = chi2_contingency(np.array(table), correction=False)
        out.append({"stage": step, "chi2": float(chi2), "dof": int(dof), "p": float(p)})
    return out


def by(labels, with_cost):
    groups = []
    for g in sorted(set(labels)):
        mask = (labels == g).to_numpy()
        gc = None
        if with_cost:
            gc = sum(cost[x] for x in sorted(set(c.campaign[mask])))
        groups.append(funnel(mask, g, gc))
    return {"groups": groups, "tests": tests(groups)}


everything = np.ones(len(c), dtype=bool)
ref = {
    "versions": {"statsmodels": statsmodels.__version__, "scipy": scipy.__version__,
                 "lifelines": lifelines.__version__},
    "as_of": "2024-09-30",
    "by_campaign": by(c.campaign, True),
    "by_type": by(c.campaign.map(kind), True),
    "by_channel": by(c.channel, False),
    "total": funnel(everything, "ALL", sum(cost.values())),
}
# The owner's funnel: only ann's contacts.
ann = (c.owner == "ann").to_numpy()
ref["owner_ann"] = {"total": funnel(ann, "ALL", None)}
with open(os.path.join(HERE, "reference.json"), "w") as f:
    json.dump(ref, f)
print(json.dumps(ref["total"]["contact_lead"]), ref["by_campaign"]["tests"])
