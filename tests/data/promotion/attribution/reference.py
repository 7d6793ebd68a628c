"""Reference numbers for acrm's attribution tests (tests/it/attribution.rs).

Run with the project venv: /tmp/acrm-pyenv/bin/python reference.py
Writes reference_paths.json and reference_touches.json.

Sources:
- first touch, last touch, linear, position based, time decay and the Markov removal
  effects: marketing_attribution_models (package `mam`) 2.1.1, its models run on the
  same journeys (aggregated paths as its "grouped_journey" format; the touch log as its
  "session" format with journeys cut after each conversion). Time decay on aggregated
  paths (no times) is its TimeDecayModel run on a unified frame whose per-touch
  "time till conversion" is the number of touches before the last one, with the
  half-life in the same unit.
- P(conversion) and the removal effects again, independently, by numpy linear algebra on
  the absorbing chain's transition matrix (order 1 and order 2, written here from the
  definitions); checked against mam's removal effects to 1e-12.
- Markov credits: conversions (value) x RE_c / sum(RE), from the numpy removal effects.
- Shapley: by brute force over every coalition with the Shapley formula, worth of a
  coalition S = conversions (value) of the journeys whose channel set lies inside S.
"""
import itertools
import json
import math
from datetime import datetime
from pathlib import Path

import mam
import numpy as np
import polars as pl
from mam.models.heuristics import TimeDecayModel

HERE = Path(__file__).parent
PATH_HALF_LIFE = 2.0  # touches
TOUCH_HALF_LIFE = 3.0  # days


def read_paths():
    out = []
    lines = (HERE / "paths.csv").read_text().splitlines()
    for line in lines[1:]:
        if not line.strip():
            continue
        p, c, v, n = line.split(";")
        out.append(([x.strip() for x in p.split(">")], float(c), float(v), float(n)))
    return out


def read_touches():
    rows = []
    lines = (HERE / "touches.csv").read_text().splitlines()
    head = lines[0].split(",")
    for line in lines[1:]:
        r = dict(zip(head, line.split(",")))
        rows.append(r)
    return rows


def journeys_from_touches(rows):
    """(channels, converted, value, ages in days) per journey, cut after each marked touch."""
    by = {}
    for r in rows:
        by.setdefault(r["customer_id"], []).append(r)
    out = []
    for cust in by:
        ts = sorted(by[cust], key=lambda r: r["time"])
        cur = []
        for r in ts:
            cur.append(r)
            if r["conversion"] == "1":
                t_conv = datetime.fromisoformat(r["time"])
                ages = [(t_conv - datetime.fromisoformat(x["time"])).total_seconds() / 86400 for x in cur]
                out.append(([x["channel"] for x in cur], 1.0, float(r["value"] or 0), 0.0, ages))
                cur = []
        if cur:
            out.append(([x["channel"] for x in cur], 0.0, 0.0, 1.0, None))
    return out


def agg(result):
    d = result.to_dict()
    return {c: float(a) for c, a in zip(d["channels"], d["attribution"])}


def mam_models(conv_mam, value_mam, half_life_hours=None):
    out = {}
    for name, run in [
        ("first_touch", "run_first_click"),
        ("last_touch", "run_last_click"),
        ("linear", "run_linear"),
        ("position_based", "run_position_based"),
    ]:
        out[name] = {
            "conversions": agg(getattr(conv_mam, run)()),
            "value": agg(getattr(value_mam, run)()),
        }
    if half_life_hours is not None:
        out["time_decay"] = {
            "conversions": agg(conv_mam.run_time_decay(half_life_hours=half_life_hours)),
            "value": agg(value_mam.run_time_decay(half_life_hours=half_life_hours)),
        }
    re = conv_mam.run_markov(transition_to_same_state=False).metadata["removal_effect"]
    return out, {str(k): float(v) for k, v in re["removal_effect"].items()}


def collapse(p):
    out = []
    for c in p:
        if not out or out[-1] != c:
            out.append(c)
    return out


def markov_numpy(journeys, channels, order):
    """Exact absorbing chain of the given order over (channels, conv, value, nulls)."""
    states = {}
    trans = {}
    ends = []
    for p, c, _v, n in journeys:
        w = c + n
        q = collapse(p)
        frm = ()
        for j in range(len(q)):
            st = tuple(q[max(0, j + 1 - order): j + 1])
            states.setdefault(st, len(states) + 1)
            trans[(frm, st)] = trans.get((frm, st), 0.0) + w
            frm = st
        ends.append((frm, c, n))
    idx = {(): 0, **states}
    m = len(idx)
    Q = np.zeros((m, m))
    conv = np.zeros(m)
    null = np.zeros(m)
    for (a, b), w in trans.items():
        Q[idx[a], idx[b]] += w
    for frm, c, n in ends:
        conv[idx[frm]] += c
        null[idx[frm]] += n

    def p_conv(removed):
        keep = [s for s, i in sorted(idx.items(), key=lambda kv: kv[1]) if removed is None or removed not in s]
        ki = [idx[s] for s in keep]
        tot = Q.sum(axis=1) + conv + null
        tot = np.where(tot == 0, 1.0, tot)
        A = np.eye(len(ki)) - (Q / tot[:, None])[np.ix_(ki, ki)]
        b = (conv / tot)[ki]
        return float(np.linalg.solve(A, b)[0])

    p = p_conv(None)
    re = {c: 1.0 - p_conv(c) / p for c in channels}
    return p, re, m


