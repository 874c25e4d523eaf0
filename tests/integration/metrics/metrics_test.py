"""/metrics, /healthz, /readyz, /api/v1/status and /api/v1/stats/series against a real daemon fed
real traffic: Postfix policy requests, Akismet comment-checks, Debian's spamc and Rspamd's
/checkv2. Every counter must move by exactly what was sent; `promtool check metrics` (Debian's
prometheus package) must accept the scrape; the CPU cost of a scrape is measured from
/proc/PID/stat. A second daemon on Redis answers /readyz 503 once its Redis is killed.

Usage: metrics_test.py GREYFLUX_BINARY
"""
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "daemon"))
sys.path.insert(0, os.path.join(HERE, "..", "redis"))
sys.path.insert(0, os.path.join(HERE, "..", "spamd"))
from gfdaemon import Conn, Daemon, free_port  # noqa: E402
from spamdlib import GTUBE  # noqa: E402

BINARY = None
SCRAPES = 200  # for the CPU cost figure

SPAM_MAIL = ("From: promo@lottery.example\r\nTo: you@example.com\r\nSubject: you won\r\n"
             "Message-ID: <gtube-metrics@lottery.example>\r\n\r\n" + GTUBE + "\r\n")
HAM_MAIL = ("From: carol@example.org\r\nTo: dave@example.org\r\nSubject: lunch\r\n"
            "Message-ID: <lunch-metrics@example.org>\r\n\r\nHi Dave, lunch at noon? Carol\r\n")

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """{(name, frozenset(labels)): value} of a text exposition; checks every line's shape."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("# HELP ") or line.startswith("# TYPE "):
            continue
        m = SAMPLE.match(line)
        if not m:
            raise AssertionError(f"not a sample line: {line!r}")
        labels = frozenset(LABEL.findall(m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def http_call(port, method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    out = r.status, r.read().decode("utf-8", "replace"), dict(r.getheaders())
    c.close()
    return out


def cpu_ns(pid):
    """CPU time of every thread of `pid`, nanoseconds (/proc/PID/task/*/schedstat, field 1)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except FileNotFoundError:
            pass  # a thread that ended meanwhile
    return total


class MetricsTest(unittest.TestCase):
    def setUp(self):
        self.web, self.mail = free_port(), free_port()
        self.d = Daemon(BINARY, sets=(f'http.listen=["127.0.0.1:{self.web}"]',
                                      f'spamd.listen=["127.0.0.1:{self.mail}"]',
                                      "spamd.allow_tell=true"))
        key = self.d.cli("keys", "add", "--blog", "https://blog.example")
        self.assertEqual(key.returncode, 0, key.stderr)
        self.key = key.stdout.strip()
        self.d.start()
        self.auth = self.admin_token()

    def tearDown(self):
        self.d.stop()
        shutil.rmtree(self.d.tmp, ignore_errors=True)

    def admin_token(self):
        """The admin API's bearer header once `greyflux admin-token create` exists; else none."""
        made = self.d.cli("admin-token", "create")
        if made.returncode != 0:
            return {}
        return {"Authorization": "Bearer " + made.stdout.split()[-1]}

    def scrape(self):
        status, body, headers = http_call(self.web, "GET", "/metrics")
        self.assertEqual(status, 200, body)
        self.assertTrue(headers["Content-Type"].startswith("text/plain; version=0.0.4"), headers)
        return body

    def api(self, path):
        status, body, headers = http_call(self.web, "GET", path, headers=self.auth)
        self.assertEqual(status, 200, body)
        self.assertTrue(headers["Content-Type"].startswith("application/json"), headers)
        return json.loads(body)

    def comment_check(self, content, ip):
        fields = {"api_key": self.key, "blog": "https://blog.example", "user_ip": ip,
                  "comment_type": "comment", "comment_content": content}
        status, body, _ = http_call(self.web, "POST", "/1.1/comment-check",
                                    body=urllib.parse.urlencode(fields),
                                    headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 200, body)
        self.assertIn(body, ("true", "false"))
        return body == "true"

    def spamc(self, mail):
        """Debian's spamc -c: exit 1 and "score/required" when spam, 0 when ham."""
        r = subprocess.run(["spamc", "-d", "127.0.0.1", "-p", str(self.mail), "-c"],
                           input=mail.encode(), capture_output=True, timeout=30)
        self.assertIn(r.returncode, (0, 1), r.stderr)
        self.assertRegex(r.stdout.decode(), r"^-?[0-9.]+/[0-9.]+")
        return r.returncode == 1

    def send_traffic(self):
        """Sends the traffic; returns what the answers said, to compare with the counters."""
        sent = {"defer": 0, "not_rcpt": 0, "comments": {True: 0, False: 0},
                "mail": {True: 0, False: 0}}
        conn = Conn(port=self.d.port)
        for i in range(3):  # three new triplets: DEFER_IF_PERMIT, reason new
            reply = conn.ask(client_address=f"192.0.2.{10 + i}", sender=f"s{i}@sender.example")
            self.assertTrue(reply.startswith("action=DEFER_IF_PERMIT"), reply)
            sent["defer"] += 1
        reply = conn.ask(protocol_state="DATA")
        self.assertEqual(reply, "action=DUNNO")
        sent["not_rcpt"] += 1
        conn.close()
        for content, ip in (("Lovely bread recipe, thanks for sharing it.", "192.0.2.50"),
                            ("BUY CHEAP PILLS http://pills.example/buy http://pills.example/x "
                             "http://pills.example/y CASINO VIAGRA", "203.0.113.9")):
            sent["comments"][self.comment_check(content, ip)] += 1
        for mail in (SPAM_MAIL, HAM_MAIL):
            sent["mail"][self.spamc(mail)] += 1
        self.assertTrue(sent["mail"][True] >= 1, "GTUBE must be spam")
        status, body, _ = http_call(self.web, "POST", "/checkv2", body=HAM_MAIL)
        self.assertEqual(status, 200, body)
        j = json.loads(body)
        sent["mail"][j["score"] >= j["required_score"]] += 1
        return sent

    def test_counters_move_by_exactly_the_traffic_sent(self):
        self.assertEqual(http_call(self.web, "GET", "/healthz")[:2], (200, "ok\n"))
        self.assertEqual(http_call(self.web, "GET", "/readyz")[:2], (200, "ready\n"))
        before = parse_metrics(self.scrape())
        self.assertEqual(value(before, "greyflux_build_info", version=self.version()), 1)
        sent = self.send_traffic()
        text = self.scrape()
        after = parse_metrics(text)

        def delta(name, **labels):
            return value(after, name, **labels) - value(before, name, **labels)

        dec = "greyflux_decisions_total"
        self.assertEqual(delta(dec, door="greylist", verdict="defer", reason="new"), sent["defer"])
        self.assertEqual(delta(dec, door="greylist", verdict="dunno", reason="not-rcpt-stage"),
                         sent["not_rcpt"])
        self.assertEqual(delta(dec, door="comments", verdict="spam", reason="comment-check"),
                         sent["comments"][True])
        self.assertEqual(delta(dec, door="comments", verdict="ham", reason="comment-check"),
                         sent["comments"][False])
        self.assertEqual(delta(dec, door="spamd", verdict="spam", reason="scan"), sent["mail"][True])
        self.assertEqual(delta(dec, door="spamd", verdict="ham", reason="scan"), sent["mail"][False])
        # Nothing else moved in the decision family.
        moved = {k for k in after if k[0] == dec and value(after, dec, **dict(k[1])) !=
                 value(before, dec, **dict(k[1]))}
        self.assertEqual(len(moved), sum(1 for n in (sent["defer"], sent["not_rcpt"],
                                                     *sent["comments"].values(),
                                                     *sent["mail"].values()) if n), moved)
        hist = "greyflux_request_duration_seconds_count"
        self.assertEqual(delta(hist, door="policy"), 4)
        self.assertEqual(delta(hist, door="comments"), 2)
        self.assertEqual(delta(hist, door="spamd"), 3)
        self.assertEqual(value(after, "greyflux_request_duration_seconds_bucket", door="spamd",
                               le="+Inf"), value(after, hist, door="spamd"))
        self.assertEqual(value(after, "greyflux_listener_up", door="policy"), 1)
        self.assertEqual(value(after, "greyflux_listener_up", door="spamd"), 1)
        self.assertEqual(value(after, "greyflux_store_healthy", store="greylist", backend="lmdb"), 1)
        self.assertEqual(delta("greyflux_fail_open_total", door="greylist"), 0)
        self.assertGreater(value(after, "greyflux_uptime_seconds"), 0)

        # The overview series count the same traffic.
        series = self.api("/api/v1/stats/series?range=hour")
        self.assertEqual(series["step_s"], 60)
        s = series["series"]
        self.assertEqual(len(s["greylist.defer"]), 60)
        self.assertEqual(sum(s["greylist.defer"]), sent["defer"])
        self.assertEqual(sum(s["comments.spam"]), sent["comments"][True])
        self.assertEqual(sum(s["comments.ham"]), sent["comments"][False])
        self.assertEqual(sum(s["mail.spam"]), sent["mail"][True])
        self.assertEqual(sum(s["mail.ham"]), sent["mail"][False])
        self.assertEqual(sum(s["greylist.pass"]) + sum(s["mail.rejected"]), 0)
        week = self.api("/api/v1/stats/series?range=week")
        self.assertEqual((week["step_s"], len(week["series"]["flux.flagged"])), (3600, 168))
        self.assertEqual(sum(week["series"]["greylist.defer"]), sent["defer"])
        status, body, _ = http_call(self.web, "GET", "/api/v1/stats/series?range=month",
                                    headers=self.auth)
        self.assertEqual(status, 400, body)
        self.assertEqual(json.loads(body)["error"], "bad_range")

        st = self.api("/api/v1/status")
        self.assertEqual(st["version"], self.version())
        self.assertEqual(st["store"]["backend"], "lmdb")
        self.assertTrue(st["store"]["healthy"])
        self.assertEqual(st["doors"], {"policy": True, "http": True, "spamd": True,
                                       "milter": None, "admin": True})
        self.assertEqual(st["fail_open"]["greylist"], 0)

        self.promtool(text)
        self.measure_scrape_cost()

    def test_spamd_empty_connections_are_not_protocol_errors(self):
        """A connection that closes without a byte (a monitor's TCP check) counts in
        spamd.empty_connections, not as a protocol error; a malformed request still does."""
        before = parse_metrics(self.scrape())
        for _ in range(5):
            socket.create_connection(("127.0.0.1", self.mail), timeout=5).close()
        with socket.create_connection(("127.0.0.1", self.mail), timeout=5) as s:
            s.sendall(b"FROB SPAMC/1.5\r\n\r\n")
            s.shutdown(socket.SHUT_WR)
            self.assertRegex(s.recv(4096), rb"^SPAMD/1\.[0-9] [1-9][0-9]* ")
        deadline = time.monotonic() + 10  # the daemon sees the 5 closes on its own time
        while True:
            stats = self.d.stats()
            if stats.get("spamd.empty_connections") == 5 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        after = parse_metrics(self.scrape())
        self.assertEqual(stats["spamd.empty_connections"], 5, stats)
        self.assertEqual(stats["spamd.protocol_errors"], 1, stats)
        self.assertEqual(value(after, "greyflux_spamd_empty_connections_total") -
                         value(before, "greyflux_spamd_empty_connections_total"), 5)
        self.assertEqual(value(after, "greyflux_protocol_errors_total", door="spamd") -
                         value(before, "greyflux_protocol_errors_total", door="spamd"), 1)

    def version(self):
        return subprocess.run([BINARY, "--version"], capture_output=True,
                              text=True).stdout.split()[-1]

    def promtool(self, text):
        promtool = shutil.which("promtool")
        if not promtool:
            print("SKIPPED promtool check: promtool not installed (Debian package prometheus; "
                  "scripts/deps.sh test)")
            return
        r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        print(f"promtool check metrics: ok ({len(text.splitlines())} lines)")

    def measure_scrape_cost(self):
        pid = self.d.proc.pid
        c = http.client.HTTPConnection("127.0.0.1", self.web, timeout=10)

        def run(path, n):
            t0, w0 = cpu_ns(pid), time.monotonic()
            size = 0
            for _ in range(n):
                c.request("GET", path)
                r = c.getresponse()
                size = len(r.read())
                self.assertEqual(r.status, 200)
            return (cpu_ns(pid) - t0) / n / 1e6, (time.monotonic() - w0) * 1000 / n, size

        ms, wall, size = run("/metrics", SCRAPES)
        base, _, _ = run("/healthz", SCRAPES)  # the same HTTP round trip without the scrape
        c.close()
        print(f"/metrics scrape: {SCRAPES} scrapes of {size} bytes on one keep-alive connection: "
              f"daemon CPU {ms:.3f} ms per scrape (/healthz on the same connection: {base:.3f} ms; "
              f"wall {wall:.2f} ms per scrape, client included)")


class ReadyzTest(unittest.TestCase):
    def test_readyz_is_503_with_the_reason_when_redis_is_gone(self):
        from redis_helpers import RedisServer, use_redis
        redis = RedisServer().start()
        web = free_port()
        # A generous Redis timeout: the start-up handshake must not fail on a loaded machine.
        d = use_redis(Daemon(BINARY, backend="redis",
                             sets=(f'http.listen=["127.0.0.1:{web}"]', "http.metrics=false",
                                   "store.redis_timeout=500ms",
                                   "store.redis_connect_timeout=2s")), redis.url)
        try:
            d.start()
            self.assertEqual(http_call(web, "GET", "/readyz")[:2], (200, "ready\n"))
            self.assertEqual(http_call(web, "GET", "/metrics")[0], 404)  # http.metrics = false
            redis.kill()
            deadline = time.time() + 10
            while True:
                status, body, _ = http_call(web, "GET", "/readyz")
                if status == 503 or time.time() > deadline:
                    break
                time.sleep(0.05)
            self.assertEqual(status, 503, body)
            self.assertIn("greylist store (redis)", body)
            self.assertEqual(http_call(web, "GET", "/healthz")[:2], (200, "ok\n"))
        finally:
            d.stop()
            redis.kill()
            shutil.rmtree(d.tmp, ignore_errors=True)
            shutil.rmtree(redis.dir, ignore_errors=True)


if __name__ == "__main__":
    BINARY = sys.argv.pop(1)
    unittest.main(verbosity=2)
