#!/usr/bin/env python3
"""Open-loop load on one greyflux front door, for the soak (bench/soak/soak.py).

One process per door, so the doors do not share a GIL. Requests are scheduled at fixed
intervals (t0 + k / rate) whatever the server does; C connections (workers) take the scheduled
times from one queue, and a request's latency runs from its *scheduled* time to its reply, so a
stall that delays later sends is counted in their latency (no coordinated omission). When all
connections are busy the schedule keeps running and the queue grows.

Every WINDOW seconds (aligned to t0) it prints one JSON line on stdout: the window index, the
requests completed in it, its errors (failed or timed out; the last window also counts the
requests in flight when the time was up, and `unsent`: those still queued, never sent), p50/p99/max latency in ms, the queue backlog, and client_lag_ms: the most this process
itself was late putting a due request in the queue (its own starvation on a loaded machine, a
part of every latency, not the server's). The first
few errors are described on stderr.

Doors and what one request is:
  policy    a Postfix RCPT-stage policy request on a persistent connection; triplets come from a
            bounded pool, so the first pass is deferred and later passes are retries (passed)
  comments  an Akismet comment-check (keep-alive HTTP/1.1) with varied text, IPs and authors
  admin     an admin-API GET as the dashboard makes it (status, stats/series, history,
            greylist, flux), bearer token, keep-alive
  spamd     a spamc-style CHECK, one connection per request (as spamc does)
  milter    one message as Postfix sends it (MAIL, RCPT, DATA, headers, body, end of message),
            ten messages per milter connection; the first one's latency includes negotiation;
            a verdict before the end of the message (greylisted at RCPT) aborts it
  flux      one dnstap CLIENT_RESPONSE frame on a Frame Streams unix socket (one-way: latency
            is the time until the frame is written, which grows when the daemon stops reading);
            in open loop the frames due at once go out in one write (up to 256)

Usage: doors.py DOOR --spec JSON --rate R --seconds S [--t0 EPOCH] [--connections C] [--window W]
       (without --t0 it prints {"ready": true} and reads the start time, an epoch, from stdin)
       doors.py DOOR --spec JSON --closed C --seconds S   (closed loop: prints {"rate": ...})
SPEC holds the ports, key, token, dnstap path and mail files (soak.py writes it).
"""
import argparse
import asyncio
import json
import os
import struct
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration", "flux"))
from quiet_serve_test import CONTENT_TYPE, dns_response, dnstap_frame  # noqa: E402

TIMEOUT_S = 10.0
POLICY_POOL = 50000
FLUX_NAMES = 2000


class DoorError(Exception):
    pass


# ---- one request per door ------------------------------------------------------------------

class Policy:
    def __init__(self, spec):
        self.port = spec["policy_port"]
        self.r = self.w = None

    async def request(self, k):
        if self.w is None:
            self.r, self.w = await asyncio.open_connection("127.0.0.1", self.port)
        i = k % POLICY_POOL
        req = (f"request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
               f"client_address=10.{i >> 12 & 255}.{i >> 4 & 255}.{i & 15}\n"
               f"client_name=mx{i}.soak.example\nhelo_name=mx{i}.soak.example\n"
               f"sender=s{i}@sender{i % 997}.example\nrecipient=r{i % 50}@example.org\n"
               f"instance=soak{k}\n\n").encode()
        self.w.write(req)
        reply = await self.r.readuntil(b"\n\n")
        if not reply.startswith(b"action="):
            raise DoorError(f"policy reply {reply[:80]!r}")

    def close(self):
        if self.w is not None:
            self.w.close()
        self.r = self.w = None


class Http:
    """Keep-alive HTTP/1.1 with Content-Length or chunked replies."""

    def __init__(self, spec):
        self.port = spec["http_port"]
        self.r = self.w = None

    async def exchange(self, raw):
        if self.w is None:
            self.r, self.w = await asyncio.open_connection("127.0.0.1", self.port)
        self.w.write(raw)
        head = await self.r.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        hdr = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:] if l)}
        if "content-length" in hdr:
            body = await self.r.readexactly(int(hdr["content-length"]))
        elif hdr.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                n = int((await self.r.readuntil(b"\r\n")).split(b";")[0], 16)
                body += await self.r.readexactly(n + 2)
                if n == 0:
                    break
        else:
            raise DoorError(f"HTTP reply without length: {lines[0]}")
        if hdr.get("connection", "").lower() == "close":
            self.close()
        return status, body

    def close(self):
        if self.w is not None:
            self.w.close()
        self.r = self.w = None


