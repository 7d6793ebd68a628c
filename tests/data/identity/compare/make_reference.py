"""Reference values for tests/it/identity_compare.rs.

string_metrics.csv (3,000 pairs): given names, surnames and full names with planted typos
(substitution, insertion, deletion, adjacent transposition, far swap), accented names
against their accent-folded form (with and without a typo), address / free-text phrases
with token shuffles and drops, random strings up to 70 characters (past the 64-character
stack buffers), a few non-Latin words and empty strings. Values: jellyfish
(jaro_similarity, jaro_winkler_similarity, levenshtein_distance,
damerau_levenshtein_distance) and rapidfuzz (fuzz.token_set_ratio / 100).

name_folding.csv (400 raw names): the documented Name canonical form computed here with
Python's unicodedata (NFKD, combining marks dropped, the ß/æ/ø/œ/ł/đ/þ table, apostrophes
dropped, other non-alphanumerics to one space, lower-case), an implementation independent
of the crate's unicode-normalization tables.

Seeded: re-running gives the same files.
Run: cd tests/data/identity/compare && /tmp/acrm-pyenv/bin/python make_reference.py
"""
import csv
import random
import sys
import unicodedata
from importlib.metadata import version

import jellyfish
import rapidfuzz
from rapidfuzz import fuzz

rng = random.Random(20261206)
GIVEN = ("robert william elizabeth james michael richard thomas david christopher anthony "
         "joseph daniel stephen edward andrew matthew margaret jennifer susan patricia "
         "deborah rebecca victoria sarah mary catherine kathryn cathy jon john martha "
         "dwayne duane brian bryan jeffrey geoffrey mohammed muhammad").split()
SURNAMES = ("smith jones taylor brown williams wilson johnson davies robinson wright "
            "thompson thomson evans walker white roberts green hall wood jackson o'brien "
            "mcdonald macdonald dixon dickson smyth johns").split()
ACCENTED = ("josé zoë müller łukasz françois søren ångström björk núñez görög "
            "dvořák škoda ølstad æsir œuvre straße đorđević þórr renée chloé "
            "andré gonçalves jürgen maël ignacio peña sánchez héloïse "
            "çelik wałęsa kovačević bjørn").split()
WORDS = ("street road avenue high church park london manchester flat apt north 12 221b "
         "baker ñandú 北京 dmitri lane close the of and unit house").split()
ALPHA = "abcdefghijklmnopqrstuvwxyz"
SPECIAL = {"ß": "ss", "æ": "ae", "Æ": "ae", "ø": "o", "Ø": "o", "œ": "oe", "Œ": "oe",
           "ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "þ": "th", "Þ": "th"}


def fold(s):
    """The crate's documented Name canonical form, via Python's unicodedata."""
    out, pending = [], False
    for c in unicodedata.normalize("NFKD", s):
        if unicodedata.combining(c):
            continue
        if c in SPECIAL:
            m = SPECIAL[c]
        elif c in "'\u2019":
            continue
        elif c.isalnum():
            lo = c.lower()
            m = lo if len(lo) == 1 else c
        else:
            pending = True
            continue
        if pending and out:
            out.append(" ")
        pending = False
        out.append(m)
    return "".join(out)


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


def full_name():
    return rng.choice(GIVEN + ACCENTED) + " " + rng.choice(SURNAMES + ACCENTED)


def phrase():
    return " ".join(rng.choice(WORDS + SURNAMES) for _ in range(rng.randint(1, 5)))


pairs = [("", ""), ("", "a"), ("a", ""), ("a", "a"), ("ab", "ba"), ("MARTHA", "MARHTA"),
         ("DIXON", "DICKSONX"), ("ca", "abc"), ("  ", "a b"), ("josé", "jose"),
         ("zoë", "zoe"), ("x" * 64, "x" * 63 + "y"), ("a" * 65, "a" * 64)]
while len(pairs) < 3000:
    kind = rng.randrange(8)
    if kind == 0:  # one name with one typo
        a = rng.choice(GIVEN + SURNAMES)
        b = typo(a)
    elif kind == 1:  # two typos
        a = rng.choice(GIVEN + SURNAMES)
        b = typo(typo(a))
    elif kind == 2:  # full names: typo, swapped order, or another person
        a = full_name()
        r = rng.random()
        b = typo(a) if r < 0.4 else " ".join(reversed(a.split())) if r < 0.7 else full_name()
    elif kind == 3:  # accented name against its folded form, sometimes with a typo
        a = rng.choice(ACCENTED) if rng.random() < 0.5 else full_name()
        b = fold(a)
        if rng.random() < 0.4:
            b = typo(b)
    elif kind == 4:  # free text: token shuffle, drop, extra token
        a = phrase()
        t = a.split()
        rng.shuffle(t)
        if len(t) > 1 and rng.random() < 0.5:
            t.pop()
        b = " ".join(t + ([rng.choice(WORDS)] if rng.random() < 0.5 else []))
    elif kind == 5:  # unrelated phrases
        a, b = phrase(), phrase()
    elif kind == 6:  # phrase with a typo
        a = phrase()
        b = typo(a)
    else:  # random strings, some past 64 characters
        a = "".join(rng.choice(ALPHA) for _ in range(rng.randint(0, 70)))
        b = typo(a) if rng.random() < 0.7 else "".join(
            rng.choice(ALPHA) for _ in range(rng.randint(0, 70)))
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

DECOR = [lambda s: s.upper(), lambda s: s.title(), lambda s: "  " + s + " ",
         lambda s: s.replace(" ", "-"), lambda s: s.replace(" ", ", "),
         lambda s: s + ".", lambda s: "(" + s + ")", lambda s: s]
names = []
while len(names) < 400:
    s = full_name()
    for d in rng.sample(DECOR, rng.randint(1, 3)):
        s = d(s)
    names.append(s)
with open("name_folding.csv", "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["raw", "folded"])
    for s in names:
        w.writerow([s, fold(s)])

print("python", sys.version.split()[0], "unicodedata", unicodedata.unidata_version,
      "jellyfish", version("jellyfish"), "rapidfuzz", rapidfuzz.__version__,
      len(pairs), "pairs", len(names), "names")
