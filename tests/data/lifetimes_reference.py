#!/usr/bin/env python3
"""Reference values from the Python `lifetimes` package on the CDNOW data.

An independent check for acrm's Rust tests: nothing here is used at build or
test time; the files it writes are committed and read by the Rust tests.

Makes (next to this script, in tests/data/):
  * cdnow_sample_holdout_lifetimes.csv -- per-customer calibration/holdout
    summary of the 1/10 CDNOW sample (2,357 customers), columns
    id,x,t_x_days,T_days,mean_spend,holdout_purchases,holdout_days
  * cdnow_master_holdout_totals.json -- totals of the same split on the
    full CDNOW log (23,570 customers)
and prints the checks described below.

Settings: freq='D' (times in days; the literature's weeks are days/7),
calibration end 1997-09-30, observation end 1998-06-30.

Produced with: lifetimes 0.11.3, pandas 1.5.3, numpy 1.24.4, scipy 1.10.1,
autograd 1.9.1 on Python 3.11.7 (pins: benches/compare/requirements.txt).

Run from the repository root:
    /work/pyenv/bin/python tests/data/lifetimes_reference.py
Data are read from ../shared/data/cdnow relative to the repository root
(override with the environment variable CDNOW_DIR).

lifetimes conventions worth knowing (all observed with the versions above):
  * purchases are first floored to the period (a day here) and several on
    one day count as ONE purchase; with a monetary column their values are
    summed for that day;
  * frequency = number of distinct purchase days - 1 (repeat purchases);
    recency = last purchase day - first purchase day; T = observation end -
    first purchase day (both in whole days);
  * monetary_value = mean of the per-day sums over the REPEAT days (the first
    purchase day is excluded); 0 for customers with frequency 0;
  * transactions on the observation end day are included (<= end);
  * calibration_and_holdout_data keeps only customers with a purchase on
    or before the calibration end: a customer whose first purchase is in the
    holdout period is dropped entirely (not present in the output);
  * frequency_holdout counts distinct purchase DAYS in the holdout period
    (calibration end, observation end]; duration_holdout = observation end -
    calibration end in days (273 here) for every customer;
  * monetary_value_holdout (not written here) is, unlike the calibration
    value, the plain mean of the raw holdout transactions (no same-day sums);
  * with intraday timestamps the two functions disagree about the end day:
    summary_data_from_transaction_data floors timestamps to the day before
    comparing (the whole end day is in), while calibration_and_holdout_data
    splits on the raw timestamps against midnight of the end dates (a
    purchase at 14:00 on the calibration end day goes to the holdout, one on
    the observation end day is dropped). CDNOW has dates only, so no effect.
"""

import json
from decimal import ROUND_HALF_UP, Decimal
import os
import sys
from pathlib import Path

import lifetimes
import numpy as np
import pandas as pd
import scipy
from lifetimes.utils import (
    calibration_and_holdout_data,
    summary_data_from_transaction_data,
)

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DATA = Path(os.environ.get("CDNOW_DIR", REPO.parent / "shared" / "data" / "cdnow"))

CAL_END = "1997-09-30"
OBS_END = "1998-06-30"


def load_master() -> pd.DataFrame:
    df = pd.read_csv(
        DATA / "CDNOW_master.txt",
        sep=r"\s+",
        dtype={"customer_id": str, "date": str},
    )
    df["customer_id"] = df["customer_id"].astype(int)
    df["date"] = pd.to_datetime(df["date"], format="%Y%m%d")
    return df


def load_sample() -> pd.DataFrame:
    df = pd.read_csv(
        DATA / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "number_of_cds", "dollar_value"],
        dtype={"master_id": str, "customer_id": int, "date": str},
    )
    df["date"] = pd.to_datetime(df["date"], format="%Y%m%d")
    return df


def split(df: pd.DataFrame) -> pd.DataFrame:
    return calibration_and_holdout_data(
        df,
        "customer_id",
        "date",
        calibration_period_end=CAL_END,
        observation_period_end=OBS_END,
        freq="D",
        monetary_value_col="dollar_value",
    )


