"""Seeded synthetic campaign test: three campaigns (a mailing and two e-mail pushes),
three arms each (control, offer_a, offer_b), two 0/1 outcomes (click, purchase) and the
purchase revenue. Writes campaign.csv (one row per contacted customer) and campaigns.csv
(type, product, dates, cost). Run: python generate.py (numpy default_rng(20))."""

import datetime as dt

import numpy as np

rng = np.random.default_rng(20)

CAMPAIGNS = [
    # id, type, product, start, end, cost, rows, click rates, purchase rates (control, a, b)
    ("spring_mail", "mail", "boilers", "2024-03-01", "2024-03-05", 1500.0, 1200,
     (0.08, 0.11, 0.10), (0.030, 0.048, 0.038)),
    ("spring_email", "email", "boilers", "2024-03-10", "2024-03-12", 300.0, 1200,
     (0.12, 0.16, 0.13), (0.040, 0.055, 0.045)),
    ("summer_email", "email", "heat_pumps", "2024-06-01", "2024-06-03", 300.0, 1200,
     (0.10, 0.15, 0.12), (0.035, 0.050, 0.042)),
]
ARMS = ["control", "offer_a", "offer_b"]

rows = []
k = 0
for cid, kind, product, start, end, cost, n, clicks, buys in CAMPAIGNS:
    first = dt.date.fromisoformat(start)
    for _ in range(n):
        k += 1
        arm = rng.choice(3, p=[0.3, 0.35, 0.35])
        day = first + dt.timedelta(days=int(rng.integers(0, 3)))
        purchase = rng.random() < buys[arm]
        # A purchase follows a click most of the time; some buy without clicking.
        click = purchase and rng.random() < 0.8 or (not purchase and rng.random() < clicks[arm])
        revenue = round(float(rng.gamma(2.0, 60.0 + 10.0 * arm)), 2) if purchase else 0.0
        segment = "ent" if rng.random() < 0.25 else "smb"
        rows.append((f"c{k:05d}", cid, ARMS[arm], day.isoformat(), int(click), int(purchase),
                     f"{revenue:.2f}", segment))

with open("campaign.csv", "w") as f:
    f.write("customer,campaign,arm,date,click,purchase,revenue,segment\n")
    for r in rows:
        f.write(",".join(str(x) for x in r) + "\n")

with open("campaigns.csv", "w") as f:
    f.write("id,type,product,start,end,cost\n")
    for cid, kind, product, start, end, cost, *_ in CAMPAIGNS:
        f.write(f"{cid},{kind},{product},{start},{end},{cost}\n")
