"""Reference numbers for the campaign analysis (tests/it/campaign.rs), from campaign.csv
and campaigns.csv (made by generate.py). Run: python reference.py > reference.json

Per group (every contact `ALL`, and by campaign type × product) and arm (control,
offer_a, offer_b and `ANY` = every non-control row): contacts, responders per outcome with
the Wilson 95% interval (statsmodels proportion_confint(method="wilson")), revenue and
mean value. Per non-control arm against the control and outcome: pooled z
(statsmodels proportions_ztest), unpooled z (statsmodels test_proportions_2indep
(method="wald")), chi-square with and without Yates (scipy chi2_contingency), Wald and
Newcombe intervals of the difference (statsmodels confint_proportions_2indep(method=
"wald" / "newcomb")), Welch's t on the value (scipy ttest_ind(equal_var=False)), and the
economics at 0.5 per contact and a 30% margin (plain arithmetic of the definitions).
Sample sizes: statsmodels NormalIndPower with proportion_effectsize (Cohen's h), solved
to full precision with scipy brentq on statsmodels' power function (solve_power's own
answer is stored beside it), and the unpooled closed form with scipy norm quantiles."""

import json
import math

import numpy as np
import pandas as pd
import scipy
import statsmodels
from scipy import optimize, stats
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportion_effectsize,
    proportions_ztest,
    test_proportions_2indep,
)

COST_PER_CONTACT = 0.5
MARGIN = 0.3
OUTCOMES = ["click", "purchase"]

df = pd.read_csv("campaign.csv")
camps = pd.read_csv("campaigns.csv").set_index("id")
df["group"] = df["campaign"].map(lambda c: f"{camps.loc[c, 'type']} / {camps.loc[c, 'product']}")


def arm_summary(rows, name):
    n = len(rows)
    out = {"arm": name, "n": n, "outcomes": {}}
    for o in OUTCOMES:
        r = int(rows[o].sum())
        lo, hi = proportion_confint(r, n, alpha=0.05, method="wilson")
        out["outcomes"][o] = {"responders": r, "rate": r / n, "ci_low": lo, "ci_high": hi}
    out["revenue"] = float(rows["revenue"].sum())
    out["mean_value"] = float(rows["revenue"].mean())
    return out


def compare(t, c, name):
    res = []
    nt, nc = len(t), len(c)
    welch = stats.ttest_ind(t["revenue"], c["revenue"], equal_var=False)
    for o in OUTCOMES:
        rt, rc = int(t[o].sum()), int(c[o].sum())
        pt, pc = rt / nt, rc / nc
        zp, pp = proportions_ztest([rt, rc], [nt, nc])
        un = test_proportions_2indep(rt, nt, rc, nc, method="wald", compare="diff")
        table = [[rt, nt - rt], [rc, nc - rc]]
        chi = stats.chi2_contingency(table, correction=False)
        chy = stats.chi2_contingency(table, correction=True)
        wald = confint_proportions_2indep(rt, nt, rc, nc, method="wald", compare="diff")
        newc = confint_proportions_2indep(rt, nt, rc, nc, method="newcomb", compare="diff")
        incremental = (pt - pc) * nt
        cost = COST_PER_CONTACT * nt
        mt, mc = float(t["revenue"].mean()), float(c["revenue"].mean())
        margin = MARGIN * (mt - mc) * nt
        res.append({
            "arm": name, "control": "control", "outcome": o,
            "rate_treatment": pt, "rate_control": pc, "lift": pt - pc,
            "relative_lift": (pt - pc) / pc if pc > 0 else None,
            "z_pooled": float(zp), "p_pooled": float(pp),
            "z_unpooled": float(un.statistic), "p_unpooled": float(un.pvalue),
            "chi2": float(chi.statistic), "p_chi2": float(chi.pvalue),
            "chi2_yates": float(chy.statistic), "p_chi2_yates": float(chy.pvalue),
            "diff_ci_wald": [float(wald[0]), float(wald[1])],
            "diff_ci_newcombe": [float(newc[0]), float(newc[1])],
            "incremental": incremental,
            "welch_t": float(welch.statistic), "welch_p": float(welch.pvalue),
            "cost": cost,
            "cpa_all": cost / rt if rt > 0 else None,
            "cpa_incremental": cost / incremental if incremental > 0 else None,
            "incremental_margin": margin,
            "roi": (margin - cost) / cost,
        })
    return res


def group(rows, label):
    control = rows[rows["arm"] == "control"]
    treated = rows[rows["arm"] != "control"]
    arms = [arm_summary(control, "control")]
    comps = []
    for a in ["offer_a", "offer_b"]:
        t = rows[rows["arm"] == a]
        arms.append(arm_summary(t, a))
        comps += compare(t, control, a)
    arms.append(arm_summary(treated, "ANY"))
    comps += compare(treated, control, "ANY")
    return {"group": label, "arms": arms, "comparisons": comps}


def sample_size(baseline, lift, power, alpha, ratio):
    h = abs(proportion_effectsize(baseline + lift, baseline))
    p = NormalIndPower()
    f = lambda n: p.power(h, n, alpha, ratio=ratio, alternative="two-sided") - power
    exact = optimize.brentq(f, 1.0, 1e12, xtol=1e-13, rtol=4 * np.finfo(float).eps, maxiter=500)
    solved = p.solve_power(effect_size=h, nobs1=None, alpha=alpha, power=power, ratio=ratio)
    p1, p2 = baseline + lift, baseline
    za, zb = stats.norm.isf(alpha / 2), stats.norm.isf(1 - power)
    unpooled = (za + zb) ** 2 * (p1 * (1 - p1) + p2 * (1 - p2) / ratio) / lift**2
    return {
        "baseline": baseline, "lift": lift, "power": power, "alpha": alpha, "ratio": ratio,
        "cohen_h": h, "n_cohen_h": exact, "n_cohen_h_solve_power": float(solved),
        "power_at_n": float(p.power(h, exact, alpha, ratio=ratio)),
        "n_unpooled": unpooled,
    }


out = {
    "versions": {"statsmodels": statsmodels.__version__, "scipy": scipy.__version__,
                 "numpy": np.__version__, "pandas": pd.__version__},
    "cost_per_contact": COST_PER_CONTACT, "margin": MARGIN,
    "groups": [group(df, "ALL")] + [group(g, k) for k, g in sorted(df.groupby("group"))],
    "sample_sizes": [
        sample_size(0.05, 0.01, 0.8, 0.05, 1.0),
        sample_size(0.10, 0.02, 0.9, 0.05, 1.0),
        sample_size(0.30, -0.05, 0.8, 0.01, 1.0),
        sample_size(0.02, 0.005, 0.8, 0.05, 2.0),
        sample_size(0.50, 0.10, 0.95, 0.10, 0.5),
    ],
}
print(json.dumps(out, indent=1))
