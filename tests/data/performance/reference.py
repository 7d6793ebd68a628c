#!/usr/bin/env python3
"""Reference tables for the performance area (sales cube, period-over-period change), made by
DuckDB from orders.csv beside this file, with the decompositions computed here in Python
floats from DuckDB's exact aggregates: an independent check for the Rust tests. Nothing here
runs at build or test time; reference.json is committed.

Run from anywhere (see README.md in this folder for the versions used):
    python3 -m venv /tmp/acrm-pyenv && /tmp/acrm-pyenv/bin/pip install duckdb
    /tmp/acrm-pyenv/bin/python tests/data/performance/reference.py

It prints the largest relative gap between the sum of each decomposition's effects and the
change it decomposes (it must be below 1e-9, or the script fails) and writes reference.json:
{"meta": {...}, "cube": [...], "rollup": [...], "pop": [...], "mix_rate": [...]}, described
in README.md. benches/compare/cube_duckdb.py imports the SQL below to time DuckDB on it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
P0, P1 = 2023, 2024
TOLERANCE = 1e-9

HEADER = "order_id,line_no,customer_id,order_date,channel,region,category,product,quantity,amount,cost"
# Ids as text (acrm's ids are strings); money as exact decimals.
COLUMNS = {
    "order_id": "VARCHAR",
    "line_no": "INTEGER",
    "customer_id": "VARCHAR",
    "order_date": "DATE",
    "channel": "VARCHAR",
    "region": "VARCHAR",
    "category": "VARCHAR",
    "product": "VARCHAR",
    "quantity": "INTEGER",
    "amount": "DECIMAL(18,2)",
    "cost": "DECIMAL(18,2)",
}

MEASURES = """count(*) AS lines, count(DISTINCT order_id) AS orders,
    count(DISTINCT customer_id) AS customers, sum(quantity) AS units, sum(amount) AS revenue,
    sum(cost) AS cost, sum(amount) - sum(cost) AS margin"""
# The same without the two distinct counts (timed apart by the benchmark).
MEASURES_NO_DISTINCT = """count(*) AS lines, sum(quantity) AS units, sum(amount) AS revenue,
    sum(cost) AS cost, sum(amount) - sum(cost) AS margin"""

CUBE = f"""SELECT GROUPING(category, channel, region) AS grouping, category, channel, region,
    {MEASURES}
FROM t GROUP BY CUBE (category, channel, region)
ORDER BY grouping, category NULLS FIRST, channel NULLS FIRST, region NULLS FIRST"""

CUBE_NO_DISTINCT = CUBE.replace(MEASURES, MEASURES_NO_DISTINCT)

ROLLUP = f"""SELECT GROUPING(year, quarter, month) AS grouping, year, quarter, month, {MEASURES}
FROM (SELECT *, year(order_date) AS year, quarter(order_date) AS quarter,
             month(order_date) AS month FROM t)
GROUP BY ROLLUP (year, quarter, month)
ORDER BY grouping, year NULLS FIRST, quarter NULLS FIRST, month NULLS FIRST"""

# Per (year, category) and per year (category null, grouping 1) in the two periods.
POP = f"""SELECT year, GROUPING(category) AS grouping, category, sum(amount) AS revenue,
    count(DISTINCT customer_id) AS customers, count(DISTINCT order_id) AS orders
FROM (SELECT *, year(order_date) AS year FROM t WHERE year(order_date) IN ({P0}, {P1}))
GROUP BY GROUPING SETS ((year, category), (year))
ORDER BY year, grouping, category"""

MIX_RATE = f"""SELECT year, GROUPING(category) AS grouping, category, sum(amount) AS revenue,
    sum(amount) - sum(cost) AS margin
