"""Writes CDNOW_master.txt as a folder of Parquet files for the `engine` example.

Rows are dealt round-robin over FILES files in two Hive-style partition folders, so a
customer's rows are spread over several files; `date` is date32 and `amount` a
decimal(10, 2), as an export from a warehouse would have them.

    python benches/compare/cdnow_parquet.py tests/data/cdnow/CDNOW_master.txt OUT_DIR [FILES]

Needs pyarrow (pip install pyarrow), outside the repository's tests.
"""
import datetime as dt
import decimal
import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq


def main():
    src, out = sys.argv[1], sys.argv[2]
    files = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    ids, dates, amounts = [], [], []
    with open(src) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 4 or not parts[1].isdigit():
                continue
            ids.append(str(int(parts[0])))
            d = parts[1]
            dates.append(dt.date(int(d[:4]), int(d[4:6]), int(d[6:])))
            amounts.append(decimal.Decimal(parts[3]).quantize(decimal.Decimal("0.01")))
    for k in range(files):
        sub = os.path.join(out, f"half={k % 2}")
        os.makedirs(sub, exist_ok=True)
        table = pa.table(
            {
                "customer_id": pa.array(ids[k::files], pa.string()),
                "date": pa.array(dates[k::files], pa.date32()),
                "amount": pa.array(amounts[k::files], pa.decimal128(10, 2)),
            }
        )
        pq.write_table(table, os.path.join(sub, f"part-{k:03}.parquet"), row_group_size=5000)
    print(f"{len(ids)} rows in {files} files under {out}")


if __name__ == "__main__":
    main()
