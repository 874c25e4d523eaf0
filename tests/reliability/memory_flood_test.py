"""A flood of distinct flux names, triplets and comment texts: the daemon's memory stays bounded.

One `greyflux serve` (LMDB store, comment API, flux detector on a dnstap socket) gets, one kind
after the other, --count distinct items (1,000,000 in `make test-long`):
  flux:     dnstap client responses for --count distinct names, one address each, with
            flux.max_names = --count / 2, so the tracker fills and evicts half-way;
  triplets: --count distinct policy requests (pipelined, 500 a write), each must be deferred;
  comments: --count distinct comment-check texts over keep-alive HTTP (pipelined), each answered.
The daemon's RSS (VmRSS, and its anonymous part RssAnon: LMDB's mapped file pages are
RssFile) is sampled every 0.2 s. For each kind: the anonymous growth must stay under the bound
its settings document (docs/reliability.md has the table and the formula), and, where the flood
is at least twice what the structure keeps, the second half of the flood may add at most 20% of
the growth of the first half plus 16 MiB (a bounded structure stops growing; a leak does not).

Usage: memory_flood_test.py GREYFLUX_BINARY [--count N]
Duration: on the loaded 2-core machine ~3,000 flux names, 6,000 triplets, 2,400 comments a
second (50,000 each: ~45 s; 400,000: ~6 min); 1,000,000 each took 296 s at load 14-17."""
import argparse
import os
import shutil
import signal
import socket
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "daemon"))
sys.path.insert(0, os.path.join(HERE, "..", "integration", "flux"))
from gfdaemon import Daemon, free_port, request  # noqa: E402
from quiet_serve_test import DnstapSender, dns_response, dnstap_frame  # noqa: E402

MIB = 1 << 20


def status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "RssAnon", "RssFile"):
                out[k] = int(v.split()[0]) * 1024
    return out


class Sampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.stop = pid, threading.Event()
        self.peak = {"VmRSS": 0, "RssAnon": 0, "RssFile": 0}
        self.last = status(pid)

    def run(self):
        while not self.stop.wait(0.2):
            try:
                self.last = status(self.pid)
            except FileNotFoundError:
                return  # the daemon has stopped
            for k, v in self.last.items():
                self.peak[k] = max(self.peak[k], v)

    def reset_peak(self):
        self.last = status(self.pid)
        self.peak = dict(self.last)


def flood_flux(d, count, sock_path):
    tap = DnstapSender(sock_path)
    tap.s.settimeout(120)  # the tracker evicts its stalest eighth when full: a pause, not a stall
    batch, now = [], time.time()
    for i in range(count):
        a, b = (i >> 8) & 0xFF, i & 0xFF
        frame = dnstap_frame(dns_response(i & 0xFFFF, f"n{i}.flood{i % 97}.test",
                                          [f"10.{(i >> 16) & 0xFF}.{a}.{b}"], 300), now)
        batch.append(len(frame).to_bytes(4, "big") + frame)
        if len(batch) == 2000:
            tap.s.sendall(b"".join(batch))
            batch = []
            yield i + 1
    tap.s.sendall(b"".join(batch))
    tap.close()
    yield count


def flood_triplets(d, count):
    with socket.create_connection(("127.0.0.1", d.port), timeout=30) as s:
        buf, sent = b"", 0
        while sent < count:
            n = min(500, count - sent)
            s.sendall(b"".join(request(recipient=f"flood{sent + j}@example.org",
                                       client_address=f"10.{(sent + j) >> 16 & 255}."
                                       f"{(sent + j) >> 8 & 255}.{(sent + j) & 255}")
                               for j in range(n)))
            got = 0
            while got < n:
                chunk = s.recv(1 << 20)
                assert chunk, "policy connection closed"
                buf += chunk
                replies = buf.split(b"\n\n")
                buf = replies.pop()
                for r in replies:
                    assert r.startswith(b"action=DEFER"), r
                got += len(replies)
            sent += n
            yield sent


def http_batch(s, key, start, n):
    out = []
    for j in range(start, start + n):
        body = urllib.parse.urlencode({
            "api_key": key, "blog": "https://blog.example", "user_ip": "192.0.2.7",
            "comment_type": "comment", "comment_author": f"a{j}",
            "comment_content": f"distinct comment text number {j} about topic {j * 7919 % 100003}"})
        out.append(f"POST /1.1/comment-check HTTP/1.1\r\nHost: blog.example\r\nContent-Type: "
                   f"application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n"
                   f"{body}".encode())
    s.sendall(b"".join(out))


