"""Candidate pairs of phonetic and sorted-neighbourhood blocking rules by DuckDB SQL
(independent of acrm; Soundex / NYSIIS codes from jellyfish, joined in DuckDB).

Run: /tmp/acrm-pyenv/bin/python make_duckdb_pairs2.py  (after make_duckdb_pairs.py)
Input: records.csv (rec,first,surname,dob,postcode; empty = missing)
-> duckdb_pairs2.csv (i,j with i<j: union of the rules below, sorted)
Rules: (1) Soundex of surname AND NYSIIS of first name;
(2) sorted neighbourhood on dob, window 3: records with a dob ordered by (dob, rec),
    each paired with the next two (ROW_NUMBER difference 1 or 2).
"""
import csv

import duckdb
import jellyfish

rows = list(csv.DictReader(open("records.csv")))
con = duckdb.connect()
con.execute("CREATE TABLE r (rec INT, first VARCHAR, surname VARCHAR, dob VARCHAR, sx VARCHAR, ny VARCHAR)")
con.executemany(
    "INSERT INTO r VALUES (?, ?, ?, ?, ?, ?)",
    [
        [
            int(x["rec"]),
            x["first"] or None,
            x["surname"] or None,
            x["dob"] or None,
            jellyfish.soundex(x["surname"]) if x["surname"] else None,
            jellyfish.nysiis(x["first"]) if x["first"] else None,
        ]
        for x in rows
    ],
)
q = """
WITH s AS (
  SELECT rec, ROW_NUMBER() OVER (ORDER BY dob, rec) AS rn FROM r WHERE dob IS NOT NULL
)
SELECT DISTINCT i, j FROM (
  SELECT a.rec i, b.rec j FROM r a JOIN r b ON a.rec < b.rec AND a.sx = b.sx AND a.ny = b.ny
  UNION ALL
  SELECT least(a.rec, b.rec), greatest(a.rec, b.rec) FROM s a JOIN s b
    ON b.rn - a.rn BETWEEN 1 AND 2
) ORDER BY i, j
"""
pairs = con.execute(q).fetchall()
with open("duckdb_pairs2.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["i", "j"])
    w.writerows(pairs)
print(len(pairs), "pairs")
