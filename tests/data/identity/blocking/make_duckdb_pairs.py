"""Candidate pairs of explicit blocking rules by DuckDB SQL joins (independent of acrm).

Run: /tmp/acrm-pyenv/bin/python make_duckdb_pairs.py
-> records.csv (rec,first,surname,dob,postcode; empty = missing, seeded random values)
-> duckdb_pairs.csv (i,j with i<j: union of the three rules below, sorted)
Rules: (1) surname exact AND year of dob (first 4 chars); (2) postcode exact;
(3) first 3 characters of first name AND last 2 characters of postcode.
"""
import csv
import random

import duckdb

rng = random.Random(7)
FIRST = ["anna", "anne", "andrew", "bob", "bobby", "carl", "carla", "dora", "doris", "ed", "eddie", "fay"]
SUR = ["smith", "smyth", "jones", "brown", "braun", "lee", "li", "khan"]
rows = []
for r in range(400):
    def maybe(v, p=0.1):
        return "" if rng.random() < p else v
    rows.append([
        r,
        maybe(rng.choice(FIRST)),
        maybe(rng.choice(SUR)),
        maybe(f"{rng.randint(1950, 1960)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"),
        maybe(f"AB{rng.randint(1, 60)}"),
    ])
with open("records.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["rec", "first", "surname", "dob", "postcode"])
    w.writerows(rows)

con = duckdb.connect()
con.execute("CREATE TABLE r AS SELECT * FROM read_csv('records.csv', header=true, all_varchar=true)")
q = """
SELECT DISTINCT i, j FROM (
  SELECT a.rec::INT i, b.rec::INT j FROM r a JOIN r b ON a.rec::INT < b.rec::INT
    AND a.surname = b.surname AND substr(a.dob, 1, 4) = substr(b.dob, 1, 4)
  UNION ALL
  SELECT a.rec::INT, b.rec::INT FROM r a JOIN r b ON a.rec::INT < b.rec::INT AND a.postcode = b.postcode
  UNION ALL
  SELECT a.rec::INT, b.rec::INT FROM r a JOIN r b ON a.rec::INT < b.rec::INT
    AND substr(a.first, 1, 3) = substr(b.first, 1, 3) AND right(a.postcode, 2) = right(b.postcode, 2)
) ORDER BY i, j
"""
pairs = con.execute(q).fetchall()
with open("duckdb_pairs.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["i", "j"])
    w.writerows(pairs)
print(len(pairs), "pairs")
