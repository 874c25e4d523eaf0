"""Two greyflux nodes on one Redis share their learned text models (the comment and the mail
model) through the shared training logs, while each scans with its own local copy:
  1. submit-spam/submit-ham of comment TEXTS at A trains B's classifier: B's TEXT_CLASSIFIER
     for a text neither node was given appears within the sync interval and equals A's (the
     same examples in the same order give the same model); a further submit-spam of that text
     at A raises B's TEXT_CLASSIFIER (the classifier part, not only the reputation symbols);
  2. spamc TELL (-L spam / -L ham) at A moves B's spamd score for the same mail to A's;
  3. Redis down: B's spamd still answers from its local copy with the same score, a TELL at B
     is learned locally and queued, a comment-check at B falls back to heuristics and says
     STORE_UNAVAILABLE; Redis back (empty, as a restart without persistence leaves it): B's
     queued TELL reaches A without anyone restarting;
  4. `greyflux store copy` Redis -> LMDB -> Redis keeps every shared-log and model key;
  5. figures: Redis bytes per learned comment and mail (MEMORY USAGE), the time B takes to see
     A's training.
Usage: shared_models_test.py /path/to/greyflux    (exit 77 when spamc is not installed)"""
import os
import re
import shutil
import subprocess
import sys
import time

from redis_helpers import RedisServer, check, use_redis
from gfakismet import AkismetDaemon, COMMENT
from gfdaemon import free_port
from gfmail import ham_mail, spam_mail

SYNC_S = 1


class Node:
    def __init__(self, binary, redis):
        self.spamd_port = free_port()
        self.d = use_redis(AkismetDaemon(binary, backend="redis", sets=[
            f'spamd.listen=["127.0.0.1:{self.spamd_port}"]', "store.redis_timeout=500ms",
            f"store.model_sync_interval={SYNC_S}s"]), redis.url)
        self.d.sets += ["--set", f'spamd.model="{self.d.tmp}/mail.model"']

    def spamc(self, *args, message):
        p = subprocess.run(["spamc", "-d", "127.0.0.1", "-p", str(self.spamd_port), "-x", *args],
                           input=message.encode(), capture_output=True, timeout=30)
        return p.returncode, p.stdout.decode()

    def score(self, message):
        rc, out = self.spamc("-c", message=message)
        if "/" not in out:
            raise SystemExit(f"FAIL: spamc -c answered rc={rc} {out!r}")
        return float(out.strip().split("/")[0])

    def tell(self, cls, message):
        rc, out = self.spamc("-L", cls, message=message)
        check(rc == 0, f"spamc -L {cls} answered ({out.strip()[:40]})")

    def comment(self, key, text, **extra):
        status, hdrs, body = self.d.post("/1.1/comment-check",
                                         dict(COMMENT, api_key=key, comment_content=text, **extra))
        check(status == 200, "comment-check answered")
        return hdrs


def symbol(hdrs, name):
    m = re.search(r"(?:^|\s)" + name + r"\(([-0-9.]+)\)", hdrs.get("x-greyflux-reasons", ""))
    return float(m.group(1)) if m else None


def wait_for(fn, timeout, what):
    """Polls fn() until it returns a true value; returns (value, seconds waited)."""
    t0 = time.time()
    while True:
        v = fn()
        if v:
            return v, time.time() - t0
        if time.time() - t0 > timeout:
            raise SystemExit(f"FAIL: {what} within {timeout} s")
        time.sleep(0.05)


def redis_cli(redis, *args):
    return subprocess.run(["redis-cli", "-p", str(redis.port), *args], capture_output=True,
                          text=True, timeout=30).stdout.strip()


def key_bytes(redis, pattern):
    keys = [k for k in redis_cli(redis, "--scan", "--pattern", pattern).splitlines()
            if not k.endswith("next")]
    sizes = [int(redis_cli(redis, "MEMORY", "USAGE", k)) for k in keys]
    return len(keys), (sum(sizes) / len(sizes) if sizes else 0)


def comments(redis, key, a, b):
    probe = "Cheap casino bonus and pills, claim your jackpot offer today"
    check(symbol(b.comment(key, probe, user_ip="192.0.2.200"), "TEXT_CLASSIFIER") is None,
          "B's comment model is untrained before A's feedback")
    for i in range(12):
        for path, text in (("submit-spam", f"cheap pills casino bonus jackpot offer number {i}"),
                           ("submit-ham", f"thanks for the thoughtful post on sourdough {i}")):
            status, _, body = a.d.post(f"/1.1/{path}", dict(
                COMMENT, api_key=key, comment_content=text, user_ip=f"198.51.100.{i + 1}",
                comment_author_email=f"u{i}@example.org"))
            check(status == 200 and body == "Thanks for making the web a better place.",
                  f"{path} {i} at A")
    t_fed = time.time()
    want = symbol(a.comment(key, probe, user_ip="192.0.2.201"), "TEXT_CLASSIFIER")
    check(want is not None and want > 0, f"A's classifier scores the probe as spam ({want})")
    got, waited = wait_for(lambda: symbol(b.comment(key, probe, user_ip="192.0.2.202"),
                                          "TEXT_CLASSIFIER"), 3 * SYNC_S + 10,
                           "B's TEXT_CLASSIFIER appears")
    check(got == want, f"B's TEXT_CLASSIFIER equals A's ({got} == {want}) after {waited:.2f} s "
          f"(sync interval {SYNC_S} s; {time.time() - t_fed:.2f} s after A's last submit)")
    for _ in range(3):
        a.d.post("/1.1/submit-spam", dict(COMMENT, api_key=key, comment_content=probe,
                                          user_ip="192.0.2.203"))
    higher, waited = wait_for(lambda: (lambda s: s if s and s > got else None)(
        symbol(b.comment(key, probe, user_ip="192.0.2.204"), "TEXT_CLASSIFIER")),
        3 * SYNC_S + 10, "B's TEXT_CLASSIFIER rises after submit-spam of the text at A")
    check(higher > got, f"submit-spam of the text at A raises B's TEXT_CLASSIFIER "
          f"({got} -> {higher}, {waited:.2f} s)")
    n, size = key_bytes(redis, "gf:a:t:*")
    print(f"figure: comment training log: {n} records, {size:.0f} bytes each in Redis "
          f"(MEMORY USAGE)")