FROM (SELECT *, year(order_date) AS year FROM t WHERE year(order_date) IN ({P0}, {P1}))
GROUP BY GROUPING SETS ((year, category), (year))
ORDER BY year, grouping, category"""

QUERIES = {"cube": CUBE, "rollup": ROLLUP, "pop": POP, "mix_rate": MIX_RATE}


def load(con, path: Path) -> None:
    """Table t from the order-line CSV at path (header checked, columns typed as COLUMNS)."""
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\r\n")
    if header != HEADER:
        raise SystemExit(f"{path}: header {header!r}, expected {HEADER!r}")
    columns = ", ".join(f"'{k}': '{v}'" for k, v in COLUMNS.items())
    quoted = str(path).replace("'", "''")
    con.execute(f"CREATE OR REPLACE TABLE t AS SELECT * FROM read_csv('{quoted}', header = true, "
                f"delim = ',', columns = {{{columns}}})")


def rows(con, sql: str) -> list[dict]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def money(d: Decimal | None) -> str | None:
    """Exact text with two decimals ("1234.50"); zero without a sign."""
    if d is None:
        return None
    d = Decimal(d).quantize(Decimal("0.01"))
    return "0.00" if d == 0 else f"{d:.2f}"


def with_money(r: dict, keys=("revenue", "cost", "margin")) -> dict:
    return {k: (money(v) if k in keys else v) for k, v in r.items()}


def status(in0: bool, in1: bool) -> str:
    return "both" if in0 and in1 else ("entered" if in1 else "left")


def by_member(agg: list[dict]) -> tuple[list, dict]:
    """Members (None, the total, first; then categories sorted) and {(member, year): row}."""
    cells = {(r["category"] if r["grouping"] == 0 else None, r["year"]): r for r in agg}
    cats = sorted({m for m, _ in cells if m is not None})
    return [None, *cats], cells


def rel_gap(total: float, delta: float) -> float:
    return abs(total - delta) / abs(delta) if delta != 0 else abs(total)


def logmean(a: float, b: float, equal: bool) -> float:
    """The logarithmic mean L(b, a) = (b - a) / (ln b - ln a); a when the two are equal."""
    return a if equal else (b - a) / (math.log(b) - math.log(a))


def pop_rows(agg: list[dict]) -> tuple[list[dict], float]:
    """Revenue = customers x frequency x average order value, P0 -> P1, by LMDI-I."""
    members, cells = by_member(agg)
    out, worst = [], 0.0
    for m in members:
        a, b = cells.get((m, P0)), cells.get((m, P1))
        r0d, r1d = (a["revenue"] if a else Decimal(0)), (b["revenue"] if b else Decimal(0))
        r0, r1 = float(r0d), float(r1d)
        c0, c1 = (a["customers"] if a else 0), (b["customers"] if b else 0)
        o0, o1 = (a["orders"] if a else 0), (b["orders"] if b else 0)
        st = status(a is not None, b is not None)
        row = {"category": m, "status": st, "revenue_0": money(r0d), "revenue_1": money(r1d),
               "customers_0": c0, "customers_1": c1, "orders_0": o0, "orders_1": o1,
               "frequency_0": o0 / c0 if a else None, "frequency_1": o1 / c1 if b else None,
               "aov_0": r0 / o0 if a else None, "aov_1": r1 / o1 if b else None,
               "delta_revenue": money(r1d - r0d)}
        delta = float(r1d - r0d)
        if st == "both":
            if r0 <= 0 or r1 <= 0:
                raise SystemExit(f"category {m}: revenue {r0d} -> {r1d}; LMDI needs positive revenue")
            weight = logmean(r0, r1, r0d == r1d)
            effects = {"effect_customers": weight * math.log(c1 / c0),
                       "effect_frequency": weight * math.log(row["frequency_1"] / row["frequency_0"]),
                       "effect_aov": weight * math.log(row["aov_1"] / row["aov_0"])}
        else:
            # The limit of LMDI as the missing period's values go to 0: the customers take it all.
            weight = None
            effects = {"effect_customers": r1 - r0, "effect_frequency": 0.0, "effect_aov": 0.0}
        row["lmdi_weight"] = weight
        row.update(effects)
        worst = max(worst, rel_gap(sum(effects.values()), delta))
        out.append(row)
    return out, worst


def mix_rate_rows(agg: list[dict]) -> tuple[list[dict], float]:
    """Margin = total revenue x share x margin rate, P0 -> P1: volume, mix and rate effects."""
    members, cells = by_member(agg)
    big_r0, big_r1 = float(cells[(None, P0)]["revenue"]), float(cells[(None, P1)]["revenue"])
    out, worst = [], 0.0
    for m in members:
        a, b = cells.get((m, P0)), cells.get((m, P1))
        r0d, r1d = (a["revenue"] if a else Decimal(0)), (b["revenue"] if b else Decimal(0))
        m0d, m1d = (a["margin"] if a else Decimal(0)), (b["margin"] if b else Decimal(0))
        r0, r1, m0, m1 = float(r0d), float(r1d), float(m0d), float(m1d)
        st = status(a is not None, b is not None)
        s0, s1 = (1.0, 1.0) if m is None else (r0 / big_r0, r1 / big_r1)
        q0 = m0 / r0 if a else None
        q1 = m1 / r1 if b else None
        # An entered member is valued at its new rate in both years (mix takes it all), a
        # left member at its old one.
        u0 = q0 if q0 is not None else q1
        u1 = q1 if q1 is not None else q0
        effects = {"volume_effect": (big_r1 - big_r0) * s0 * u0,
                   "mix_effect": big_r1 * (s1 - s0) * u0,
                   "rate_effect": big_r1 * s1 * (u1 - u0)}
        row = {"category": m, "status": st, "revenue_0": money(r0d), "revenue_1": money(r1d),
               "margin_0": money(m0d), "margin_1": money(m1d), "share_0": s0, "share_1": s1,
               "rate_0": q0, "rate_1": q1, "delta_margin": money(m1d - m0d), **effects}
        worst = max(worst, rel_gap(sum(effects.values()), float(m1d - m0d)))
        out.append(row)
    # The members' effects add up to the total's: volume to volume, mix and rate to rate.
    total = out[0]
    worst = max(worst, rel_gap(sum(r["volume_effect"] for r in out[1:]), total["volume_effect"]))
    worst = max(worst, rel_gap(sum(r["mix_effect"] + r["rate_effect"] for r in out[1:]),
                               total["mix_effect"] + total["rate_effect"]))
    return out, worst


def main() -> None:
    import duckdb

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--csv", type=Path, default=HERE / "orders.csv")
    p.add_argument("--out", type=Path, default=HERE / "reference.json")
    args = p.parse_args()

    con = duckdb.connect()
    con.execute("SET threads = 2")
    load(con, args.csv)
    cube = [with_money(r) for r in rows(con, CUBE)]
    rollup = [with_money(r) for r in rows(con, ROLLUP)]
    pop, pop_gap = pop_rows(rows(con, POP))
    mix, mix_gap = mix_rate_rows(rows(con, MIX_RATE))
    print(f"pop: effects sum to delta_revenue within {pop_gap:.3g} (relative)")
    print(f"mix_rate: effects sum to delta_margin, members to the total, within {mix_gap:.3g} (relative)")
    if max(pop_gap, mix_gap) > TOLERANCE:
        sys.exit(f"a decomposition does not add up within {TOLERANCE}")

    # The grand total of the cube is the sum of the lines, and of the rollup.
    top = cube[-1]
    assert top["grouping"] == 7 and rollup[-1]["grouping"] == 7, "grand totals sort last"
    assert {k: top[k] for k in ("lines", "revenue", "cost")} == \
        {k: rollup[-1][k] for k in ("lines", "revenue", "cost")}

    meta = {
        "source": args.csv.name,
        "source_sha256": hashlib.sha256(args.csv.read_bytes()).hexdigest(),
        "duckdb": duckdb.__version__,
        "python": sys.version.split()[0],
        "p0": P0,
        "p1": P1,
        "tolerance_checked": TOLERANCE,
        "queries": {k: " ".join(v.split()) for k, v in QUERIES.items()},
    }
    doc = {"meta": meta, "cube": cube, "rollup": rollup, "pop": pop, "mix_rate": mix}
    args.out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {args.out}: {len(cube)} cube, {len(rollup)} rollup, {len(pop)} pop, "
          f"{len(mix)} mix_rate rows")
    for r in pop:
        print(f"  pop {r['category'] or 'total':6} {r['status']:7} dR={r['delta_revenue']:>11} "
              f"cust={r['effect_customers']:12.2f} freq={r['effect_frequency']:11.2f} "
              f"aov={r['effect_aov']:11.2f}")
    for r in mix:
        print(f"  mix {r['category'] or 'total':6} {r['status']:7} dM={r['delta_margin']:>11} "
              f"vol={r['volume_effect']:11.2f} mix={r['mix_effect']:11.2f} "
              f"rate={r['rate_effect']:11.2f}")


if __name__ == "__main__":
    main()
