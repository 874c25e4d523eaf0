"""A greyflux with every front door on free loopback ports, fed real traffic, for the dashboard's
browser test (ui_test.py) and its measurements (bench/ui/measure.py).

Doors: Postfix policy (TCP), HTTP (Akismet, Rspamd /checkv2, the dashboard and the admin API),
spamd, and a dnstap unix socket for the flux detector. Traffic goes through those doors exactly
as Postfix, an Akismet client, spamc and Unbound would send it (the dnstap stream is written by
tests/integration/flux/quiet_serve_test.py's Frame Streams sender, stamped with the real time).
Everything the stack starts is stopped by PID in stop().
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "daemon"))
sys.path.insert(0, os.path.join(HERE, "..", "spamd"))
sys.path.insert(0, os.path.join(HERE, "..", "flux"))
from gfdaemon import Conn, free_port  # noqa: E402
from spamdlib import exchange, request as spamd_request  # noqa: E402
from quiet_serve_test import DnstapSender  # noqa: E402

BLOG = "https://blog.example"
COMMENT_SPAM_IP = "198.51.100.77"  # the comment the browser marks as spam
COMMENT_HAM_IP = "198.51.100.50"   # ordinary comments (the bulk "not spam" target)
COMMENT_TEXT = ("Thanks for the great article, I learned a lot about sourdough starters and "
                "will try feeding mine twice a day from now on.")
MAIL_SENDER = "offers@pills-outlet.example"
REQUIRED_SCORE = 5.0
FLUX_NAME = "cdn-login-verify.test"
FLUX_PARTNER = "secure-account-check.test"  # answered by the same agents: its flux network
FLUX_ROUNDS = 6


def mail(subject, body, sender, n):
    return (f"From: {sender}\r\nTo: bob@example.org\r\nSubject: {subject}\r\n"
            f"Message-ID: <m{n}@{sender.split('@')[1]}>\r\n"
            f"Date: Sun, 06 Dec 2026 12:00:00 +0000\r\n\r\n{body}\r\n").encode()


# The mail the browser marks as ham: after the training below it scans as spam (6.0 with the
# default BAYES_80 points; one ham relearn of it brings it to 4.0, measured).
MAIL = mail("cheap pills today", "Buy cheap pills viagra at http://pills.example/ now, discount "
            "pharmacy offer", MAIL_SENDER, 0)
SPAM_TRAINING = [mail(f"cheap pills {i}", f"Buy cheap pills viagra cialis at http://pills{i}.example/"
                      f" now, discount offer {i} limited time pharmacy", "deals@pills.example", i + 1)
                 for i in range(12)]
HAM_TRAINING = [mail(f"meeting {i}", f"Hi Bob, the project meeting moves to room {i} on Thursday, "
                     "notes attached, cheers Alice", "alice@work.example", i + 100) for i in range(12)]


class Stack:
    def __init__(self, binary, tmp=None, extra_sets=()):
        self.binary = binary
        self.extra_sets = list(extra_sets)  # more `--set k=v` for serve (bench/soak adds milter)
        self.tmp = tmp or tempfile.mkdtemp(prefix="gf-ui-")
        self.data = os.path.join(self.tmp, "data")
        self.policy_port, self.http_port, self.spamd_port = free_port(), free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.dnstap = os.path.join(self.data, "dnstap.sock")
        self.log = os.path.join(self.tmp, "greyflux.log")
        self.proc = None
        self.key = None
        self.token = None

    def args(self, *more):
        return [self.binary, *more, "--config", "/dev/null", "--set", f"daemon.data_dir={self.data}"]

    def cli(self, *args):
        r = subprocess.run(self.args(*args), capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"greyflux {' '.join(args)}: {r.stderr.strip()}")
        return r.stdout

    def start(self):
        os.makedirs(self.data, exist_ok=True)
        self.key = self.cli("keys", "add", "--blog", BLOG).strip()
        out = self.cli("admin-token", "create")
        m = re.search(r"(gfa_[A-Za-z0-9_-]{43})", out)
        if not m:
            raise RuntimeError(f"admin-token create printed no token: {out!r}")
        self.token = m.group(1)
        sets = [f'policy.listen=["127.0.0.1:{self.policy_port}"]',
                f'http.listen=["127.0.0.1:{self.http_port}"]',
                f'spamd.listen=["127.0.0.1:{self.spamd_port}"]',
                "greylist.delay=1s", "flux.allowlist=", "flux.dnstap_socket=dnstap.sock",
                "flux.rpz_path=flux.rpz", "flux.rpz_interval=1s", "store.commit_interval=20ms",
                f"log.file={self.log}", *self.extra_sets]
        cmd = self.args("serve")
        if os.geteuid() == 0:
            sets.append("daemon.user=root")  # a root start without a user to drop to refuses
        for s in sets:
            cmd += ["--set", s]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 20
        for port in (self.policy_port, self.http_port, self.spamd_port):
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError("greyflux exited: " + self.proc.stderr.read().decode())
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.time() > deadline:
                        raise RuntimeError(f"greyflux did not open port {port}")
                    time.sleep(0.02)
        while not os.path.exists(self.dnstap):
            if time.time() > deadline:
                raise RuntimeError("greyflux did not open its dnstap socket")
            time.sleep(0.02)
        return self

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None and self.proc.stderr:
            self.proc.stderr.close()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- the front doors, as their clients speak them ---------------------------------------

    def policy(self, n_new, n_retry):
        """n_new never-seen triplets (deferred); after the 1 s delay, n_retry of them retried
        (passed). Returns the replies' actions."""
        conn = Conn(port=self.policy_port)
        actions = []
        triplets = [dict(client_address=f"203.0.113.{i + 1}", client_name=f"mx{i}.sender.example",
                         sender=f"user{i}@sender{i}.example", recipient="bob@example.org")
                    for i in range(n_new)]
        for t in triplets:
            actions.append(conn.ask(**t).split()[0])
        time.sleep(1.1)  # greylist.delay=1s: a real retry after the delay
        for t in triplets[:n_retry]:
            actions.append(conn.ask(**t).split()[0])
        conn.close()
        return actions

    def comment_check(self, content, ip, author="Reader"):
        fields = {"api_key": self.key, "blog": BLOG, "user_ip": ip,
                  "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0",
                  "referrer": f"{BLOG}/2026/sourdough", "permalink": f"{BLOG}/2026/sourdough",
                  "comment_type": "comment", "comment_author": author,
                  "comment_author_email": f"{author.split()[0].lower()}@mail.example",
                  "comment_content": content}
        c = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=10)
        c.request("POST", "/1.1/comment-check", body=urllib.parse.urlencode(fields),
                  headers={"Content-Type": "application/x-www-form-urlencoded"})
        r = c.getresponse()
        body = r.read().decode()
        c.close()
        if r.status != 200:
            raise RuntimeError(f"comment-check: {r.status} {body}")
        return body

    def spamd(self, method, message, headers=()):
        out = exchange(self.spamd_port, spamd_request(method, message, headers)).decode()
        if not out.startswith("SPAMD/1.") or " 0 EX_OK" not in out.split("\r\n")[0]:
            raise RuntimeError(f"spamd {method}: {out[:200]}")
        return out

    def scan(self, message):
        """(is_spam, score) of a spamd CHECK."""
        out = self.spamd("CHECK", message)
        m = re.search(r"Spam: (True|False) ; (-?[\d.]+) /", out)
        if not m:
            raise RuntimeError(f"spamd CHECK: no Spam header in {out[:200]}")
        return m.group(1) == "True", float(m.group(2))

    def flux(self, rounds=FLUX_ROUNDS, pause_s=1.0):
        """A fast-flux name answered from ten new addresses in eight new networks per round (TTL
        falling from 60), a partner name answered by the same agents, a stable name beside them; rounds `pause_s` apart so that the name's
        churn has points over time."""
        tap = DnstapSender(self.dnstap)
        for r in range(rounds):
            # Eight new networks, two of them answering with a second address: the chart's
            # networks line grows slower than its addresses line.
            ips = [f"10.{10 * r + k % 8 + 1}.{k % 8}.{k + 7}" for k in range(10)]
            tap.answer(FLUX_NAME, ips, 60 - 5 * r)
            tap.answer(FLUX_PARTNER, ips[::-1], 60)
            tap.answer("www.stable.test", ["192.0.2.20"], 3600)
            if r + 1 < rounds:
                time.sleep(pause_s)
        tap.close()

    def feed(self):
        """Traffic through every door; returns what was sent, for the test's checks."""
        fed = {"policy": self.policy(24, 12)}
        fed["comments"] = [self.comment_check(
            f"Lovely post about bread number {i}, the photos of the crumb are very helpful.",
            COMMENT_HAM_IP, "Ann Baker") for i in range(6)]
        fed["comments"].append(self.comment_check(COMMENT_TEXT, COMMENT_SPAM_IP, "Sam Spammer"))
        for m in SPAM_TRAINING:
            self.spamd("TELL", m, ["Message-class: spam", "Set: local"])
        for m in HAM_TRAINING:
            self.spamd("TELL", m, ["Message-class: ham", "Set: local"])
        fed["mail"] = self.scan(MAIL)
        self.flux()
        return fed

    # --- the admin API, as a script calls it ------------------------------------------------

    def api(self, method, path, body=None):
        c = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=10)
        headers = {"Authorization": f"Bearer {self.token}"}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        c.request(method, f"/api/v1/{path}", body=data, headers=headers)
        r = c.getresponse()
        text = r.read().decode("utf-8", "replace")
        c.close()
        try:
            return r.status, json.loads(text)
        except ValueError:
            return r.status, text

    def wait_api(self, path, accept, timeout=20):
        """Polls GET path until accept(status, body); returns the last (status, body)."""
        deadline = time.time() + timeout
        while True:
            status, body = self.api("GET", path)
            if accept(status, body) or time.time() > deadline:
                return status, body
            time.sleep(0.1)