def read_responses(s, buf, n):
    got = 0
    while got < n:
        head_end = buf.find(b"\r\n\r\n")
        if head_end < 0:
            chunk = s.recv(1 << 20)
            assert chunk, "HTTP connection closed"
            buf += chunk
            continue
        head = buf[:head_end].decode()
        assert head.startswith("HTTP/1.1 200"), head
        length = int([h.split(":", 1)[1] for h in head.split("\r\n")
                      if h.lower().startswith("content-length:")][0])
        while len(buf) < head_end + 4 + length:
            chunk = s.recv(1 << 20)
            assert chunk, "HTTP connection closed"
            buf += chunk
        body = buf[head_end + 4:head_end + 4 + length]
        assert body in (b"true", b"false"), body
        buf = buf[head_end + 4 + length:]
        got += 1
    return buf


def flood_comments(d, count, http_port, key):
    with socket.create_connection(("127.0.0.1", http_port), timeout=30) as s:
        sent, buf = 0, b""
        while sent < count:
            n = min(200, count - sent)
            http_batch(s, key, sent, n)
            buf = read_responses(s, buf, n)
            sent += n
            yield sent


def run_flood(name, gen, sampler, count, bound, plateau):
    """Runs one flood; returns (growth, peak growth, second-half growth) of RssAnon."""
    sampler.reset_peak()
    base = sampler.last["RssAnon"]
    half_anon = None
    t0 = time.time()
    for done in gen:
        if half_anon is None and done >= count // 2:
            half_anon = status(sampler.pid)["RssAnon"]
    time.sleep(1.0)  # the last batch is ingested and committed
    end = status(sampler.pid)
    peak = max(sampler.peak["RssAnon"], end["RssAnon"])
    grow, second = peak - base, end["RssAnon"] - (half_anon or base)
    first = (half_anon or base) - base
    ok = grow <= bound and (not plateau or second <= 0.2 * first + 16 * MIB)
    print(f"{name:8s}: {count:,} distinct in {time.time() - t0:5.1f} s; RssAnon {base / MIB:6.1f} "
          f"-> peak {peak / MIB:6.1f} MiB (growth {grow / MIB:6.1f}, bound {bound / MIB:6.0f}); "
          f"second half +{second / MIB:5.1f} MiB vs first {first / MIB:5.1f}"
          f"{' (plateau checked)' if plateau else ''}; VmRSS peak "
          f"{sampler.peak['VmRSS'] / MIB:6.1f}, RssFile {end['RssFile'] / MIB:6.1f} MiB"
          f"{'' if ok else '  FAIL'}", flush=True)
    return ok


def main():
    p = argparse.ArgumentParser()
    p.add_argument("binary")
    p.add_argument("--count", type=int, default=100000)
    args = p.parse_args()
    n = args.count
    max_names = max(1000, n // 2)
    http_port = free_port()
    d = Daemon(args.binary, sets=["greylist.delay=1h", "log.level=warn",
                                  f'http.listen=["127.0.0.1:{http_port}"]',
                                  f"flux.max_names={max_names}"])
    sock_path = os.path.join(d.tmp, "dnstap.sock")
    with open(d.config, "a") as f:
        f.write(f'[flux]\nallowlist = ""\ndnstap_socket = "{sock_path}"\n')
    try:
        d.start()
        deadline = time.time() + 10
        while not os.path.exists(sock_path) and time.time() < deadline:
            time.sleep(0.05)
        key = d.cli("keys", "add", "--blog", "https://blog.example").stdout.strip()
        assert key, "no API key"
        sampler = Sampler(d.proc.pid)
        sampler.start()
        # Documented bounds (docs/reliability.md): flux per tracked name with one address
        # ~250 B of state + its name twice + 2 x 48 B for the address (measured 471 B in all);
        # triplets: the pending writes of a commit interval, and the heap pages LMDB keeps from
        # its largest write transaction (about 4 KiB a write of the longest commit round;
        # docs/reliability.md); comments: the flood tracker (akismet.flood_texts = 200,000
        # texts, ~80 B each) and the bounded token-name map, plus the same LMDB pages.
        flux_bound = max_names * (250 + 2 * 24 + 96) + 64 * MIB
        results = [
            run_flood("flux", flood_flux(d, n, sock_path), sampler, n, flux_bound, plateau=True),
            run_flood("triplets", flood_triplets(d, n), sampler, n, 64 * MIB, plateau=True),
            run_flood("comments", flood_comments(d, n, http_port, key), sampler, n,
                      96 * MIB, plateau=n >= 800000),
        ]
        stats = d.stats()
        sampler.stop.set()
        print(f"daemon peak VmRSS {sampler.peak['VmRSS'] / MIB:.1f} MiB; store.entries "
              f"{stats.get('store.entries')}, requests {stats.get('requests')}")
        assert all(results), "a flood grew memory past its bound"
        assert d.stop() == 0
    except BaseException:
        print("daemon:", "exited " + str(d.proc.returncode) if d.proc and d.proc.poll() is not None
              else "running", *d.log_text().splitlines()[-8:], sep="\n  ")
        raise
    finally:
        d.stop(signal.SIGKILL)
        shutil.rmtree(d.tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
