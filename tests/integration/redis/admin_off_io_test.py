"""No blocking store call on an io thread: with greyflux on backend "redis" and ONE io thread
(policy.threads = 1, so the policy, comment API and admin API connections all share it), the
admin REST API's requests, which make blocking Redis calls (the token gate, greylist listings of
many round trips, whitelist changes, /api/v1/status's probe), run on the blocking pool, so that:
  1. Redis slow (a proxy holds every reply 15 ms): while 6 clients keep the admin API busy
     (each greylist search reads every greylist key: a dozen round trips, so the admin
     requests together hold the store for far longer than 100 ms), every policy request and
     every comment-check on the same daemon is answered within 100 ms, and the admin requests
     succeed (200; at least 90% of them: one whose round trip passes store.redis_timeout on the
     loaded machine is a 503 JSON {"error": "store"}, never a hang);
  2. Redis hung (SIGSTOP): 8 admin requests at once each end with a 503 JSON
     {"error": "store", "message": ...} within 2 s, while the policy requests keep being
     answered within 100 ms (DUNNO, fail-open);
  3. Redis back (SIGCONT): the admin API answers 200 again by itself, listing every triplet.
Usage: admin_off_io_test.py /path/to/greyflux"""
import http.client
import json
import signal
import socket
import sys
import threading
import time

from redis_helpers import ClientThreads, RedisServer, check, use_redis
from redis_proxy import ProxyProcess
from gfakismet import AkismetDaemon, COMMENT
from gfdaemon import Conn

LIMIT_S = 0.100
DELAY_S = 0.015
TRIPLETS = 1500
ADMIN_CLIENTS = 6
ADMIN_SECONDS = 3.0
HUNG_REQUESTS = 8
HUNG_BOUND_S = 2.0
# A search that reads every greylist entry (the filter matches none): many round trips, a small
# answer (so that the test's own JSON parsing does not slow its timing threads).
SEARCH = "/api/v1/greylist?sender=nobody@nowhere.example&limit=10000"


def api(port, token, method, path, body=None, timeout=20):
    """(status, parsed JSON body, seconds)."""
    t0 = time.monotonic()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    hdrs = {"Authorization": "Bearer " + token}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    c.request(method, path, body=data, headers=hdrs)
    r = c.getresponse()
    raw = r.read()
    c.close()
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = raw.decode(errors="replace")
    return r.status, parsed, time.monotonic() - t0


class Traffic(ClientThreads):
    """Two policy connections asking new triplets and one comment-check connection, each one
    request after another, timing every answer, until stopped."""

    def __init__(self, node, key):
        self.node, self.key = node, key
        super().__init__()
        self.policy = []    # (sent_at, seconds, reply)
        self.comments = []  # (sent_at, seconds, status, reasons)
        self.threads = [threading.Thread(target=self.ask, args=(n,)) for n in range(2)]
        self.threads.append(threading.Thread(target=self.check_comments))

    def ask(self, n):
        try:
            c = Conn(self.node.port, timeout=5)
            i = 0
            while not self.stop.is_set():
                i += 1
                t0 = time.monotonic()
                r = c.ask(client_address=f"203.0.113.{n + 1}", sender=f"t{n}-{i}@load.example",
                          recipient="rcpt@example.org", instance=f"{n}-{i}")
                with self.lock:
                    self.policy.append((t0, time.monotonic() - t0, r))
        except Exception as e:  # noqa: BLE001 - reported as a failure below
            self.errors.append("policy: " + repr(e))

    def check_comments(self):
        try:
            conn = self.node.conn(timeout=5)
            i = 0
            while not self.stop.is_set():
                i += 1
                t0 = time.monotonic()
                status, hdrs, _ = self.node.post(
                    "/1.1/comment-check",
                    dict(COMMENT, api_key=self.key, comment_content=f"{COMMENT['comment_content']}"
                         f" Comment {i}."), conn=conn)
                with self.lock:
                    self.comments.append((t0, time.monotonic() - t0, status,
                                          hdrs.get("x-greyflux-reasons", "")))
                time.sleep(0.005)
        except Exception as e:  # noqa: BLE001
            self.errors.append("comment: " + repr(e))

    def window(self, since, until):
        with self.lock:
            p = [x for x in self.policy if since <= x[0] < until]
            c = [x for x in self.comments if since <= x[0] < until]
        return p, c


