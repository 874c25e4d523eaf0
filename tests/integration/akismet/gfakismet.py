"""A greyflux daemon with the comment API on a free loopback port, and small HTTP helpers."""
import http.client
import os
import socket
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "daemon"))
from gfdaemon import Daemon, free_port  # noqa: E402


class AkismetDaemon(Daemon):
    def __init__(self, binary, sets=(), **kw):
        self.http_port = free_port()
        super().__init__(binary, sets=[f'http.listen=["127.0.0.1:{self.http_port}"]',
                                       "store.sync=false", "store.commit_interval=20ms", *sets],
                         **kw)

    def start(self, *args):
        super().start(*args)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.http_port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("comment API did not become ready")

    def add_key(self, blog="https://blog.example"):
        r = self.cli("keys", "add", "--blog", blog)
        if r.returncode != 0:
            raise RuntimeError("keys add failed: " + r.stderr)
        return r.stdout.strip()

    def wait_committed(self, key, timeout=20):
        """Posts one more comment-check and waits (bounded) until `greyflux akismet show` finds
        it in the LMDB file: the store commits in order, so everything written before it is
        committed too. The wait to use before kill -9, instead of sleeping past the interval."""
        fields = dict(COMMENT, api_key=key, comment_content="commit marker")
        guid = self.post("/1.1/comment-check", fields)[1]["x-akismet-guid"]
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.cli("akismet", "show", guid).returncode == 0:
                return True
            time.sleep(0.05)
        return False

    def conn(self, timeout=10):
        return http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=timeout)

    def post(self, path, fields=None, body=None, host=None, conn=None, headers=None):
        """POSTs a form; returns (status, headers dict with lower-case names, body text)."""
        own = conn is None
        c = conn or self.conn()
        if body is None:
            body = urllib.parse.urlencode(fields or {})
        h = {"Content-Type": "application/x-www-form-urlencoded"}
        if host:
            h["Host"] = host
        h.update(headers or {})
        c.request("POST", path, body=body, headers=h)
        r = c.getresponse()
        data = r.read().decode("utf-8", "replace")
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        if own:
            c.close()
        return r.status, hdrs, data


COMMENT = {
    "blog": "https://blog.example",
    "user_ip": "192.0.2.10",
    "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
    "referrer": "https://blog.example/2026/bread",
    "permalink": "https://blog.example/2026/bread",
    "comment_type": "comment",
    "comment_author": "Ann Baker",
    "comment_author_email": "ann@example.org",
    "comment_content": "I tried the rye version of this bread and it came out well, thank you.",
}


def run(cmd, env=None, timeout=120):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
