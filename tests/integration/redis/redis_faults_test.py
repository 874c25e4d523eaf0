"""Redis killed under load and restarted, with greyflux on backend "redis":
  - every policy request is answered, each within 100 ms; while Redis is down the answer is the
    configured fail-open action (DUNNO), and the daemon's decisions.store_failure count equals
    the fail-open answers the clients saw (every request is a new triplet, so with Redis up the
    answer is DEFER_IF_PERMIT);
  - a comment-check while Redis is down still answers true/false from the heuristics and says
    STORE_UNAVAILABLE in X-Greyflux-Reasons;
  - once redis-server is back (same port), greylisting resumes by itself, and the daemon never
    exits.
Usage: redis_faults_test.py /path/to/greyflux"""
import sys
import threading
import time

from redis_helpers import ClientThreads, RedisServer, check, use_redis
from gfakismet import AkismetDaemon, COMMENT
from gfdaemon import Conn

LIMIT_S = 0.100
CLIENTS = 4


class Load(ClientThreads):
    """CLIENTS connections, each asking one new triplet after another until stopped."""

    def __init__(self, port):
        self.port = port
        super().__init__()
        self.replies = []  # (sent_at, seconds, reply)
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(CLIENTS)]

    def run(self, n):
        try:
            c = Conn(self.port, timeout=5)
            i = 0
            while not self.stop.is_set():
                i += 1
                t0 = time.monotonic()
                r = c.ask(client_address=f"203.0.113.{n + 1}", sender=f"s{n}-{i}@load.example",
                          recipient="rcpt@example.org", instance=f"{n}-{i}")
                with self.lock:
                    self.replies.append((t0, time.monotonic() - t0, r))
        except Exception as e:  # noqa: BLE001 - reported as a failure below
            self.errors.append(repr(e))


def main():
    binary = sys.argv[1]
    bound_measurable = True
    redis = RedisServer().start()
    node = use_redis(AkismetDaemon(binary, backend="redis", sets=["store.redis_timeout=50ms"]),
                     redis.url)
    try:
        node.start()
        key = node.add_key()
        with Load(node.port) as load:
            time.sleep(0.5)  # load before the fault (a duration of load, not a settle wait)
            redis.kill()
            killed_at = time.monotonic()
            time.sleep(1.0)  # load during the outage
            status, hdrs, body = node.post("/1.1/comment-check", dict(COMMENT, api_key=key))
            redis.start()
            back_at = time.monotonic()
            deadline = back_at + 15
            resumed = False
            while time.monotonic() < deadline and not resumed:
                with load.lock:
                    resumed = any(t > back_at and r.startswith("action=DEFER_IF_PERMIT")
                                  for t, _, r in load.replies[-50:])
                time.sleep(0.02)
        check(not load.errors, f"no client saw an error or a closed connection {load.errors[:3]}")
        replies = load.replies
        worst = max(s for _, s, _ in replies)
        slow = sorted(((s, t - killed_at, r[:20]) for t, s, r in replies if s > LIMIT_S / 2),
                      reverse=True)[:5]
        print(f"slowest (s, sent after the kill s, reply): {slow}")
        check(len(replies) > 100, f"{len(replies)} requests answered under load")
        # The bound is measurable only when the machine answers within it with Redis up: on an
        # overloaded box (the healthy answers already slower) every other check still runs and
        # the test then exits 77 (skipped), never passes the bound unmeasured.
        healthy = max((s for t, s, _ in replies if t < killed_at), default=0.0)
        bound_measurable = healthy <= LIMIT_S
        if bound_measurable:
            check(worst <= LIMIT_S, f"every answer within 100 ms (worst {worst * 1000:.1f} ms)")
        else:
            print(f"bound not measurable: answers with Redis up already took {healthy * 1000:.1f} "
                  f"ms (machine load); worst overall {worst * 1000:.1f} ms")
        fail_open = sum(1 for _, _, r in replies if r == "action=DUNNO")
        deferred = sum(1 for _, _, r in replies if r.startswith("action=DEFER_IF_PERMIT"))
        check(fail_open + deferred == len(replies), "every answer is DEFER_IF_PERMIT or DUNNO")
        check(fail_open > 0 and any(t > killed_at for t, _, r in replies if r == "action=DUNNO"),
              f"{fail_open} fail-open answers while Redis was down")
        check(status == 200 and body in ("true", "false")
              and "STORE_UNAVAILABLE" in hdrs.get("x-greyflux-reasons", ""),
              f"comment-check during the outage answers {body} from heuristics "
              f"({hdrs.get('x-greyflux-reasons')})")
        check(resumed, "greylisting resumed by itself after redis-server came back")
        stats = node.stats()
        check(stats.get("decisions.store-failure") == fail_open,
              f"decisions.store-failure {stats.get('decisions.store-failure')} equals the "
              f"{fail_open} fail-open answers the clients saw")
        check(stats.get("redis.connected") == 1 and stats.get("redis.disconnects", 0) >= 1,
              "stats show Redis connected again after a disconnect")
        check(node.proc.poll() is None, "greyflux kept running")
    finally:
        code = node.stop()
        redis.stop()
    check(code == 0, "greyflux exits 0 on SIGTERM")
    if not bound_measurable:
        print("SKIP: every other check passed; the 100 ms bound was not measurable")
        sys.exit(77)
    print("PASS")


if __name__ == "__main__":
    main()