def preload(node):
    """TRIPLETS greylisted triplets, so that a listing takes many round trips."""
    def run(n):
        c = Conn(node.port, timeout=10)
        for i in range(n, TRIPLETS, 4):
            c.ask(client_address=f"198.51.{100 + i // 250}.{i % 250 + 1}",
                  sender=f"pre{i}@sender.example", recipient="rcpt@example.org", instance=f"p{i}")
        c.close()
    threads = [threading.Thread(target=run, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def ping_seconds(port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        t0 = time.monotonic()
        s.sendall(b"PING\r\n")
        s.recv(64)
        return time.monotonic() - t0


def admin_load(port, token, client, until, results):
    """One admin client: greylist searches, whitelist add + delete of an entry of its own,
    status, until `until`."""
    n = 0
    while time.monotonic() < until:
        n += 1
        entry = f"10.{client}.{n // 250 % 250}.{n % 250 + 1}"
        for method, path, body in (("GET", SEARCH, None),
                                   ("POST", "/api/v1/whitelist", {"list": "client", "entry": entry}),
                                   ("DELETE", "/api/v1/whitelist",
                                    {"list": "client", "entry": entry}),
                                   ("GET", "/api/v1/status", None)):
            status, parsed, secs = api(port, token, method, path, body)
            results.append((path, method, status, secs, parsed))


def stats_line(xs):
    xs = sorted(xs)
    return (f"n={len(xs)} p50={xs[len(xs) // 2] * 1000:.1f} ms "
            f"worst={xs[-1] * 1000:.1f} ms") if xs else "n=0"


def main():
    binary = sys.argv[1]
    redis = RedisServer().start()
    proxy = ProxyProcess(redis.port, DELAY_S)
    node = use_redis(AkismetDaemon(binary, backend="redis",
                                   sets=["policy.threads=1", "store.redis_timeout=50ms"]),
                     proxy.url)
    bound_measurable = True
    try:
        made = node.cli("admin-token", "create", "--name", "ci")
        check(made.returncode == 0, "admin token created: " + made.stderr.strip())
        token = made.stdout.strip()
        node.start()
        key = node.add_key()
        preload(node)
        deadline = time.monotonic() + 5  # the last writes were sent before their answers
        while True:
            status, listing, secs = api(node.http_port, token, "GET",
                                        "/api/v1/greylist?limit=10000")
            if (status == 200 and len(listing["entries"]) >= TRIPLETS) or \
                    time.monotonic() > deadline:
                break
            time.sleep(0.05)
        check(status == 200 and len(listing["entries"]) >= TRIPLETS,
              f"{len(listing['entries'])} entries listed with Redis fast ({secs * 1000:.0f} ms)")

        with Traffic(node, key) as traffic:
            # The machine's own bound: the same traffic on a fast Redis (a duration of load).
            fast_from = time.monotonic()
            time.sleep(0.7)
            fast_p, fast_c = traffic.window(fast_from, time.monotonic())
            healthy = max([s for _, s, _ in fast_p] + [s for _, s, _, _ in fast_c], default=1)
            bound_measurable = healthy <= LIMIT_S / 2
            print(f"fast Redis, traffic alone: policy {stats_line([s for _, s, _ in fast_p])}, "
                  f"comments {stats_line([s for _, s, _, _ in fast_c])}")

            # 1. Redis slow.
            proxy.slow(True)
            deadline = time.monotonic() + 5
            while ping_seconds(proxy.port) < DELAY_S and time.monotonic() < deadline:
                time.sleep(0.01)
            check(ping_seconds(proxy.port) >= DELAY_S, "the proxy holds Redis's replies 15 ms")
            base_from = time.monotonic()
            time.sleep(1.0)  # traffic alone on the slow Redis (a duration, for the figures)
            admin_from = time.monotonic()
            results = []
            admins = [threading.Thread(target=admin_load,
                                       args=(node.http_port, token, i,
                                             admin_from + ADMIN_SECONDS, results))
                      for i in range(ADMIN_CLIENTS)]
            for t in admins:
                t.start()
            for t in admins:
                t.join()
            admin_to = time.monotonic()
            base_p, base_c = traffic.window(base_from, admin_from)
            pol, com = traffic.window(admin_from, admin_to)
            listings = [s for p, m, _, s, _ in results if p == SEARCH]
            print(f"slow Redis, traffic alone: policy {stats_line([s for _, s, _ in base_p])}, "
                  f"comments {stats_line([s for _, s, _, _ in base_c])}")
            print(f"slow Redis + admin load: admin {stats_line([r[3] for r in results])}, "
                  f"searches {stats_line(listings)}, "
                  f"policy {stats_line([s for _, s, _ in pol])}, "
                  f"comments {stats_line([s for _, s, _, _ in com])}")
            check(len(pol) >= 20 and len(com) >= 5,
                  f"{len(pol)} policy requests and {len(com)} comment-checks during the admin load")
            check(all(st == 200 for _, _, st, _ in com), "every comment-check answered 200")
            if bound_measurable:
                worst_p = max(s for _, s, _ in pol)
                worst_c = max(s for _, s, _, _ in com)
                check(worst_p <= LIMIT_S, f"every policy answer within 100 ms during the admin "
                                          f"load (worst {worst_p * 1000:.1f} ms)")
                check(worst_c <= LIMIT_S, f"every comment-check within 100 ms during the admin "
                                          f"load (worst {worst_c * 1000:.1f} ms)")
            else:
                print(f"bound not measurable: with a fast Redis answers already took "
                      f"{healthy * 1000:.1f} ms (machine load)")

            ok = sum(1 for r in results if r[2] == 200)
            bad = [(p, m, st, d) for p, m, st, _, d in results if st != 200 and not (
                st == 503 and isinstance(d, dict) and d.get("error") == "store"
                and d.get("message"))]
            check(not bad, f"every admin request answered 200 or 503 store {bad[:2]}")
            check(ok >= 0.9 * len(results),
                  f"{ok} of {len(results)} admin requests answered 200 on the slow Redis")
            held = sum(r[3] for r in results)
            check(len(results) >= ADMIN_CLIENTS * 4 and held >= 1.0,
                  f"{len(results)} admin requests, {held:.2f} s of admin work on the store "
                  f"(searches p50 {sorted(listings)[len(listings) // 2] * 1000:.0f} ms: "
                  f"many 15 ms round trips each)")

            # 2. Redis hung.
            proxy.slow(False)
            redis.proc.send_signal(signal.SIGSTOP)
            hung_from = time.monotonic()
            hung = []
            callers = [threading.Thread(target=lambda: hung.append(
                api(node.http_port, token, "GET", SEARCH)))
                for _ in range(HUNG_REQUESTS)]
            for t in callers:
                t.start()
            for t in callers:
                t.join()
            time.sleep(0.3)  # traffic on the hung Redis after the admin burst (a duration)
            hung_to = time.monotonic()
            redis.proc.send_signal(signal.SIGCONT)
            back_at = time.monotonic()
            print("hung Redis: admin answers " + ", ".join(
                f"{st} in {s * 1000:.0f} ms" for st, _, s in hung))
            print(f"  first message: {hung[0][1]}")
            check(len(hung) == HUNG_REQUESTS and all(
                st == 503 and isinstance(b, dict) and b.get("error") == "store"
                and b.get("message") for st, b, _ in hung),
                f"all {HUNG_REQUESTS} admin requests on the hung Redis end 503 "
                f"{{\"error\": \"store\", \"message\": ...}}")
            worst_hung = max(s for _, _, s in hung)
            check(worst_hung <= HUNG_BOUND_S,
                  f"each within {HUNG_BOUND_S} s (worst {worst_hung * 1000:.0f} ms)")
            pol, com = traffic.window(hung_from, hung_to)
            print(f"hung Redis: policy {stats_line([s for _, s, _ in pol])}, "
                  f"comments {stats_line([s for _, s, _, _ in com])}")
            check(any(r == "action=DUNNO" for _, _, r in pol), "fail-open DUNNO while hung")
            if bound_measurable:
                worst_p = max(s for _, s, _ in pol)
                check(worst_p <= LIMIT_S,
                      f"every policy answer within 100 ms while hung (worst {worst_p * 1000:.1f} ms)")

            # 3. Redis back.
            deadline = back_at + 10
            status = None
            while time.monotonic() < deadline:
                status, listing, _ = api(node.http_port, token, "GET",
                                         "/api/v1/greylist?limit=10000")
                if status == 200:
                    break
                time.sleep(0.05)
            check(status == 200 and len(listing["entries"]) >= TRIPLETS,
                  f"admin API answers 200 again {time.monotonic() - back_at:.2f} s after SIGCONT "
                  f"({len(listing['entries'])} entries)")
        check(not traffic.errors, f"no client saw an error or a closed connection "
                                  f"{traffic.errors[:3]}")
        check(node.proc.poll() is None, "greyflux kept running")
    finally:
        if redis.proc and redis.proc.poll() is None:
            redis.proc.send_signal(signal.SIGCONT)
        code = node.stop()
        proxy.stop()
        redis.stop()
    check(code == 0, "greyflux exits 0 on SIGTERM")
    if not bound_measurable:
        print("SKIP: every other check passed; the 100 ms bound was not measurable")
        sys.exit(77)
    print("PASS")


if __name__ == "__main__":
    main()
