#!/usr/bin/env python3
"""Protocol conformance: the same raw requests go to Debian's spamd (SpamAssassin 4.0, local
tests only) and to greyflux; the framing of the replies must match: status line, header names
and order, header value shapes, Content-length, and body shape (not the scores or rule names).

usage: conformance_test.py GREYFLUX_BINARY      (exit 77 = skipped: spamd not installed)
"""
import os
import re
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from spamdlib import GTUBE, HAM_MAIL, SPAM_MAIL, Greyflux, Spamd, exchange, request  # noqa: E402

SPAM_HEADER = re.compile(rb"^(True|False|Yes|No) ; -?\d+(\.\d+)? / \d+\.\d$")
SYMBOLS = re.compile(rb"^[A-Z0-9_]+(,[A-Z0-9_]+)*$")

CASES = [
    # name, request bytes, body kind
    ("CHECK spam", request("CHECK", SPAM_MAIL), "none"),
    ("CHECK ham", request("CHECK", HAM_MAIL), "none"),
    ("SYMBOLS spam", request("SYMBOLS", SPAM_MAIL), "symbols"),
    ("REPORT spam", request("REPORT", SPAM_MAIL), "text"),
    ("REPORT_IFSPAM spam", request("REPORT_IFSPAM", SPAM_MAIL), "text"),
    ("REPORT_IFSPAM ham", request("REPORT_IFSPAM", HAM_MAIL), "empty"),
    ("PROCESS spam", request("PROCESS", SPAM_MAIL), "process"),
    ("PROCESS ham", request("PROCESS", HAM_MAIL), "process"),
    ("HEADERS ham", request("HEADERS", HAM_MAIL), "headers"),
    ("CHECK without Content-length", request("CHECK", HAM_MAIL, content_length=False), "none"),
    ("CHECK zlib", request("CHECK", SPAM_MAIL, compress=True), "none"),
    ("PROCESS SPAMC/1.2", request("PROCESS", HAM_MAIL, version="1.2"), "process"),
    ("SYMBOLS SPAMC/1.2", request("SYMBOLS", SPAM_MAIL, version="1.2"), "symbols-crlf"),
    ("PROCESS SPAMC/1.0", request("PROCESS", HAM_MAIL, version="1.0"), "process"),
    ("CHECK SPAMC/1.0", request("CHECK", SPAM_MAIL, version="1.0"), "none"),
    ("PING SPAMC/1.5", request("PING"), "none"),
    ("PING SPAMC/1.2", request("PING", version="1.2"), "none"),
    ("SKIP", request("SKIP"), "none"),
    ("TELL set spam", request("TELL", SPAM_MAIL, ["Message-class: spam", "Set: local"]), "tell"),
    ("TELL remove", request("TELL", SPAM_MAIL, ["Remove: local"]), "tell"),
    ("TELL set ham", request("TELL", HAM_MAIL, ["Message-class: ham", "Set: local"]), "tell"),
    ("User header", request("CHECK", HAM_MAIL, ["User: alice"]), "none"),
    ("unknown header ignored", request("CHECK", HAM_MAIL, ["X-Whatever: 1"]), "none"),
    ("unknown method", b"FROB SPAMC/1.5\r\n\r\n", "none"),
    ("HTTP request", b"GET / HTTP/1.0\r\n\r\n", "none"),
    ("bad Content-length", b"CHECK SPAMC/1.5\r\nContent-length: 12x\r\n\r\n", "none"),
    ("header without colon", b"CHECK SPAMC/1.5\r\nfoo\r\n\r\n", "none"),
    ("short body", b"CHECK SPAMC/1.5\r\nContent-length: 100\r\n\r\nabc", "none"),
    ("zlib without Content-length",
     b"CHECK SPAMC/1.5\r\nCompress: zlib\r\n\r\n" + zlib.compress(b"x"), "none"),
    ("unsupported compression", b"CHECK SPAMC/1.5\r\nCompress: lzma\r\n\r\n", "none"),
    ("EOF in headers", b"CHECK SPAMC/1.5\r\nUser: x\r\n", "none"),
    ("empty connection", b"", "none"),
    ("too many headers", b"CHECK SPAMC/1.5\r\n" + b"X-A: 1\r\n" * 300 + b"\r\n", "none"),
    ("User with control chars", b"CHECK SPAMC/1.5\r\nUser: a\x01b\r\n\r\n", "none"),
]