def shapley_brute(journeys, channels):
    n = len(channels)
    sets = [(frozenset(p), c, v) for p, c, v, _ in journeys]
    out_c = {ch: 0.0 for ch in channels}
    out_v = {ch: 0.0 for ch in channels}

    def worth(s):
        c = sum(x[1] for x in sets if x[0] <= s)
        v = sum(x[2] for x in sets if x[0] <= s)
        return c, v

    cache = {}
    for k in range(n + 1):
        for s in itertools.combinations(channels, k):
            cache[frozenset(s)] = worth(frozenset(s))
    for i in channels:
        others = [c for c in channels if c != i]
        for k in range(n):
            wgt = math.factorial(k) * math.factorial(n - k - 1) / math.factorial(n)
            for s in itertools.combinations(others, k):
                s = frozenset(s)
                a, b = cache[s | {i}], cache[s]
                out_c[i] += wgt * (a[0] - b[0])
                out_v[i] += wgt * (a[1] - b[1])
    return {"conversions": out_c, "value": out_v}


def finish(journeys, channels, models, mam_re, extra):
    tc = sum(j[1] for j in journeys)
    tv = sum(j[2] for j in journeys)
    p, re, states = markov_numpy(journeys, channels, 1)
    for c in channels:
        assert abs(re[c] - mam_re[c]) < 1e-12, (c, re[c], mam_re[c])
    s = sum(re.values())
    models["markov"] = {
        "conversions": {c: tc * re[c] / s for c in channels},
        "value": {c: tv * re[c] / s for c in channels},
    }
    models["shapley"] = shapley_brute(journeys, channels)
    p2, re2, states2 = markov_numpy(journeys, channels, 2)
    for m in models.values():
        for k in ("conversions", "value"):
            for c in channels:
                m[k].setdefault(c, 0.0)
    return {
        "source": "marketing_attribution_models 2.1.1 (heuristics, removal effects); numpy "
        + np.__version__ + " (exact chains); brute-force Shapley",
        "channels": channels,
        "total_conversions": tc,
        "total_value": tv,
        "p_conversion": p,
        "removal_effects": re,
        "markov_states": states,
        "order2": {"p_conversion": p2, "removal_effects": re2, "states": states2},
        "mam_removal_effects": mam_re,
        "models": models,
        **extra,
    }


def paths_reference():
    rows = read_paths()
    channels = []
    for p, *_ in rows:
        for c in p:
            if c not in channels:
                channels.append(c)
    recs = []
    for p, c, v, n in rows:
        key = " > ".join(p)
        if c > 0:
            recs.append({"path": key, "occ": int(c), "has_conv": True, "value": v})
        if n > 0:
            recs.append({"path": key, "occ": int(n), "has_conv": False, "value": 0.0})
    df = pl.DataFrame(recs)
    kw = dict(format_type="grouped_journey", channels_colname="path",
              journey_with_conv_colname="has_conv", occurrences_colname="occ",
              path_separator=" > ")
    conv_mam = mam.MAM(df, **kw)
    value_mam = mam.MAM(df, conversion_value_colname="value", **kw)
    models, mam_re = mam_models(conv_mam, value_mam)
    # Time decay in touches: per touch "time till conversion" = touches before the last.
    td = {}
    for which, m in (("conversions", conv_mam), ("value", value_mam)):
        u = m.unified_df.with_columns(
            pl.col("channels").list.eval(
                (pl.element().len() - 1 - pl.int_range(0, pl.element().len())).cast(pl.Float64)
            ).alias("time_till_conv")
        )
        td[which] = agg_df(TimeDecayModel(half_life_hours=PATH_HALF_LIFE).get_aggregated_results(u))
    models["time_decay"] = td
    journeys = [(p, c, v, n) for p, c, v, n in rows]
    return finish(journeys, channels, models, mam_re, {"half_life_touches": PATH_HALF_LIFE})


def agg_df(df):
    d = df.to_dict(as_series=False)
    return {str(c): float(a) for c, a in zip(d["channels"], d["attribution"])}


def touches_reference():
    rows = read_touches()
    channels = []
    for r in sorted(rows, key=lambda r: r["customer_id"]):
        pass
    # Channel order of acrm: order of first appearance in the aggregated journeys,
    # customers in file order of first appearance, touches by time.
    js = journeys_from_touches(rows)
    for p, *_ in js:
        for c in p:
            if c not in channels:
                channels.append(c)
    df = pl.DataFrame(
        {
            "customer_id": [r["customer_id"] for r in rows],
            "time": [r["time"] for r in rows],
            "channel": [r["channel"] for r in rows],
            "conversion": [r["conversion"] == "1" for r in rows],
            "value": [float(r["value"]) if r["value"] else 0.0 for r in rows],
        }
    )
    kw = dict(format_type="session", channels_colname="channel",
              journey_with_conv_colname="conversion", datetime_colname="time",
              user_id_colname="customer_id", create_journey_id_based_on_conversion=True)
    conv_mam = mam.MAM(df, **kw)
    value_mam = mam.MAM(df, conversion_value_colname="value", **kw)
    models, mam_re = mam_models(conv_mam, value_mam, half_life_hours=24.0 * TOUCH_HALF_LIFE)
    journeys = [(p, c, v, n) for p, c, v, n, _ in js]
    return finish(journeys, channels, models, mam_re, {"half_life_days": TOUCH_HALF_LIFE})


if __name__ == "__main__":
    for name, ref in (("paths", paths_reference()), ("touches", touches_reference())):
        (HERE / f"reference_{name}.json").write_text(json.dumps(ref, indent=1, sort_keys=True) + "\n")
        print(name, ref["total_conversions"], ref["p_conversion"], ref["markov_states"], ref["order2"]["states"])