def mail(redis, a, b):
    probe = spam_mail(99, "zorblat quenvik mirtoph skavelun")
    b0 = b.score(probe)
    for i in range(12):
        a.tell("spam", spam_mail(i))
        a.tell("ham", ham_mail(i))
    t_fed = time.time()
    want = a.score(probe)
    check(want > b0, f"A's score of the probe rose with training ({b0} -> {want})")
    _, waited = wait_for(lambda: b.score(probe) == want, 3 * SYNC_S + 10,
                         "B's spamd score reaches A's")
    print(f"ok: B's spamd score equals A's ({want}) {waited:.2f} s after polling began, "
          f"{time.time() - t_fed:.2f} s after A's last TELL")
    a.tell("ham", probe)
    lower = a.score(probe)
    check(lower < want, f"TELL ham of the probe at A lowers A's score ({want} -> {lower})")
    _, waited = wait_for(lambda: b.score(probe) == lower, 3 * SYNC_S + 10,
                         "B's score follows A's TELL")
    print(f"figure: time for B to see A's TELL: {waited:.2f} s (sync interval {SYNC_S} s)")
    n, size = key_bytes(redis, "gf:a:ml:*")
    print(f"figure: mail training log: {n} records, {size:.0f} bytes each in Redis "
          f"(MEMORY USAGE)")
    return probe, lower


def store_copy(binary, redis, tmp):
    """`greyflux store copy` Redis -> LMDB -> Redis DB 1 carries the shared logs unchanged."""
    def listing(db):
        keys = sorted(k for k in redis_cli(redis, "-n", str(db), "--scan", "--pattern",
                                           "gf:a:*").splitlines()
                      # not the model snapshots: the running nodes' savers rewrite them
                      if k.startswith(("gf:a:t:", "gf:a:ml:", "gf:a:m:next")))
        return {k: redis_cli(redis, "-n", str(db), "--no-raw", "GET", k) for k in keys}
    before = listing(0)
    lmdb = os.path.join(tmp, "copy")
    for src, dst in ((redis.url, "lmdb:" + lmdb),
                     ("lmdb:" + lmdb, redis.url.rsplit("/", 1)[0] + "/1")):
        r = subprocess.run([binary, "store", "copy", "--from", src, "--to", dst],
                           capture_output=True, text=True, timeout=120)
        check(r.returncode == 0, f"store copy {src} -> {dst} ({r.stderr.strip()[-200:]})")
    after = listing(1)
    if after != before:
        print("differ:", sorted(set(before.items()) ^ set(after.items()))[:6])
    check(after == before and any(k.startswith("gf:a:ml:") for k in before) and
          "gf:a:m:next" in before,
          f"store copy Redis -> LMDB -> Redis keeps the {len(before)} shared-log keys")


def redis_down(redis, key, a, b, probe, score):
    redis.kill()
    t0 = time.time()
    check(b.score(probe) == score, "Redis down: B's spamd answers from its local copy, same score")
    check(time.time() - t0 < 5, f"... without waiting on Redis ({time.time() - t0:.2f} s)")
    hdrs = b.comment(key, "Another comment while the store is away")
    check("STORE_UNAVAILABLE" in hdrs.get("x-greyflux-reasons", ""),
          f"Redis down: comment-check falls back and says so ({hdrs.get('x-greyflux-reasons')})")
    fresh = ham_mail(77, "zorblat quenvik mirtoph skavelun")
    a_before = a.score(fresh)
    b.tell("spam", fresh)
    b_after = b.score(fresh)
    check(b_after > a_before, f"Redis down: TELL at B learned locally ({a_before} -> {b_after})")
    redis.start()
    _, waited = wait_for(lambda: a.score(fresh) == b_after, 3 * SYNC_S + 15,
                         "B's queued TELL reaches A after Redis returns")
    print(f"ok: Redis back: B's TELL made while it was down reached A ({waited:.2f} s)")


def main():
    binary = sys.argv[1]
    if shutil.which("spamc") is None or shutil.which("redis-cli") is None:
        print("spamc or redis-cli is not installed (scripts/deps.sh test)")
        sys.exit(77)
    redis = RedisServer().start()
    a, b = Node(binary, redis), Node(binary, redis)
    try:
        a.d.start()
        b.d.start()
        key = a.d.add_key()
        comments(redis, key, a, b)
        probe, score = mail(redis, a, b)
        stats = b.d.stats()
        check(stats.get("spamd.shared_log.applied", 0) >= 25 and
              stats.get("akismet.shared_log.applied", 0) >= 27,
              "B's stats count the records it took from A "
              f"(mail {stats.get('spamd.shared_log.applied')}, comments "
              f"{stats.get('akismet.shared_log.applied')})")
        store_copy(binary, redis, a.d.tmp)
        redis_down(redis, key, a, b, probe, score)
    except BaseException:
        for n, name in ((a, "A"), (b, "B")):
            print(f"--- {name} log tail:", *n.d.log_text().splitlines()[-15:], sep="\n  ")
        raise
    finally:
        a.d.stop()
        b.d.stop()
        redis.stop()
    print("PASS")


if __name__ == "__main__":
    main()
