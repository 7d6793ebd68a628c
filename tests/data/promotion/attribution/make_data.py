"""Writes the synthetic attribution inputs (seeded; run once, outputs committed):
paths.csv (aggregated `path;total_conversions;total_conversion_value;total_null`) and
touches.csv (a touch log with conversion markers and values)."""
import random
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).parent
rng = random.Random(20)
CH = ["search", "email", "display", "social", "affiliate", "direct"]

# Paths: lengths 1-6, some with consecutive repeats; integer counts (marketing
# attribution models reads occurrences as integers).
lines = ["path;total_conversions;total_conversion_value;total_null"]
seen = []
for _ in range(70):
    n = rng.choice([1, 1, 2, 2, 3, 3, 4, 5, 6])
    p = [rng.choice(CH[:5] if rng.random() < 0.9 else CH) for _ in range(n)]
    if n >= 2 and rng.random() < 0.2:
        p.insert(1, p[0])  # a consecutive repeat
    conv = rng.choice([0, 0, 1, 2, 3, 5, 8, 13])
    null = rng.randint(0, 40)
    if conv + null == 0:
        null = 1
    value = round(conv * rng.uniform(20, 200), 2)
    seen.append(p)
    sep = rng.choice([" > ", ">", "  >  "])
    lines.append(f"{sep.join(p)};{conv};{value};{null}")
# One path twice (the reader merges them).
lines.append(lines[3])
(HERE / "paths.csv").write_text("\n".join(lines) + "\n")

# Touches: 40 customers, each 1-9 touches an irregular number of hours apart; about
# one touch in six converts (with a value).
rows = ["customer_id,time,channel,campaign,cost,conversion,value"]
start = datetime(2024, 3, 1, 8, 0, 0)
for c in range(40):
    t = start + timedelta(hours=rng.randint(0, 300))
    for _ in range(rng.randint(1, 9)):
        t += timedelta(minutes=rng.randint(30, 60 * 24 * 4))
        ch = rng.choice(CH[:5])
        camp = rng.choice(["spring", "summer", ""])
        cost = f"{rng.uniform(0.1, 3):.2f}"
        conv = rng.random() < 0.18
        val = f"{rng.uniform(30, 300):.2f}" if conv else ""
        rows.append(f"c{c:02d},{t:%Y-%m-%d %H:%M:%S},{ch},{camp},{cost},{int(conv)},{val}")
(HERE / "touches.csv").write_text("\n".join(rows) + "\n")
