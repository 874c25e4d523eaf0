"""Two greyflux instances on one Redis ([store] backend = "redis") behave as one deployment:
  1. a triplet greylisted at A passes at B once the (shortened, 2 s) delay has run out, and is
     still deferred at B before that;
  2. an Akismet key created with A's configuration verifies at B;
  3. submit-spam at A raises the score of the same comment at B (TEXT/IP/EMAIL_REPORTED_SPAM);
  4. round trips to Redis as B's client counts them: 1 per policy decision, 2 per comment-check.
Usage: shared_redis_test.py /path/to/greyflux"""
import sys
import time

from redis_helpers import RedisServer, check, use_redis
from gfakismet import AkismetDaemon, COMMENT
from gfdaemon import Conn, ask_until

DELAY_S = 2


def node(binary, redis):
    return use_redis(AkismetDaemon(binary, backend="redis",
                                   sets=[f"greylist.delay={DELAY_S}s", "store.redis_timeout=500ms",
                                         # no shared-model polls inside the round-trip count
                                         "store.model_sync_interval=1h"]),
                     redis.url)


def main():
    binary = sys.argv[1]
    redis = RedisServer().start()
    a = node(binary, redis)
    b = node(binary, redis)
    try:
        a.start()
        b.start()
        check(f"store redis at {redis.url}," in a.log_text(),
              "the ready line names the Redis URL the node uses (not an LMDB path)")
        ca, cb = Conn(a.port), Conn(b.port)
        triplet = dict(client_address="198.51.100.20", sender="news@shop.example",
                       recipient="carol@example.org", instance="m1")
        first = time.time()
        check(ca.ask(**triplet).startswith("action=DEFER_IF_PERMIT"), "new triplet deferred at A")
        early = cb.ask(**dict(triplet, instance="m2"))
        if time.time() - first < DELAY_S:
            check(early.startswith("action=DEFER_IF_PERMIT"), "early retry at B still deferred")
        passed = ask_until(cb, lambda r: not r.startswith("action=DEFER"), timeout=DELAY_S + 10,
                           **dict(triplet, instance="m3"))
        # The greylist counts whole seconds: the pass may come up to 1 s early by the wall clock.
        check(passed.startswith("action=PREPEND X-Greylist") and time.time() - first > DELAY_S - 1,
              f"retry at B passes after the delay ({passed[:60]})")
        other = cb.ask(**dict(triplet, recipient="dave@example.org", instance="m4"))
        check(other.startswith("action=DEFER_IF_PERMIT"), "a triplet B never saw is still new")

        key = a.add_key()
        status, _, body = b.post("/1.1/verify-key", {"key": key, "blog": COMMENT["blog"]})
        check(status == 200 and body == "valid", "key created with A's config verifies at B")

        spam = dict(COMMENT, api_key=key, comment_content="Cheap pills at the best price, "
                    "visit our pharmacy today for discount offers on everything you need")
        _, before, _ = b.post("/1.1/comment-check", spam)
        for _ in range(3):
            status, _, body = a.post("/1.1/submit-spam", spam)
            check(status == 200, "submit-spam at A accepted")
        _, after, _ = b.post("/1.1/comment-check", spam)
        s0, s1 = float(before["x-greyflux-score"]), float(after["x-greyflux-score"])
        check(s1 > s0 and "TEXT_REPORTED_SPAM" in after["x-greyflux-reasons"],
              f"submit-spam at A raises the score at B ({s0} -> {s1}: "
              f"{after['x-greyflux-reasons']})")
        # Round trips to Redis, counted by B's client: a policy decision is one; a comment-check
        # one too (the read that decides; the stored check is a send and the usage counter's
        # compare-and-set runs in the background, waited for by nobody).
        rt0 = b.stats()["redis.round_trips"]
        cb.ask(**dict(triplet, client_address="198.51.100.77", instance="m5"))
        rt1 = b.stats()["redis.round_trips"]
        b.post("/1.1/comment-check", dict(COMMENT, api_key=key))
        rt2 = b.stats()["redis.round_trips"]
        check(rt1 - rt0 == 1, f"a policy decision costs {rt1 - rt0} Redis round trip")
        check(rt2 - rt1 == 1, f"a comment-check costs {rt2 - rt1} Redis round trip")
        stats = b.stats()
        check(stats.get("redis.connected") == 1 and stats.get("redis.failures", 1) == 0,
              "B's stats show Redis connected, no failures")
    finally:
        a.stop()
        b.stop()
        redis.stop()
    print("PASS")


if __name__ == "__main__":
    main()