class Comments(Http):
    def __init__(self, spec):
        super().__init__(spec)
        self.key, self.blog = spec["key"], spec["blog"]

    async def request(self, k):
        body = urllib.parse.urlencode({
            "api_key": self.key, "blog": self.blog, "user_ip": f"198.51.100.{k % 200 + 1}",
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0",
            "permalink": f"{self.blog}/2026/post-{k % 40}", "comment_type": "comment",
            "comment_author": f"Reader {k % 300}", "comment_author_email": f"r{k % 300}@mail.test",
            "comment_content": (f"Comment {k % 5000}: thanks for the post on topic {k * 7919 % 997},"
                                " the second part about bread was the most useful one for me."
                                if k % 10 else
                                f"cheap pills viagra discount http://pills{k % 50}.example/ buy")})
        raw = (f"POST /1.1/comment-check HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
               f"application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n{body}")
        status, reply = await self.exchange(raw.encode())
        if status != 200 or reply not in (b"true", b"false"):
            raise DoorError(f"comment-check {status} {reply[:80]!r}")


ADMIN_PATHS = ["status", "stats/series?range=hour", "history?limit=50", "greylist?limit=50",
               "flux?limit=200", "status", "whitelist"]


class Admin(Http):
    def __init__(self, spec):
        super().__init__(spec)
        self.token = spec["token"]

    async def request(self, k):
        path = ADMIN_PATHS[k % len(ADMIN_PATHS)]
        raw = (f"GET /api/v1/{path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               f"Authorization: Bearer {self.token}\r\n\r\n")
        status, reply = await self.exchange(raw.encode())
        if status != 200:
            raise DoorError(f"GET {path}: {status} {reply[:80]!r}")


def spamd_request(message):
    return b"CHECK SPAMC/1.5\r\nContent-length: %d\r\n\r\n" % len(message) + message


class Spamd:
    def __init__(self, spec):
        self.port = spec["spamd_port"]
        self.mails = [open(p, "rb").read() for p in spec["mails"]]

    async def request(self, k):
        r, w = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            w.write(spamd_request(self.mails[k % len(self.mails)]))
            w.write_eof()
            reply = await r.read()
        finally:
            w.close()
        first = reply.split(b"\r\n", 1)[0]
        if not first.startswith(b"SPAMD/1.") or b" 0 EX_OK" not in first:
            raise DoorError(f"spamd reply {reply[:80]!r}")

    def close(self):
        pass


def mpacket(cmd, payload=b""):
    return struct.pack(">I", len(payload) + 1) + cmd + payload


def mstrings(*args):
    return b"".join(a.encode() + b"\0" for a in args)


# command byte -> (skip flag, no-reply flag) in the negotiated steps (SMFIP_*)
MILTER_STEPS = {b"C": (0x1, 0x1000), b"H": (0x2, 0x2000), b"M": (0x4, 0x4000),
                b"R": (0x8, 0x8000), b"T": (0x200, 0x10000), b"L": (0x20, 0x80),
                b"N": (0x40, 0x40000), b"B": (0x10, 0x80000)}
MILTER_PER_CONNECTION = 10


class Milter:
    def __init__(self, spec):
        self.port = spec["milter_port"]
        self.mails = []
        for p in spec["mails"]:
            head, _, body = open(p, "rb").read().partition(b"\r\n\r\n")
            hdrs = [l.decode().split(":", 1) for l in head.split(b"\r\n") if b":" in l]
            self.mails.append(([(n, v.strip()) for n, v in hdrs], body))
        self.r = self.w = None
        self.steps, self.used, self.buf = 0, 0, b""

    async def reply(self):
        n = struct.unpack(">I", await self.r.readexactly(4))[0]
        p = await self.r.readexactly(n)
        return p[:1], p[1:]

    async def step(self, cmd, payload=b""):
        """Sends one command if not skipped; returns the verdict byte, or b"c" for continue."""
        skip, noreply = MILTER_STEPS.get(cmd, (0, 0))
        if self.steps & skip:
            return b"c"
        self.w.write(mpacket(cmd, payload))
        if cmd == b"E":
            while True:  # modifications and progress, then the final verdict
                code, _ = await self.reply()
                if code in (b"a", b"c", b"r", b"t", b"d", b"y"):
                    return code
                if code not in (b"+", b"m", b"h", b"b", b"p", b"i", b"e", b"-", b"2", b"f",
                                b"q", b"l"):
                    raise DoorError(f"milter eom reply {code!r}")
        if self.steps & noreply:
            return b"c"
        code, _ = await self.reply()
        return code

    async def open(self):
        self.r, self.w = await asyncio.open_connection("127.0.0.1", self.port)
        self.w.write(mpacket(b"O", struct.pack(">III", 6, 0x1FF, 0x1FFFFF)))
        code, payload = await self.reply()
        if code != b"O":
            raise DoorError(f"milter negotiation reply {code!r}")
        self.steps = struct.unpack(">III", payload[:12])[2]
        self.used = 0
        self.w.write(mpacket(b"D", b"C" + mstrings("j", "mx.soak.test", "{daemon_name}", "soak")))
        for cmd, payload in ((b"C", mstrings("client.soak.test") + b"4" +
                              struct.pack(">H", 25) + b"192.0.2.9\0"),
                             (b"H", mstrings("client.soak.test"))):
            if await self.step(cmd, payload) != b"c":
                raise DoorError(f"milter verdict at {cmd!r}")

    async def request(self, k):
        if self.w is None or self.used >= MILTER_PER_CONNECTION:
            self.close()
            await self.open()
        self.used += 1
        headers, body = self.mails[k % len(self.mails)]
        qid = f"S{k}"
        self.w.write(mpacket(b"D", b"M" + mstrings("i", qid)))
        # 500 envelopes (sender x recipient) in turn: the first pass is greylisted at RCPT, later
        # passes (after greylist.delay) go on to DATA and are scanned.
        for cmd, payload in ((b"M", mstrings(f"<m{k % 500}@sender{k % 50}.test>")),
                             (b"R", mstrings(f"<user{k % 10}@example.test>")),
                             (b"T", b""),
                             *((b"L", mstrings(n, v)) for n, v in headers),
                             (b"N", b""), (b"B", body), (b"E", b"")):
            verdict = await self.step(cmd, payload)
            if cmd == b"E":
                return
            if verdict != b"c":
                self.w.write(mpacket(b"A"))  # a verdict before the end: Postfix aborts
                return

    def close(self):
        if self.w is not None:
            try:
                self.w.write(mpacket(b"Q"))
            except Exception:  # noqa: BLE001 -- the connection may already be gone
                pass
            self.w.close()
        self.r = self.w = None


class Flux:
    def __init__(self, spec):
        self.path = spec["dnstap"]
        self.r = self.w = None

    async def control(self, ctype, content=None):
        body = struct.pack(">I", ctype)
        if content is not None:
            body += struct.pack(">II", 1, len(content)) + content
        self.w.write(struct.pack(">II", 0, len(body)) + body)

    async def connect(self):
        if self.w is None:
            self.r, self.w = await asyncio.open_unix_connection(self.path)
            await self.control(4, CONTENT_TYPE)  # READY
            _, n = struct.unpack(">II", await self.r.readexactly(8))
            if struct.unpack(">I", (await self.r.readexactly(n))[:4])[0] != 1:
                raise DoorError("no Frame Streams ACCEPT")
            await self.control(2, CONTENT_TYPE)  # START

    async def request(self, k):
        await self.connect()
        self.w.write(self.frame(k))
        await self.w.drain()

    async def request_batch(self, ks):
        """Every frame due at once in one write, as a resolver's buffered dnstap output does:
        one request at a time cost this client more CPU than the daemon spent on the frames,
        and on a loaded machine the client, not the daemon, fell behind."""
        await self.connect()
        self.w.write(b"".join(self.frame(k) for k in ks))
        await self.w.drain()

    @staticmethod
    def frame(k):
        n = k % FLUX_NAMES
        if n % 20 == 0:  # a fast-flux-like name: addresses churn across networks, short TTL
            addrs = [f"10.{(k >> 8) % 250 + 1}.{k % 250}.{j + 1}" for j in range(4)]
            ttl = 60
        else:
            addrs = [f"192.0.{n % 200}.{n % 250 + 1}"]
            ttl = 3600
        frame = dnstap_frame(dns_response(k & 0xFFFF, f"host{n}.site{n % 300}.test", addrs, ttl),
                             time.time())
        return struct.pack(">I", len(frame)) + frame

    def close(self):
        if self.w is not None:
            self.w.close()
        self.r = self.w = None


DOORS = {"policy": Policy, "comments": Comments, "admin": Admin, "spamd": Spamd,
         "milter": Milter, "flux": Flux}


# ---- the schedule, the workers and the windows ---------------------------------------------

class Stats:
    def __init__(self):
        self.lat_ms, self.errors, self.err_shown = [], 0, 0
        self.client_lag_ms = 0.0  # how late this process itself put a due request in the queue

    def error(self, door, e):
        self.errors += 1
        if self.err_shown < 5:
            self.err_shown += 1
            print(f"doors.py {door}: {type(e).__name__}: {e}", file=sys.stderr, flush=True)


def pct(xs, q):
    if not xs:
        return None
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(q * len(xs)))], 2)


