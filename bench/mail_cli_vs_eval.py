#!/usr/bin/env python3
"""`greyflux learn` + `greyflux classify` against gf_mail_eval on the half split, message by message.

usage: python3 bench/mail_cli_vs_eval.py [BUILD_DIR] [--corpus DIR]

Links the half split's training spam, training ham and test messages into three directories
(named by manifest row, so a directory's sorted order is the manifest order gf_mail_eval learns
in), runs `greyflux learn --spam DIR --ham DIR` into a private model file and `greyflux classify
DIR` on the test directory, and compares the misclassified messages with gf_mail_eval's
(GF_EVAL_MISSES, auto-learning off as in classify). Exit 0 when they are the same messages.
"""
import argparse
import os
import subprocess
import sys
import tempfile


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default="build/release")
    ap.add_argument("--corpus", default="build/corpus")
    args = ap.parse_args()
    manifest = os.path.join(args.corpus, "manifest.tsv")
    rows = [line.rstrip("\n").split("\t") for line in open(manifest)]
    with tempfile.TemporaryDirectory(prefix="gf-mailcli-") as d:
        for sub in ("spam", "ham", "test"):
            os.mkdir(os.path.join(d, sub))
        for i, r in enumerate(rows):
            sub = r[1] if r[2] == "train" else "test"
            os.symlink(os.path.abspath(r[0]), os.path.join(d, sub, f"{i:05d}-{r[1]}"))
        gf = os.path.join(args.build, "greyflux")
        model = f"spamd.model={d}/m.model"
        subprocess.run([gf, "learn", "--set", model, "--spam", f"{d}/spam", "--ham", f"{d}/ham"],
                       check=True, stdout=subprocess.DEVNULL)
        out = subprocess.run([gf, "classify", "--set", model, f"{d}/test"], capture_output=True,
                             text=True).stdout
    cli = set()
    for line in out.splitlines():
        name, verdict = line.split()[:2]
        i, label = os.path.basename(name).split("-")
        if (label == "spam") != (verdict == "S"):
            cli.add(os.path.abspath(rows[int(i)][0]))
    env = dict(os.environ, GF_EVAL_NO_SPEED="1", GF_EVAL_PROTOCOLS="half", GF_EVAL_MISSES="1",
               GF_EVAL_AUTOLEARN="0")
    ev = subprocess.run([os.path.join(args.build, "bench", "gf_mail_eval"), manifest, "--configs",
                         "default"], env=env, capture_output=True, text=True, check=True).stdout
    evs = {os.path.abspath(line.split()[3]) for line in ev.splitlines() if line.startswith("MISS")}
    print(f"greyflux learn+classify: {len(cli)} misclassified; gf_mail_eval: {len(evs)}; "
          f"differing: {len(cli ^ evs)}")
    return 0 if cli == evs else 1


if __name__ == "__main__":
    sys.exit(main())
