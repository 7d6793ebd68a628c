"""Reference values of the string metrics for tests/it/identity_compare.rs.

Pairs: names / words / addresses with planted typos (substitution, insertion, deletion,
adjacent transposition, far swap), token shuffles and drops, accented and non-Latin
text, empty strings. Values: jellyfish (jaro_similarity, jaro_winkler_similarity,
levenshtein_distance, damerau_levenshtein_distance) and rapidfuzz
(fuzz.token_set_ratio / 100). Seeded: re-running gives the same file.
Run: /tmp/acrm-pyenv/bin/python make_reference.py
"""
import csv
import random

import jellyfish
import rapidfuzz
from rapidfuzz import fuzz

rng = random.Random(20261206)
WORDS = ("robert william elizabeth smith jones taylor brown o'brien mcdonald street road "
         "avenue high church park london manchester flat apt north 12 221b baker josé "
         "müller zoë łukasz straße ñandú 北京 dmitri cathy catherine jon john martha marhta "
         "dixon dickson").split()
ALPHA = "abcdefghijklmnopqrstuvwxyz"


def typo(s):
    if not s:
        return rng.choice(ALPHA)
    i = rng.randrange(len(s))
    op = rng.randrange(5)
    if op == 0:
        return s[:i] + rng.choice(ALPHA) + s[i + 1:]
    if op == 1:
        return s[:i] + rng.choice(ALPHA) + s[i:]
    if op == 2:
        return s[:i] + s[i + 1:]
    if op == 3 and len(s) > 1:
        i = min(i, len(s) - 2)
        return s[:i] + s[i + 1] + s[i] + s[i + 2:]
    j = rng.randrange(len(s))
    l = list(s)
    l[i], l[j] = l[j], l[i]
    return "".join(l)


def phrase():
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))


pairs = [("", ""), ("", "a"), ("a", ""), ("a", "a"), ("ab", "ba"), ("MARTHA", "MARHTA"),
         ("DIXON", "DICKSONX"), ("ca", "abc"), ("  ", "a b")]
while len(pairs) < 3000:
    kind = rng.randrange(6)
    if kind == 0:
        a = rng.choice(WORDS)
        b = typo(a)
    elif kind == 1:
        a = rng.choice(WORDS)
        b = typo(typo(a))
    elif kind == 2:
        a = phrase()
        t = a.split()
        rng.shuffle(t)
        if len(t) > 1 and rng.random() < 0.5:
            t.pop()
        b = " ".join(t + ([rng.choice(WORDS)] if rng.random() < 0.5 else []))
    elif kind == 3:
        a, b = phrase(), phrase()
    elif kind == 4:
        a = phrase()
        b = typo(a)
    else:
        a = "".join(rng.choice(ALPHA) for _ in range(rng.randint(0, 70)))
        b = typo(a) if rng.random() < 0.7 else "".join(rng.choice(ALPHA) for _ in range(rng.randint(0, 70)))
    pairs.append((a, b))

with open("string_metrics.csv", "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["a", "b", "jaro", "jaro_winkler", "levenshtein", "damerau", "token_set"])
    for a, b in pairs:
        w.writerow([a, b,
                    repr(jellyfish.jaro_similarity(a, b)),
                    repr(jellyfish.jaro_winkler_similarity(a, b)),
                    jellyfish.levenshtein_distance(a, b),
                    jellyfish.damerau_levenshtein_distance(a, b),
                    repr(fuzz.token_set_ratio(a, b) / 100)])
from importlib.metadata import version
print("jellyfish", version("jellyfish"), "rapidfuzz", rapidfuzz.__version__, len(pairs), "pairs")