BATCH_MAX = 256  # requests a batching door (flux) takes from the queue at once


async def worker(door, client, queue, stats, loop):
    """Serves queued requests one at a time, or, for a door with request_batch (one-way flux
    frames), every request already due at once; each one's latency runs from its own
    scheduled time."""
    batch = getattr(client, "request_batch", None)
    while True:
        k, t_sched = await queue.get()
        if k is None:
            return
        items, stop = [(k, t_sched)], False
        while batch is not None and len(items) < BATCH_MAX and not queue.empty():
            item = queue.get_nowait()
            if item[0] is None:
                stop = True
                break
            items.append(item)
        try:
            if batch is not None:
                await asyncio.wait_for(batch([i for i, _ in items]), TIMEOUT_S)
            else:
                await asyncio.wait_for(client.request(k), TIMEOUT_S)
            now = loop.time()
            stats.lat_ms.extend((now - t) * 1000 for _, t in items)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, DoorError,
                ValueError, IndexError) as e:
            for _ in items:
                stats.error(door, e)
            client.close()
        if stop:
            return


async def open_loop(a, spec):
    loop = asyncio.get_running_loop()
    t0 = loop.time() + (a.t0 - time.time())
    end = t0 + a.seconds
    queue, stats = asyncio.Queue(), Stats()
    clients = [DOORS[a.door](spec) for _ in range(a.connections)]
    workers = [asyncio.create_task(worker(a.door, c, queue, stats, loop)) for c in clients]

    async def scheduler():
        k = 0
        while True:
            now = loop.time()
            if now >= end:
                return k
            due = min(int((now - t0) * a.rate) + 1, int(a.seconds * a.rate))
            if k < due:
                stats.client_lag_ms = max(stats.client_lag_ms, (now - (t0 + k / a.rate)) * 1000)
            while k < due:
                queue.put_nowait((k, t0 + k / a.rate))
                k += 1
            await asyncio.sleep(0.002)

    sched = asyncio.create_task(scheduler())
    w = 0
    while True:
        w_end = t0 + (w + 1) * a.window
        await asyncio.sleep(max(0.0, w_end - loop.time()))
        lat, stats.lat_ms = stats.lat_ms, []
        errors, stats.errors = stats.errors, 0
        lag, stats.client_lag_ms = stats.client_lag_ms, 0.0
        last = w_end >= end - 1e-6
        if last:
            sent = await sched
            for _ in workers:
                queue.put_nowait((None, None))
            done, pending = await asyncio.wait(workers, timeout=TIMEOUT_S + 2)
            for t in pending:
                t.cancel()
            lat += stats.lat_ms
            errors += stats.errors + len(pending)  # in flight when the time was up: failed
            unsent = queue.qsize() - len(workers)  # still queued (the stop markers aside)
        else:
            unsent = 0
        print(json.dumps({"door": a.door, "window": w, "done": len(lat), "errors": errors,
                          "unsent": max(0, unsent),
                          "p50_ms": pct(lat, 0.5), "p99_ms": pct(lat, 0.99),
                          "max_ms": pct(lat, 1.0), "backlog": queue.qsize(),
                          "client_lag_ms": round(lag, 1)}), flush=True)
        w += 1
        if last:
            print(json.dumps({"door": a.door, "scheduled": sent}), flush=True)
            for c in clients:
                c.close()
            return


