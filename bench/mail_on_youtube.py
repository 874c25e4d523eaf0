#!/usr/bin/env python3
"""The mail model on a second corpus: the YouTube Spam Collection, each comment as a message.

usage: python3 bench/mail_on_youtube.py [BUILD_DIR] [--data DIR] [--out DIR] [--dump FILE]
                                        [--shapes SHARE:SEED,...] [--no-bogofilter]

So that a choice made on the SpamAssassin corpus is not tuned to it: each comment becomes a
plain-text message (From: the author's name, no Subject, the comment as the body) under
OUT (default build/youtube-mail), and BUILD_DIR/bench/gf_mail_eval trains and classifies them
through the production learn/classify functions, verdict at required_score 5.0.

Protocol (the data set's README): leave-one-video-out, train on four files, test on the fifth,
five folds pooled; reported as accuracy, false positives on ham, recall on spam and ROC AUC of
the model probability (pooled). Also lopsided, as the mail splits: each fold's training spam
with a SHARE sample (seeded) of its training ham ("lop-spam") and the reverse ("lop-ham").
bogofilter is trained and scored the same way on the same files (at 0.5), as in
bench/mail_eval_vs_bogofilter.py. The README's time-ordered online protocol is the comment
classifier's (gf_comment_eval); it is not run here.
"""
import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mail_eval_vs_bogofilter as mb  # noqa: E402

FILES = ["Youtube01-Psy.csv", "Youtube02-KatyPerry.csv", "Youtube03-LMFAO.csv",
         "Youtube04-Eminem.csv", "Youtube05-Shakira.csv"]


def write_messages(data, out):
    """[(path, spam, video)] with one message file per comment."""
    os.makedirs(out, exist_ok=True)
    rows = []
    for video, name in enumerate(FILES):
        with open(os.path.join(data, name), newline="", encoding="utf-8") as f:
            for k, r in enumerate(csv.DictReader(f)):
                author = " ".join(r["AUTHOR"].replace('"', "").split())
                body = r["CONTENT"].replace("\r\n", "\n")
                path = os.path.join(out, f"v{video}-{k:04d}.eml")
                with open(path, "w", encoding="utf-8") as m:
                    m.write(f'From: "{author}" <comment@example.invalid>\n'
                            "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
                            f"{body}\n")
                rows.append((path, r["CLASS"] == "1", video))
    return rows


def manifest(rows, held_out, share, seed, path):
    """gf_mail_eval's manifest: the held-out video is the test half; minor = `share` of each
    class's training rows (seeded)."""
    minor = set()
    for label in (True, False):
        train = [i for i, (_, spam, v) in enumerate(rows) if spam == label and v != held_out]
        random.Random(seed).shuffle(train)
        minor.update(train[:round(share * len(train))])
    with open(path, "w") as f:
        for i, (p, spam, v) in enumerate(rows):
            f.write("\t".join([p, "spam" if spam else "ham", "test" if v == held_out else "train",
                               str(v), "train", "minor" if i in minor else "-", "0"]) + "\n")
    return minor


def summary(scores, verdicts):
    ham = [v for v, (_, y) in zip(verdicts, scores) if not y]
    spam = [v for v, (_, y) in zip(verdicts, scores) if y]
    fp, tp = sum(ham), sum(spam)
    acc = (len(ham) - fp + tp) / max(len(scores), 1)
    return (f"acc {100 * acc:6.2f}%  FP {100 * fp / max(len(ham), 1):5.2f}% ({fp:3d})  "
            f"recall {100 * tp / max(len(spam), 1):6.2f}%  AUC {1 - mb.one_minus_auc(scores):.4f}")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default="build/release")
    ap.add_argument("--data", default=os.path.join(here, "..", "..", "shared", "data",
                                                   "youtube-spam-collection-v1"))
    ap.add_argument("--out", default="build/youtube-mail")
    ap.add_argument("--shapes", default="0.02:7,0.05:7")
    ap.add_argument("--no-bogofilter", action="store_true")
    ap.add_argument("--dump", help="also append gf_mail_eval's GF_EVAL_DUMP lines here")
    args = ap.parse_args()
    if not os.path.isdir(args.data):
        args.data = "/work/shared/data/youtube-spam-collection-v1"
    rows = write_messages(args.data, args.out)
    binary = os.path.join(args.build, "bench", "gf_mail_eval")
    pooled = {}  # protocol -> ([(p, spam)], [verdict]) for greyflux; "bogo " + protocol too
    for spec in args.shapes.split(","):
        share, seed = float(spec.split(":")[0]), int(spec.split(":")[1])
        tag = f" {share * 100:g}% s{seed}"
        for k in range(len(FILES)):
            man = os.path.join(args.out, f"manifest-{k}.tsv")
            minor = manifest(rows, k, share, seed, man)
            protocols = ["lop-spam", "lop-ham"] + (["half"] if spec == args.shapes.split(",")[0]
                                                    else [])
            with tempfile.NamedTemporaryFile("r", suffix=".tsv") as dump:
                env = dict(os.environ, GF_EVAL_NO_SPEED="1", GF_EVAL_DUMP=dump.name,
                           GF_EVAL_PROTOCOLS=",".join(protocols))
                env.pop("GF_EVAL_SWEEP", None)
                subprocess.run([binary, man, "--configs", "default"], env=env, check=True,
                               capture_output=True)
                lines = open(dump.name).read().splitlines()
                if args.dump:
                    with open(args.dump, "a") as keep:
                        keep.writelines(f"{x}\t{k}{tag}\n" for x in lines)
                for line in lines:
                    f = line.split("\t")
                    name = "lovo" if f[1] == "half" else f[1] + tag
                    s, v = pooled.setdefault(name, ([], []))
                    s.append((float(f[7]), f[3] == "1"))
                    v.append(f[8] == "1")
            if args.no_bogofilter:
                continue
            test = [{"path": p, "spam": y} for p, y, v in rows if v == k]
            splits = (("lovo", lambda i, y: True),
                      ("lop-spam" + tag, lambda i, y: y or i in minor),
                      ("lop-ham" + tag, lambda i, y: not y or i in minor))
            for name, keep in splits:
                if name == "lovo" and "half" not in protocols:
                    continue
                train = [{"path": p, "spam": y} for i, (p, y, v) in enumerate(rows)
                         if v != k and keep(i, y)]
                sc = [(x, y) for x, y, _ in mb.bogofilter_scores(train, test)]
                s, v = pooled.setdefault("bogo " + name, ([], []))
                s.extend(sc)
                v.extend(x >= 0.5 for x, _ in sc)
    for name in sorted(n for n in pooled if not n.startswith("bogo ")):
        s, v = pooled[name]
        print(f"{name:<16} greyflux    {summary(s, v)}")
        if "bogo " + name in pooled:
            bs, bv = pooled["bogo " + name]
            print(f"{'':<16} bogofilter  {summary(bs, bv)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