def split_reply(raw):
    """status line, [(name, value)], body, or None when the reply has no header block."""
    if not raw:
        return b"", [], b""
    line, _, rest = raw.partition(b"\r\n")
    if not line.startswith(b"SPAMD/1.1") or b"\r\n\r\n" not in rest and rest:
        return line, [], rest
    headers = []
    while True:
        h, sep, rest = rest.partition(b"\r\n")
        if not sep or h == b"":
            break
        name, _, value = h.partition(b":")
        headers.append((name, value.strip()))
    return line, headers, rest


def shape(name, kind, raw, original):
    """A comparable description of a reply's framing, plus a list of problems."""
    problems = []
    status, headers, body = split_reply(raw)
    m = re.match(rb"^(SPAMD/\d\.\d) (\d+) (.*)$", status)
    if raw and not m:
        problems.append(f"bad status line {status!r}")
    code = m.group(2) if m else b""
    text = m.group(3) if m else b""
    # Error texts are compared up to the detail in parentheses.
    if code not in (b"0", b""):
        text = text.split(b"(")[0]
    names = [h[0] for h in headers]
    for hname, value in headers:
        if hname == b"Spam" and not SPAM_HEADER.match(value):
            problems.append(f"Spam header {value!r}")
        if hname == b"Content-length":
            if int(value) != len(body):
                problems.append(f"Content-length {value!r} but body has {len(body)} bytes")
    if kind == "symbols" and body and not SYMBOLS.match(body):
        problems.append(f"SYMBOLS body {body[:80]!r}")
    if kind == "symbols-crlf" and not (body.endswith(b"\r\n") and SYMBOLS.match(body[:-2])):
        problems.append(f"SYMBOLS 1.2 body {body[:80]!r}")
    if kind in ("process", "headers"):
        msg = body
        if status.startswith(b"SPAMD/1.0"):
            msg = raw.partition(b"\r\n")[2]
        hdr, _, mbody = msg.partition(b"\r\n\r\n")
        hnames = [ln.split(b":")[0] for ln in hdr.split(b"\r\n") if ln and ln[:1] not in b" \t"]
        for want in (b"X-Spam-Checker-Version", b"X-Spam-Level", b"X-Spam-Status"):
            if want not in hnames:
                problems.append(f"{want.decode()} missing")
        if not msg.startswith(b"X-Spam-Checker-Version: "):
            problems.append("markup is not at the top of the header")
        orig_body = original.partition(b"\r\n\r\n")[2]
        if kind == "process" and mbody != orig_body:
            problems.append("PROCESS body differs from the original body")
        if kind == "headers" and mbody != b"":
            problems.append("HEADERS returned a body")
        markup = sorted(h for h in hnames if h.startswith(b"X-Spam-") and h != b"X-Spam-Action")
        body_shape = ("message", tuple(markup))
    elif kind == "text":
        body_shape = ("text", bool(body))
    else:
        body_shape = ("bytes", bool(body))
    return (status[:9], code, text if code != b"0" else status, tuple(names), body_shape), problems


def verdict(raw):
    m = re.search(rb"\r\nSpam: (True|False|Yes|No) ", raw)
    return m.group(1) in (b"True", b"Yes") if m else None


def main():
    binary = sys.argv[1]
    if not Spamd.available():
        print("spamd not installed (bash scripts/deps.sh test): skipped")
        return 77
    sa = Spamd().start()
    gf = Greyflux(binary).start()
    failures = 0
    try:
        for name, req, kind in CASES:
            original = req.partition(b"\r\n\r\n")[2]
            if b"SPAMC/1.0" in req:
                original = req.partition(b"\r\n")[2]  # no header block in the old protocol
            a = exchange(sa.port, req)
            b = exchange(gf.port, req)
            sa_shape, sa_problems = shape(name, kind, a, original)
            gf_shape, gf_problems = shape(name, kind, b, original)
            same = sa_shape == gf_shape
            # Verdicts on GTUBE and the plain note must agree as well.
            if kind != "tell" and verdict(a) is not None and verdict(a) != verdict(b):
                same = False
                gf_problems.append(f"verdict {verdict(b)} vs spamd {verdict(a)}")
            ok = same and not gf_problems
            print(f"{'ok  ' if ok else 'FAIL'} {name}")
            if not ok:
                failures += 1
                print(f"     spamd:    {sa_shape} {sa_problems}\n       {a[:200]!r}")
                print(f"     greyflux: {gf_shape} {gf_problems}\n       {b[:200]!r}")
            elif sa_problems:
                # spamd's default report_safe 1 wraps a spam in a new message; greyflux keeps
                # the message and adds headers (report_safe 0), as docs/mail-scanner.md says.
                print(f"     (spamd itself: {sa_problems})")
    finally:
        gf.cleanup()
        sa.cleanup()
    print(f"{len(CASES) - failures}/{len(CASES)} requests framed as spamd frames them")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
