#!/usr/bin/env python3
"""Debian's spamc against a running greyflux: every verb spamc sends, GTUBE -> spam, a plain
note -> ham, learning with -L, unix sockets, zlib (raw client: Debian's spamc is built without
zlib), and bad input that must never crash, hang or starve other clients.

usage: spamc_test.py GREYFLUX_BINARY
"""
import os
import resource
import shutil
import socket
import subprocess
import sys
import threading
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from spamdlib import GTUBE, HAM_MAIL, SPAM_MAIL, Greyflux, exchange, request  # noqa: E402

FAILURES = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILURES.append(what)


def spamc(gf, args, message, unix=False):
    where = ["-U", gf.unix] if unix else ["-d", "127.0.0.1", "-p", str(gf.port)]
    p = subprocess.run(["spamc", *where, *args], input=message.encode(), capture_output=True,
                       timeout=30)
    return p.returncode, p.stdout.decode(errors="replace")


def spamc_tests(gf):
    rc, out = spamc(gf, ["-c"], SPAM_MAIL)
    check(rc == 1 and out.strip().startswith("1000.0/5.0"), f"spamc -c GTUBE -> spam ({rc} {out.strip()})")
    rc, out = spamc(gf, ["-c"], HAM_MAIL)
    check(rc == 0 and out.strip() == "0.0/5.0", f"spamc -c note -> ham ({rc} {out.strip()})")
    rc, out = spamc(gf, ["-R"], SPAM_MAIL)
    check(rc == 0 and "GTUBE" in out and "pts rule name" in out, "spamc -R explains GTUBE")
    rc, out = spamc(gf, ["-y"], SPAM_MAIL)
    check(out.strip() == "GTUBE", f"spamc -y lists symbols ({out.strip()})")
    rc, out = spamc(gf, ["-K"], "")
    check(rc == 0 and out.startswith("SPAMD/1.5 0"), f"spamc -K pings ({out.strip()})")
    rc, out = spamc(gf, [], SPAM_MAIL)
    check(rc == 0 and out.startswith("X-Spam-Checker-Version: greyflux") and
          "X-Spam-Flag: YES" in out and "X-Spam-Status: Yes, score=1000.0" in out and
          out.endswith(GTUBE + "\r\n"), "spamc (PROCESS) rewrites a spam")
    rc, out = spamc(gf, [], HAM_MAIL)
    check(rc == 0 and "X-Spam-Status: No, score=0.0" in out and "X-Spam-Flag" not in out,
          "spamc (PROCESS) marks a ham")
    # spamc --headers sends HEADERS and pastes the original body back itself.
    rc, out = spamc(gf, ["--headers"], SPAM_MAIL)
    check(out.startswith("X-Spam-Checker-Version: greyflux") and out.endswith(GTUBE + "\r\n"),
          "spamc --headers")
    raw = exchange(gf.port, request("HEADERS", SPAM_MAIL))
    check(raw.endswith(b"\r\n\r\n") and GTUBE.encode() not in raw, "HEADERS returns only headers")
    rc, out = spamc(gf, ["-c"], SPAM_MAIL, unix=True)
    check(rc == 1, "spamc -U (unix socket) -c")
    rc, out = spamc(gf, ["-r"], HAM_MAIL)
    check(rc == 0 and out == "", "spamc -r (REPORT_IFSPAM) is silent for a ham")
    # Learning: -L spam|ham, -L forget (Remove: local).
    for i in range(12):
        rc, out = spamc(gf, ["-L", "spam"],
                        f"From: win{i}@prize.example\r\nSubject: claim your prize {i}\r\n\r\n"
                        f"Claim your casino bonus at http://casino-bonus.example/{i} now!\r\n")
        check(rc == 0 and "successfully" in out, f"spamc -L spam #{i} ({out.strip()})")
        rc, out = spamc(gf, ["-L", "ham"],
                        f"From: carol@example.org\r\nSubject: minutes {i}\r\n\r\n"
                        f"Minutes of the project meeting number {i}; see you next week.\r\n")
        check(rc == 0 and "successfully" in out, f"spamc -L ham #{i} ({out.strip()})")
    rc, out = spamc(gf, ["-L", "ham"], HAM_MAIL)
    rc, out = spamc(gf, ["-L", "ham"], HAM_MAIL)
    check(rc == 0 and "already" in out, f"spamc -L ham twice ({out.strip()})")
    rc, out = spamc(gf, ["-L", "forget"], HAM_MAIL)
    check(rc == 0 and "successfully" in out, f"spamc -L forget ({out.strip()})")
    rc, out = spamc(gf, ["-L", "forget"], HAM_MAIL)
    check(rc == 0 and "already" in out, f"spamc -L forget of an unknown message ({out.strip()})")
    rc, out = spamc(gf, ["-y"], "From: x@prize.example\r\nSubject: claim your prize\r\n\r\n"
                    "Claim your casino bonus at http://casino-bonus.example/zz now!\r\n")
    check("BAYES_" in out and "URI_LOCAL_SPAM" in out, f"learned model fires BAYES and URI ({out.strip()})")
    rc, out = spamc(gf, ["-c"], "From: carol@example.org\r\nSubject: minutes\r\n\r\n"
                    "Minutes of the project meeting; see you next week.\r\n")
    check(rc == 0, f"learned model keeps the ham a ham ({out.strip()})")