async def closed_loop(a, spec):
    loop = asyncio.get_running_loop()
    clients = [DOORS[a.door](spec) for _ in range(a.closed)]
    stats, counter, end = Stats(), [0], loop.time() + a.seconds

    async def run(c):
        while loop.time() < end:
            k = counter[0]
            counter[0] += 1
            t = loop.time()
            try:
                await asyncio.wait_for(c.request(k), TIMEOUT_S)
                stats.lat_ms.append((loop.time() - t) * 1000)
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, DoorError) as e:
                stats.error(a.door, e)
                c.close()

    start = loop.time()
    await asyncio.gather(*(run(c) for c in clients))
    took = loop.time() - start
    print(json.dumps({"door": a.door, "rate": round(len(stats.lat_ms) / took, 1),
                      "errors": stats.errors, "p99_ms": pct(stats.lat_ms, 0.99)}), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("door", choices=sorted(DOORS))
    ap.add_argument("--spec", required=True)
    ap.add_argument("--rate", type=float, default=0)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--t0", type=float, default=0)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--window", type=float, default=10)
    ap.add_argument("--closed", type=int, default=0)
    a = ap.parse_args()
    with open(a.spec) as f:
        spec = json.load(f)
    if a.closed:
        asyncio.run(closed_loop(a, spec))
    elif a.rate > 0:
        if not a.t0:  # --t0 0: say ready, then read the common start time from stdin
            print(json.dumps({"door": a.door, "ready": True}), flush=True)
            a.t0 = float(sys.stdin.readline())
        asyncio.run(open_loop(a, spec))
    else:
        ap.error("give --rate R (open loop) or --closed C")
    return 0


if __name__ == "__main__":
    sys.exit(main())
