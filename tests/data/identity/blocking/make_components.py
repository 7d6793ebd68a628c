"""Connected components of thresholded random graphs by networkx (reference for acrm's
union-find clustering).

Run: /tmp/acrm-pyenv/bin/python make_components.py
-> graph_edges.csv (graph,n,i,j,p): seeded random graphs, each edge with a probability p
-> graph_components.csv (graph,record,smallest): per record, the smallest record index of
   its component in the graph of edges with p >= 0.5 (networkx.connected_components).
"""
import csv
import random

import networkx as nx

rng = random.Random(11)
specs = [(0, 30, 25), (1, 200, 180), (2, 1000, 900), (3, 1500, 2500), (4, 500, 0)]
with open("graph_edges.csv", "w", newline="") as fe, open("graph_components.csv", "w", newline="") as fc:
    we = csv.writer(fe, lineterminator="\n")
    wc = csv.writer(fc, lineterminator="\n")
    we.writerow(["graph", "n", "i", "j", "p"])
    wc.writerow(["graph", "record", "smallest"])
    for g, n, m in specs:
        G = nx.Graph()
        G.add_nodes_from(range(n))
        for _ in range(m):
            i, j = rng.sample(range(n), 2)
            p = round(rng.random(), 4)
            we.writerow([g, n, i, j, p])
            if p >= 0.5:
                G.add_edge(i, j)
        for comp in nx.connected_components(G):
            s = min(comp)
            for r in sorted(comp):
                wc.writerow([g, r, s])
print("ok")