def zlib_tests(gf):
    p = subprocess.run(["spamc", "-z", "-c", "-d", "127.0.0.1", "-p", str(gf.port)],
                       input=SPAM_MAIL.encode(), capture_output=True)
    if b"not built with zlib" in p.stderr or p.returncode == 64:
        print("note: Debian's spamc is built without zlib; testing Compress: zlib with a raw client")
    else:
        check(p.returncode == 1, "spamc -z -c GTUBE -> spam")
    out = exchange(gf.port, request("CHECK", SPAM_MAIL, compress=True))
    check(out.startswith(b"SPAMD/1.1 0 EX_OK\r\nSpam: True ; 10") and out.endswith(b" / 5.0\r\n\r\n"),
          f"zlib CHECK ({out!r})")
    out = exchange(gf.port, request("SYMBOLS", HAM_MAIL, compress=True))
    check(out.startswith(b"SPAMD/1.1 0 EX_OK\r\nContent-length: ") and b"\r\nSpam: False" in out,
          f"zlib SYMBOLS ham ({out!r})")
    bomb = zlib.compress(b"a" * (64 << 20))
    out = exchange(gf.port, request("CHECK", b"", compress=False)[:0] +
                   b"CHECK SPAMC/1.5\r\nCompress: zlib\r\nContent-length: %d\r\n\r\n" % len(bomb) + bomb)
    check(out.startswith(b"SPAMD/1.0 65 "), f"zlib bomb -> EX_DATAERR ({out[:60]!r})")


def checkv2_tests(binary):
    """Rspamd's HTTP API on the [http] listener: POST /checkv2 and GET /ping."""
    import json
    import urllib.error
    import urllib.request
    gf = Greyflux(binary, http=True).start()
    try:
        base = f"http://127.0.0.1:{gf.http_port}"
        req = urllib.request.Request(base + "/checkv2", data=SPAM_MAIL.encode(), method="POST",
                                     headers={"From": "promo@lottery.example", "IP": "192.0.2.1"})
        reply = json.load(urllib.request.urlopen(req, timeout=10))
        check(reply["action"] == "reject" and reply["score"] >= 1000 and
              reply["required_score"] == 5.0 and "GTUBE" in reply["symbols"] and
              reply["symbols"]["GTUBE"]["score"] == 1000, f"checkv2 GTUBE -> reject ({reply['action']})")
        req = urllib.request.Request(base + "/checkv2", data=HAM_MAIL.encode(), method="POST")
        reply = json.load(urllib.request.urlopen(req, timeout=10))
        check(reply["action"] == "no action" and reply["score"] < 5 and
              reply["message-id"] == "lunch-1@example.org", f"checkv2 note -> no action ({reply})")
        pong = urllib.request.urlopen(base + "/ping", timeout=10).read()
        check(pong == b"pong\r\n", "GET /ping -> pong")
        try:
            urllib.request.urlopen(base + "/checkv2", timeout=10)
            check(False, "GET /checkv2 refused")
        except urllib.error.HTTPError as e:
            check(e.code == 405, f"GET /checkv2 -> {e.code}")
    finally:
        gf.cleanup()


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def bad_input_tests(gf):
    # No Content-length: the message ends with the half-close.
    out = exchange(gf.port, request("CHECK", SPAM_MAIL, content_length=False))
    check(out.startswith(b"SPAMD/1.1 0 EX_OK\r\nSpam: True"), "no Content-length, half-close")
    out = exchange(gf.port, b"CHECK SPAMC/1.5\r\nContent-length: 999\r\n\r\nshort")
    check(out.startswith(b"SPAMD/1.0 76 Bad header line: (Content-Length mismatch"), "short body")
    out = exchange(gf.port, b"CHECK SPAMC/1.5\r\nContent-length: 3\r\n\r\nabcdefgh")
    check(out.startswith(b"SPAMD/1.1 0 EX_OK"), "extra bytes after Content-length are ignored")
    out = exchange(gf.port, request("CHECK", b"From: a\0b\r\n\r\n\0\0\0body\0" + GTUBE.encode()))
    check(out.startswith(b"SPAMD/1.1 0 EX_OK\r\nSpam: True"), "NUL bytes")
    garbage = bytes((i * 7919 + 13) % 256 for i in range(200000))
    out = exchange(gf.port, request("PROCESS", garbage))
    check(out.startswith(b"SPAMD/1.1 0 EX_OK"), "binary garbage message")
    out = exchange(gf.port, garbage)
    check(out.startswith(b"SPAMD/1.0 76 "), "binary garbage request")
    # 100 MB message: refused from its Content-length, the reply survives the unread bytes.
    big = b"Subject: big\r\n\r\n" + b"x" * (100 << 20)
    t0 = time.time()
    out = exchange(gf.port, request("CHECK", big))
    check(out.startswith(b"SPAMD/1.0 65 "), f"100 MB message -> EX_DATAERR in {time.time()-t0:.1f}s")
    out = exchange(gf.port, b"CHECK SPAMC/1.5\r\n\r\n" + big)
    check(out.startswith(b"SPAMD/1.0 65 "), "100 MB without Content-length -> EX_DATAERR")
    # MIME bomb: 10,000 nested multiparts.
    bomb = "From: b@example.com\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n"
    bomb += "".join(f"--b{i}\r\nContent-Type: multipart/mixed; boundary=b{i+1}\r\n\r\n"
                    for i in range(10000))
    t0 = time.time()
    out = exchange(gf.port, request("SYMBOLS", bomb))
    check(b"MIME_BOMB" in out or b"MIME_MALFORMED" in out,
          f"MIME bomb -> degraded analysis in {time.time()-t0:.2f}s ({out[-40:]!r})")
    # Slow clients hold a connection each; others are still served.
    slow = []
    for _ in range(50):
        s = socket.create_connection(("127.0.0.1", gf.port))
        s.sendall(b"CHECK SPAMC/1.5\r\nContent-len")
        slow.append(s)
    rc, out = spamc(gf, ["-c"], SPAM_MAIL)
    # Served while they hang: the answer came before the server gave up on any slow client (no
    # latency asserted here; bench/latency_ratios.py measures it as a ratio).
    hanging = 0
    for s in slow:
        s.setblocking(False)
        try:
            hanging += s.recv(1) != b""
        except BlockingIOError:
            hanging += 1
        except ConnectionResetError:
            pass
        s.setblocking(True)
    check(rc == 1 and hanging == 50, f"served while 50 slow clients hang ({hanging} still open)")
    # Many clients at once.
    results = []

    def worker():
        for _ in range(20):
            results.append(exchange(gf.port, request("CHECK", HAM_MAIL)).startswith(b"SPAMD/1.1 0"))
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(all(results) and len(results) == 160, "160 parallel requests answered")
    for s in slow:
        s.close()
    rss = rss_kb(gf.proc.pid)
    check(rss < 400 * 1024, f"memory stays bounded (RSS {rss // 1024} MiB)")
    check(gf.proc.poll() is None, "daemon still running")


