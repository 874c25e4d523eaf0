#!/usr/bin/env python3
"""Writes whole milter conversations (as Postfix speaks them) as seeds for fuzz_milter_filter:
two knob bytes (config, chunk size), then option negotiation, connect, HELO, MAIL, RCPTs with
macros, DATA, headers, body, end of message, in several variants (IPv4/IPv6/unix, a flux agent,
several messages and aborts, a failing store, over-reject modes). Each file is named seed-*.

    python3 fuzz/seeds/milter_conversations.py fuzz/corpus/fuzz_milter_filter
"""
import struct
import sys
from pathlib import Path


def pkt(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd + data


def z(*parts):
    return b"".join(p + b"\0" for p in parts)


def optneg(actions=0x1FF, protocol=0x1FFFFF):
    return pkt(b"O", struct.pack(">III", 6, actions, protocol))


def connect(host, family, port, addr):
    if family == b"U":
        return pkt(b"C", z(host) + b"U")
    return pkt(b"C", z(host) + family + struct.pack(">H", port) + z(addr))


def macros(for_cmd, **kv):
    return pkt(b"D", for_cmd + b"".join(z(k.encode(), v.encode()) for k, v in kv.items()))


def message(sender, rcpts, headers, body, queue_id="4AbCdE"):
    out = macros(b"M", **{"i": queue_id, "{mail_addr}": sender})
    out += pkt(b"M", z(f"<{sender}>".encode(), b"SIZE=1234", b"BODY=8BITMIME"))
    for r in rcpts:
        out += macros(b"R", **{"{rcpt_addr}": r})
        out += pkt(b"R", z(f"<{r}>".encode()))
    out += pkt(b"T")
    for k, v in headers:
        out += pkt(b"L", z(k.encode(), v.encode()))
    out += pkt(b"N")
    for i in range(0, len(body), 64):
        out += pkt(b"B", body[i:i + 64])
    out += macros(b"E", i=queue_id)
    out += pkt(b"E")
    return out


HEADERS = [("From", "Alice <alice@sender.example>"), ("To", "carol@example.org"),
           ("Subject", "=?utf-8?B?aGVsbG8=?="), ("Message-ID", "<1@sender.example>"),
           ("MIME-Version", "1.0"), ("Content-Type", "text/plain; charset=utf-8")]
SPAM_BODY = (b"Buy now!!! http://bit.ly/x http://spam.example/win\r\n" * 6)
HAM_BODY = b"Hello Carol,\r\n\r\nsee you at the meeting.\r\n"


def conversation(host, family, addr, msgs, tail=b"Q"):
    out = optneg()
    out += macros(b"C", j="mx.example.org", **{"{daemon_name}": "smtpd", "_": host})
    out += connect(host.encode(), family, 25, addr.encode())
    out += macros(b"H", **{"{tls_version}": "TLSv1.3"})
    out += pkt(b"H", z(b"mail.sender.example"))
    for m in msgs:
        out += m
    return out + pkt(tail)


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    ham = message("alice@sender.example", ["carol@example.org"], HEADERS, HAM_BODY)
    spam = message("bob@other.example", ["carol@example.org", "dave@example.net"],
                   HEADERS + [("X-Mailer", "Bulk 1.0")], SPAM_BODY, "5XyZ")
    aborted = (macros(b"M", i="6Q") + pkt(b"M", z(b"<x@y.example>")) +
               pkt(b"R", z(b"<carol@example.org>")) + pkt(b"A"))
    many = message("a@b.example", [f"r{i}@example.org" for i in range(12)], HEADERS, HAM_BODY)
    variants = {
        "v4-ham": (0x00, 0, conversation("mail.sender.example", b"4", "192.0.2.1", [ham])),
        "v4-spam-reject": (0x08, 3, conversation("x.example", b"4", "198.51.100.7", [spam])),
        "v6-two-messages": (0x11, 1, conversation("h6", b"6", "2001:db8::1", [ham, spam])),
        "unix-abort": (0x02, 0, conversation("localhost", b"L", "/run/x.sock", [aborted, ham])),
        "unknown-family": (0x01, 2, conversation("unknown", b"U", "", [spam], b"K")),
        "flux-agent": (0x00, 0, conversation("fast.example", b"4", "203.0.113.66", [ham])),
        "store-fails": (0x44, 0, conversation("m.example", b"4", "192.0.2.9", [ham, ham])),
        "scanner-down": (0x80, 5, conversation("m.example", b"4", "192.0.2.10", [spam])),
        "small-scan": (0x22, 0, conversation("m.example", b"4", "192.0.2.11", [spam])),
        "quarantine": (0x10, 0, conversation("m.example", b"4", "192.0.2.12", [spam, spam])),
        "too-many-rcpts": (0x00, 0, conversation("m.example", b"4", "192.0.2.13", [many])),
    }
    for name, (knobs, chunk, body) in variants.items():
        (out / f"seed-{name}").write_bytes(bytes([knobs, chunk]) + body)


if __name__ == "__main__":
    main()
