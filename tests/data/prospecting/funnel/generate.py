"""Seeded synthetic campaign contacts and campaigns for the funnel tests.

Run: /tmp/acrm-pyenv/bin/python generate.py (writes contacts.csv and campaigns.csv here).
"""
import datetime as dt
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(19)
AS_OF = dt.date(2024, 9, 30)
START = dt.date(2024, 1, 1)
# campaign: (contacts, P(lead), P(opportunity | lead), P(order | opportunity), mean lags in days)
CAMPAIGNS = {
    "spring_fair": (500, 0.35, 0.40, 0.50, (6, 18, 30)),
    "web_ads": (600, 0.20, 0.30, 0.35, (3, 25, 35)),
    "roadshow": (300, 0.45, 0.50, 0.45, (10, 15, 25)),
}
CHANNELS = ["web", "event", "phone"]
OWNERS = ["ann", "bob", "cat"]

rows = []
n = 0
for campaign, (count, p_lead, p_opp, p_order, lags) in CAMPAIGNS.items():
    for _ in range(count):
        n += 1
        created = START + dt.timedelta(days=int(rng.integers(0, 240)))
        probs = (p_lead, p_opp, p_order)
        dates = []
        day = created
        for s in range(3):
            if rng.random() >= probs[s]:
                break
            day = day + dt.timedelta(days=int(rng.exponential(lags[s])))
            if day > AS_OF:
                break
            dates.append(day)
        flags = [1 if s < len(dates) else 0 for s in range(3)]
        texts = [d.isoformat() for d in dates] + [""] * (3 - len(dates))
        # About 2% of the stages reached are recorded without a date.
        texts = [t if (t == "" or rng.random() >= 0.02) else "" for t in texts]
        rows.append(
            [campaign, f"c{n:05d}", CHANNELS[int(rng.integers(0, 3))], OWNERS[int(rng.integers(0, 3))],
             created.isoformat(), *map(str, flags), *texts, str(int(rng.integers(1, 500)))]
        )

with open(os.path.join(HERE, "contacts.csv"), "w") as f:
    f.write("campaign,contact_id,channel,owner,created,lead,opportunity,order,"
            "lead_date,opportunity_date,order_date,employees\n")
    for r in rows:
        f.write(",".join(r) + "\n")

with open(os.path.join(HERE, "campaigns.csv"), "w") as f:
    f.write("id,type,product,start,end,cost\n")
    f.write("spring_fair,fair,boilers,2024-01-01,2024-08-31,42000\n")
    f.write("web_ads,advertising,heat_pumps,2024-01-01,2024-08-31,18500.5\n")
    f.write("roadshow,fair,heat_pumps,2024-01-01,2024-08-31,27300\n")
