"""Makes tests/data/scopes/cdnow_customers.csv: an invented sales organisation for the
23,570 CDNOW customers (the data set has none), for the access-scope examples and tests.

Three branches (north, south, west) hold eight teams (t1..t8: t1-t3 north, t4-t6 south,
t7-t8 west), each of five owners (s01..s40, s01-s05 in t1, ...). Customer i (CDNOW id,
written zero-padded as in CDNOW_master.txt) belongs to owner 1 + (i * 7919) mod 40. Every
50th customer is handed over on 1997-07-01 to the next owner (s40 to s01), which may be in
another team or branch: a second line with `from` = 1997-07-01.

Run: python3 make_cdnow_customers.py > cdnow_customers.csv
"""

def owner(k):  # k in 1..40
    team = (k - 1) // 5 + 1
    branch = "north" if team <= 3 else ("south" if team <= 6 else "west")
    return f"s{k:02d}", f"t{team}", branch

print("customer_id,owner,team,branch,from")
for i in range(1, 23571):
    k = 1 + (i * 7919) % 40
    o, t, b = owner(k)
    print(f"{i:05d},{o},{t},{b},")
    if i % 50 == 7:
        o, t, b = owner(k % 40 + 1)
        print(f"{i:05d},{o},{t},{b},1997-07-01")