def budget_tests(binary):
    """Many large uploads at once hit spamd.max_buffered, not the machine's memory."""
    gf = Greyflux(binary, extra='max_buffered = "4MiB"').start()
    try:
        socks = []
        replies = []
        for _ in range(4):
            s = socket.create_connection(("127.0.0.1", gf.port))
            s.settimeout(10)
            s.sendall(b"CHECK SPAMC/1.5\r\nContent-length: 5000000\r\n\r\n")
            try:
                s.sendall(b"x" * 1500000)
            except OSError:
                pass
            socks.append(s)
        for s in socks:
            try:
                replies.append(s.recv(200))
            except (socket.timeout, OSError):
                replies.append(b"")
            s.close()
        busy = sum(1 for r in replies if r.startswith(b"SPAMD/1.0 75 "))
        check(busy >= 1, f"over max_buffered -> EX_TEMPFAIL ({busy} of 4 refused)")
        rc, out = spamc(gf, ["-c"], SPAM_MAIL)
        check(rc == 1, "served again once the uploads are gone")
    finally:
        gf.cleanup()



def main():
    binary = sys.argv[1]
    if shutil.which("spamc") is None:
        print("spamc not installed (bash scripts/deps.sh test)")
        return 77
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
    checkv2_tests(binary)
    budget_tests(binary)
    gf = Greyflux(binary, extra='timeout = "5s"\nmax_message = "10MiB"').start()
    try:
        spamc_tests(gf)
        zlib_tests(gf)
        bad_input_tests(gf)
        rc = gf.stop()
        check(rc == 0, f"SIGTERM exits 0 ({rc})")
        check(os.path.exists(gf.model), "model saved at shutdown")
        # The learned model comes back after a restart.
        gf.start()
        rc, out = spamc(gf, ["-y"], "From: x@prize.example\r\nSubject: claim your prize\r\n\r\n"
                        "Claim your casino bonus at http://casino-bonus.example/zz now!\r\n")
        check("BAYES_" in out, f"model reloaded after restart ({out.strip()})")
    finally:
        gf.cleanup()
    if FAILURES:
        print(f"{len(FAILURES)} failures")
        return 1
    print("all spamc checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
