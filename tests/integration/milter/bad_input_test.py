#!/usr/bin/env python3
"""Bad input at greyflux's milter: a packet cut short by a close, a packet over milter.max_packet,
an unknown command, a command before negotiation, macros over the limit, a client that stalls
mid-packet. Each bad
connection is closed with one log line (the stalled one by milter.timeout, 'stalled inside a request'); a conversation
opened before them carries on afterwards, a new one is served, and what the good conversation
stored (its greylist triplet) is still in the store."""
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from milterlib import (Client, Greyflux, connect_cmd, negotiate, packet,  # noqa: E402
                       strings)


def expect(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok - " + what)


def good_start(port, ip):
    c = Client(port)
    c.send(negotiate())
    expect(c.reply()[0] == b"O", "negotiation answered")
    c.send(connect_cmd("good.test", ip))
    expect(c.reply()[0] == b"c", "connect answered continue")
    c.send(packet(b"M", strings("<a@sender.test>")))
    expect(c.reply()[0] == b"c", "MAIL answered continue")
    return c


def good_finish(c):
    c.send(packet(b"R", strings("<user@example.test>")))
    code, payload = c.reply()
    expect(code == b"y" and payload.startswith(b"451 4.7.1 "), "RCPT greylisted with 451 4.7.1")
    c.send(packet(b"R", strings("<user@example.org>")))
    expect(c.reply()[0] == b"c", "whitelisted RCPT accepted")
    c.send(packet(b"L", strings("Subject", "hello")) + packet(b"N") +
           packet(b"B", b"hello there\r\n") + packet(b"E"))
    replies = []
    while True:
        r = c.reply()
        if r is None:
            raise AssertionError("connection closed before the end-of-message reply")
        replies.append(r)
        if r[0] in (b"c", b"a", b"y", b"t", b"r"):
            break
    expect(replies[-1][0] == b"c", "message accepted")
    expect(any(code == b"h" and payload.startswith(b"X-Spam-Status\0") for code, payload in replies),
           "X-Spam-Status added")
    c.send(packet(b"Q"))
    expect(c.closed_by_peer(), "QUIT closes")


def bad(port, data, close_after_send):
    c = Client(port, timeout=15)
    if close_after_send:
        # Negotiate first and read the answer, so the server is reading (not writing) when the
        # client goes away in the middle of the next packet.
        c.send(negotiate())
        expect(c.reply()[0] == b"O", "negotiation answered before the cut")
        c.send(data)
        c.close()
        return True
    c.send(data)
    closed = c.closed_by_peer()
    c.close()
    return closed


def main():
    if len(sys.argv) != 2:
        print("usage: bad_input_test.py /path/to/greyflux")
        return 2
    gf = Greyflux(sys.argv[1], extra='timeout = "2s"', greylist='mode = "always"')
    wl = os.path.join(gf.tmp, "whitelist_recipients")
    with open(wl, "w") as f:
        f.write("example.org\n")
    with open(gf.config) as f:
        cfg = f.read().replace("whitelist_recipients = []", f'whitelist_recipients = ["{wl}"]')
    with open(gf.config, "w") as f:
        f.write(cfg)
    ok = False
    try:
        gf.start()
        # Opened before the bad ones, in the middle of a message; finished after them. It sends
        # something every second so that milter.timeout (2 s) does not close it.
        early = good_start(gf.port, "198.51.100.7")
        cases = [
            ("truncated packet, then close", struct.pack(">I", 100) + b"M<a@b",
             True, "connection ended inside a packet"),
            ("packet over milter.max_packet", negotiate() + struct.pack(">I", 2 * 1024 * 1024) +
             b"B" + b"x" * 1000, False, "exceeds the limit"),
            ("unknown command", negotiate() + packet(b"Z", b"??"), False,
             "unknown milter command 0x5a"),
            ("command before negotiation", packet(b"H", b"x\0"), False,
             "before option negotiation"),
            ("macros over the 64 KiB limit", negotiate() +
             packet(b"D", b"C" + strings("{huge}", "x" * 70000)), False, "macros exceed"),
        ]
        for name, data, close_after, _ in cases:
            expect(bad(gf.port, data, close_after), f"{name}: connection closed")
            # One line each: the warning log allows a line a second, so space the cases out.
            early.send(packet(b"D", b"M" + strings("i", "Q1")))  # a macro: keeps it alive
            time.sleep(1.1)
        for name, _, _, needle in cases:
            hits = gf.wait_log(needle)
            expect(len(hits) == 1, f"{name}: one log line ({hits})")
        # A client that sends half a packet and then nothing: closed by milter.timeout.
        stalled = Client(gf.port, timeout=0.25)
        stalled.send(negotiate() + struct.pack(">I", 50) + b"M")
        t0 = time.time()
        closed = False
        while not closed and time.time() - t0 < 10:
            early.send(packet(b"D", b"M" + strings("i", "Q1")))  # keeps the good one alive
            try:
                closed = stalled.sock.recv(65536) == b""
            except TimeoutError:
                pass
            except ConnectionResetError:
                closed = True
        expect(closed, "stalled mid-packet: closed")
        waited = time.time() - t0
        expect(1.5 < waited < 10, f"stalled client closed by the 2 s timeout after {waited:.1f} s")
        stalled.close()
        closing = gf.wait_log("milter: closing", count=6)
        expect(len(closing) == 6, f"exactly six 'milter: closing' lines, got {len(closing)}")
        expect(sum("stalled inside a request" in l for l in closing) == 1,
               "the stalled client's close is one of them")
        # The early conversation is served to its end; a new one too.
        good_finish(early)
        late = good_start(gf.port, "198.51.100.8")
        good_finish(late)
        listed = gf.admin_command("greylist list")
        expect("198.51.100.0/24" in listed or "198.51.100" in listed,
               "the greylist triplets of the good conversations are stored")
        expect(listed.count("user@example.test") >= 1, "triplet recipient stored")
        stats = gf.admin_command("stats")
        expect("milter.protocol_errors\t5" in stats, "five protocol errors counted")
        rc = gf.stop()
        expect(rc == 0, "greyflux exits 0 on SIGTERM")
        ok = True
        print("PASS: milter bad input")
        return 0
    except AssertionError as e:
        print(f"FAIL: {e}")
        print(gf.tail(30))
        return 1
    finally:
        gf.cleanup(keep=not ok)


if __name__ == "__main__":
    sys.exit(main())
