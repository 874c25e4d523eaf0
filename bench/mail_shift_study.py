#!/usr/bin/env python3
"""The spam-heavy ratio correction re-chosen on a gf_mail_eval dump, without retraining.

usage: python3 bench/mail_shift_study.py DUMP [DUMP...] [--factors 0.6,0.7,0.8,0.9,1.0]
                                        [--side spam|ham]

DUMP: lines written by `GF_EVAL_DUMP=FILE build/release/bench/gf_mail_eval ... --cv 1` (one
per test message: configuration, protocol, run, label, spam and ham learned, the symbol score
without BAYES_*, the model P, the verdict, the file). The scanner reports
P = sigmoid(logit(P_model) - ln(n_spam / n_ham)); for a model that learned more spam than ham
(--side ham: more ham than spam) this prints FP / FN at the default decision rule (the
BAYES_* band weights of default_scanner_options plus the other symbols, spam at 5.0) had the
correction been c * ln(n_spam / n_ham) instead, for each factor c (1 = the scanner's own P,
checked against the dumped verdicts), per configuration, protocol and dump file.
"""
import argparse
import collections
import math
import sys

# default_scanner_options(): BAYES_* band edges and points.
BANDS = ((0.999, 8.0), (0.99, 7.0), (0.95, 6.5), (0.80, 6.0), (0.60, 4.0), (0.40, 2.0),
         (0.20, 0.5), (0.05, 0.0), (0.01, -1.0), (0.0, -2.0))


def band(p):
    for lo, points in BANDS:
        if p >= lo:
            return points
    return BANDS[-1][1]


def shifted(p, spam, ham, factor, side):
    """P with the ratio correction c * ln(spam / ham) in place of ln(spam / ham), for models of
    the given side only."""
    if p < 0.0 or ham == 0 or spam == 0 or (spam > ham) != (side == "spam") or spam == ham:
        return p
    p = min(max(p, 1e-15), 1.0 - 1e-15)
    z = math.log(p / (1.0 - p)) + (1.0 - factor) * math.log(spam / ham)
    return 1.0 / (1.0 + math.exp(-max(min(z, 700.0), -700.0)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dumps", nargs="+")
    ap.add_argument("--factors", default="0.6,0.7,0.75,0.8,0.9,1.0")
    ap.add_argument("--side", choices=("spam", "ham"), default="spam")
    args = ap.parse_args()
    factors = [float(x) for x in args.factors.split(",")]
    for path in args.dumps:
        groups = collections.defaultdict(list)
        for line in open(path):
            f = line.rstrip("\n").split("\t")
            if len(f) < 10:
                continue
            groups[(f[0], f[1])].append((f[3] == "1", int(f[4]), int(f[5]), float(f[6]),
                                         float(f[7]), f[8] == "1"))
        for (config, proto), rows in groups.items():
            ham = sum(1 for r in rows if not r[0])
            spam = len(rows) - ham
            agree = sum(1 for y, ns, nh, other, p, v in rows if (other + band(p) >= 5.0 - 1e-9) == v
                        or p < 0.0)
            line = f"{path}  {config:<34} {proto:<8} (rule reproduces {agree}/{len(rows)})"
            for c in factors:
                fp = fn = 0
                for y, ns, nh, other, p, _ in rows:
                    q = shifted(p, ns, nh, c, args.side)
                    flagged = other + (band(q) if q >= 0.0 else 0.0) >= 5.0 - 1e-9
                    fp += flagged and not y
                    fn += (not flagged) and y
                line += f"  c {c:g}: {100.0 * fp / max(ham, 1):.2f}/{100.0 * fn / max(spam, 1):.2f}"
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