def main() -> int:
    print(
        f"lifetimes {lifetimes.__version__}, pandas {pd.__version__}, "
        f"numpy {np.__version__}, scipy {scipy.__version__}, python {sys.version.split()[0]}"
    )
    print(f"data: {DATA}")
    ok = True

    # ---- B1: full log, calibration summary only --------------------------------
    master = load_master()
    s = summary_data_from_transaction_data(
        master, "customer_id", "date", observation_period_end=CAL_END, freq="D"
    )
    b1 = (len(s), int(s["frequency"].sum()), int((s["frequency"] == 0).sum()))
    expected = (23570, 24337, 14119)
    print(f"B1 master summary to {CAL_END}: customers={b1[0]} repeat={b1[1]} zero_repeat={b1[2]}"
          f"  expected {expected}: {'AGREES' if b1 == expected else 'DIFFERS'}")
    ok &= b1 == expected

    # ---- B2: sample, calibration/holdout per customer --------------------------
    sample = load_sample()
    ch = split(sample).sort_index()
    out = pd.DataFrame(
        {
            "id": ch.index.astype(int),
            "x": ch["frequency_cal"].astype(int).values,
            "t_x_days": ch["recency_cal"].astype(int).values,
            "T_days": ch["T_cal"].astype(int).values,
            "mean_spend": ch["monetary_value_cal"].values,
            "holdout_purchases": ch["frequency_holdout"].astype(int).values,
            "holdout_days": ch["duration_holdout"].astype(int).values,
        }
    ).sort_values("id")
    path = HERE / "cdnow_sample_holdout_lifetimes.csv"
    out.to_csv(path, index=False, float_format="%.6f", lineterminator="\n")
    print(f"B2 wrote {path.name}: {len(out)} customers, sum x={out['x'].sum()}, "
          f"sum holdout purchases={out['holdout_purchases'].sum()}, "
          f"customers with holdout purchase={(out['holdout_purchases'] > 0).sum()}")

    pub = pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv")
    m = out.merge(pub, left_on="id", right_on="ID", how="outer", indicator=True)
    only = m[m["_merge"] != "both"]
    m = m[m["_merge"] == "both"]
    bad_x = m[m["x_x"] != m["x_y"]]
    # published values are rounded to 2 decimals
    bad_tx = m[(m["t_x_days"] / 7).round(2).sub(m["t_x"]).abs() > 0.0051]
    bad_T = m[(m["T_days"] / 7).round(2).sub(m["T"]).abs() > 0.0051]
    # zbar is published rounded half-up (22.345 -> 22.35); round the 6-decimal value the same way
    zbar = m["mean_spend"].map(
        lambda v: float(Decimal(f"{v:.6f}").quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    )
    bad_z = m[(zbar - m["zbar"]).abs() > 1e-9]
    print(f"B2 vs published sample summary: not in both={len(only)}, x mismatches={len(bad_x)}, "
          f"t_x mismatches={len(bad_tx)}, T mismatches={len(bad_T)}, zbar mismatches={len(bad_z)}")
    for name, bad in (("x", bad_x), ("t_x", bad_tx), ("T", bad_T), ("zbar", bad_z)):
        if len(bad):
            cols = ["id", "x_x", "x_y", "t_x_days", "t_x", "T_days", "T", "mean_spend", "zbar"]
            print(f"  first {name} mismatches:\n{bad[cols].head(10).to_string(index=False)}")
    ok &= len(only) == 0 and len(bad_x) == 0 and len(bad_tx) == 0 and len(bad_T) == 0 and len(bad_z) == 0

    # ---- B3: full log, calibration/holdout totals ------------------------------
    chm = split(master)
    totals = {
        "customers": int(len(chm)),
        "repeat_purchases_cal": int(chm["frequency_cal"].sum()),
        "zero_repeat_customers": int((chm["frequency_cal"] == 0).sum()),
        "holdout_purchases_total": int(chm["frequency_holdout"].sum()),
        "mean_spend_sum": round(float(chm["monetary_value_cal"].sum()), 6),
        "holdout_customers_with_purchase": int((chm["frequency_holdout"] > 0).sum()),
    }
    path = HERE / "cdnow_master_holdout_totals.json"
    path.write_text(json.dumps(totals, indent=2) + "\n")
    print(f"B3 wrote {path.name}: {json.dumps(totals)}")

    print("all checks agree" if ok else "SOME CHECKS DIFFER")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
