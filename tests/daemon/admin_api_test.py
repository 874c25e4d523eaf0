#!/usr/bin/env python3
"""The admin REST API end to end on loopback (docs/api.md): a real daemon with the [http]
listener, tokens made by `greyflux admin-token`, and every answer checked over HTTP.

- no token -> 401; a bad bearer token -> 401, and after admin.login_burst failures -> 429 with
  Retry-After, even for the right token from that address;
- login -> 200 with the CSRF token and a gf_session cookie (HttpOnly, SameSite=Strict, Path=/,
  Max-Age; Secure only behind TLS, i.e. X-Forwarded-Proto: https); a cookie-authenticated change
  without X-CSRF-Token -> 403, with it -> 200; bearer calls need no CSRF; logout ends the session;
- greylist search / delete and whitelist add / list / remove round trips, and a client the API
  whitelisted passes the policy server at once, while an unlisted one is deferred;
- revoking the token ends its session and its bearer use at once; the token never reaches the
  log; the start-up warning appears only when the listener binds beyond loopback.
Usage: admin_api_test.py path/to/greyflux
"""
import http.client
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from gfdaemon import Conn, Daemon, free_port  # noqa: E402

BINARY = sys.argv.pop(1) if len(sys.argv) > 1 else "build/release/greyflux"
BURST = 3


def call(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    data = json.dumps(body).encode() if body is not None else None
    hdrs = dict(headers or {})
    if data is not None:
        hdrs["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=hdrs)
    resp = conn.getresponse()
    raw = resp.read()
    conn.close()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode(errors="replace")
    return resp.status, parsed, resp


class AdminApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.http = free_port()
        cls.d = Daemon(BINARY, sets=[f'http.listen=["127.0.0.1:{cls.http}"]',
                                     f"admin.login_burst={BURST}", 'greylist.delay="1h"'])
        made = cls.d.cli("admin-token", "create", "--name", "ci")
        assert made.returncode == 0, made.stderr
        cls.token = made.stdout.strip()
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def bearer(self, token=None):
        return {"Authorization": "Bearer " + (token or self.token)}

    def test_a_token_cli_prints_once_and_lists_by_id(self):
        self.assertTrue(self.token.startswith("gfa_"))
        self.assertEqual(len(self.token), 47)
        listed = self.d.cli("admin-token", "list")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertIn("\tci\n", listed.stdout)
        self.assertNotIn(self.token, listed.stdout)
        bad = self.d.cli("admin-token", "create", "--name", "has space")
        self.assertNotEqual(bad.returncode, 0)

    def test_b_no_token_is_401(self):
        for method, path in [("GET", "/api/v1/greylist"), ("GET", "/api/v1/whitelist"),
                             ("DELETE", "/api/v1/greylist"), ("GET", "/api/v1/session"),
                             ("GET", "/api/v1/anything")]:
            status, body, resp = call(self.http, method, path)
            self.assertEqual(status, 401, path)
            self.assertEqual(body["error"], "unauthenticated")
            self.assertEqual(resp.getheader("Content-Type"), "application/json")
        # The Akismet API stays keyed by its own API keys, not by admin tokens.
        status, body, _ = call(self.http, "POST", "/1.1/verify-key")
        self.assertNotEqual(status, 401)

    def test_c_bearer_works_without_csrf(self):
        status, body, _ = call(self.http, "GET", "/api/v1/session", headers=self.bearer())
        self.assertEqual(status, 200, body)
        self.assertEqual(body["via"], "bearer")
        status, body, _ = call(self.http, "POST", "/api/v1/whitelist",
                               {"list": "recipient", "entry": "postmaster@"}, self.bearer())
        self.assertEqual(status, 200, body)
        status, body, _ = call(self.http, "DELETE", "/api/v1/whitelist",
                               {"list": "recipient", "entry": "postmaster@"}, self.bearer())
        self.assertEqual(status, 200, body)
        status, body, _ = call(self.http, "DELETE", "/api/v1/whitelist",
                               {"list": "recipient", "entry": "postmaster@"}, self.bearer())
        self.assertEqual(status, 404, body)
        status, body, _ = call(self.http, "POST", "/api/v1/whitelist", {"list": "x"},
                               self.bearer())
        self.assertEqual(status, 400, body)
        self.assertEqual(body["error"], "bad_request")

    def test_d_login_cookie_and_csrf(self):
        status, body, resp = call(self.http, "POST", "/api/v1/login", {"token": self.token})
        self.assertEqual(status, 200, body)
        csrf = body["csrf"]
        self.assertGreater(body["expires"], 0)
        set_cookie = resp.getheader("Set-Cookie")
        attrs = [a.strip() for a in set_cookie.split(";")]
        self.assertTrue(attrs[0].startswith("gf_session=gfs_"), set_cookie)
        for flag in ("HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"):
            self.assertIn(flag, attrs)
        self.assertNotIn("Secure", attrs)  # plain HTTP on loopback
        cookie = {"Cookie": attrs[0]}

        status, body, _ = call(self.http, "GET", "/api/v1/session", headers=cookie)
        self.assertEqual(status, 200)
        self.assertEqual(body["csrf"], csrf)
        self.assertEqual(body["via"], "cookie")
        change = {"list": "client", "entry": "198.51.100.77"}
        status, body, _ = call(self.http, "POST", "/api/v1/whitelist", change, cookie)
        self.assertEqual(status, 403)
        self.assertEqual(body["error"], "csrf")
        status, body, _ = call(self.http, "POST", "/api/v1/whitelist", change,
                               {**cookie, "X-CSRF-Token": "wrong"})
        self.assertEqual(status, 403)
        status, body, _ = call(self.http, "POST", "/api/v1/whitelist", change,
                               {**cookie, "X-CSRF-Token": csrf})
        self.assertEqual(status, 200, body)
        status, body, _ = call(self.http, "DELETE", "/api/v1/whitelist", change,
                               {**cookie, "X-CSRF-Token": csrf})
        self.assertEqual(status, 200, body)

        # Behind a TLS proxy the cookie is Secure.
        status, _, resp = call(self.http, "POST", "/api/v1/login", {"token": self.token},
                               {"X-Forwarded-Proto": "https"})
        self.assertEqual(status, 200)
        self.assertIn("Secure", [a.strip() for a in resp.getheader("Set-Cookie").split(";")])

        # Logout ends the session (and clears the cookie).
        status, _, _ = call(self.http, "POST", "/api/v1/logout", headers=cookie)
        self.assertEqual(status, 403)  # a change: needs the CSRF token too
        status, _, resp = call(self.http, "POST", "/api/v1/logout",
                               headers={**cookie, "X-CSRF-Token": csrf})
        self.assertEqual(status, 200)
        self.assertIn("Max-Age=0", resp.getheader("Set-Cookie"))
        status, body, resp = call(self.http, "GET", "/api/v1/session", headers=cookie)
        self.assertEqual(status, 401)
        self.assertIn("Max-Age=0", resp.getheader("Set-Cookie"))

    def test_e_greylist_search_delete_and_whitelist_honoured(self):
        policy = Conn(self.d.port)
        try:
            first = policy.ask(client_address="203.0.113.5", sender="s@a.example",
                               recipient="r@b.example")
            self.assertIn("action=DEFER", first)
            status, body, _ = call(self.http, "GET",
                                   "/api/v1/greylist?client=203.0.113.9&recipient=r%40b.example",
                                   headers=self.bearer())
            self.assertEqual(status, 200, body)
            triplets = [e for e in body["entries"] if e["kind"] == "triplet"]
            self.assertEqual(len(triplets), 1, body)
            t = triplets[0]
            self.assertEqual((t["network"], t["sender"], t["recipient"], t["state"]),
                             ("203.0.113.0/24", "s@a.example", "r@b.example", "waiting"))
            status, body, _ = call(self.http, "GET", "/api/v1/greylist?client=192.0.2.200",
                                   headers=self.bearer())
            self.assertEqual(body["entries"], [])
            status, body, _ = call(self.http, "GET", "/api/v1/greylist?limit=0",
                                   headers=self.bearer())
            self.assertEqual(status, 400)

            status, body, _ = call(self.http, "DELETE", "/api/v1/greylist", {"key": t["key"]},
                                   self.bearer())
            self.assertEqual(status, 200, body)
            status, body, _ = call(self.http, "DELETE", "/api/v1/greylist", {"key": t["key"]},
                                   self.bearer())
            self.assertEqual(status, 404, body)
            status, body, _ = call(self.http, "DELETE", "/api/v1/greylist",
                                   {"key": "w:client\x1f1.2.3.4"}, self.bearer())
            self.assertEqual(status, 400, body)
            status, body, _ = call(self.http, "GET", "/api/v1/greylist?client=203.0.113.5",
                                   headers=self.bearer())
            self.assertEqual([e for e in body["entries"] if e["kind"] == "triplet"], [])

            # Whitelisted through the API: the next request passes at once (delay is 1h).
            status, body, _ = call(self.http, "POST", "/api/v1/whitelist",
                                   {"list": "client", "entry": "203.0.113.5"}, self.bearer())
            self.assertEqual(status, 200, body)
            status, body, _ = call(self.http, "GET", "/api/v1/whitelist", headers=self.bearer())
            self.assertIn({"list": "client", "source": "admin", "entry": "203.0.113.5"},
                          body["entries"])
            passed = policy.ask(client_address="203.0.113.5", sender="s@a.example",
                                recipient="r@b.example")
            self.assertIn("action=DUNNO", passed)
            other = policy.ask(client_address="203.0.114.5", sender="s@a.example",
                               recipient="r@b.example")
            self.assertIn("action=DEFER", other)
            # The admin socket's CLI sees the same entry (one implementation).
            listed = self.d.cli("whitelist", "list")
            self.assertIn("client\tadmin\t203.0.113.5", listed.stdout)
        finally:
            policy.close()

    def test_f_revoked_token_ends_sessions_and_bearer(self):
        made = self.d.cli("admin-token", "create", "--name", "temp")
        self.assertEqual(made.returncode, 0, made.stderr)
        temp = made.stdout.strip()
        status, body, resp = call(self.http, "POST", "/api/v1/login", {"token": temp})
        self.assertEqual(status, 200)
        cookie = {"Cookie": resp.getheader("Set-Cookie").split(";")[0]}
        self.assertEqual(call(self.http, "GET", "/api/v1/whitelist", headers=cookie)[0], 200)
        revoked = self.d.cli("admin-token", "revoke", "temp")
        self.assertEqual(revoked.returncode, 0, revoked.stderr)
        self.assertEqual(call(self.http, "GET", "/api/v1/whitelist", headers=cookie)[0], 401)
        self.assertEqual(call(self.http, "GET", "/api/v1/whitelist",
                              headers=self.bearer(temp))[0], 401)
        self.assertNotIn(temp, self.d.log_text())
        self.assertNotIn(self.token, self.d.log_text())
        self.assertNotIn("beyond loopback", self.d.log_text())


class RateLimitTest(unittest.TestCase):
    """A daemon of its own, so the failures counted are exactly these."""

    def test_bad_tokens_are_rate_limited_then_429_even_for_the_right_one(self):
        port = free_port()
        d = Daemon(BINARY, sets=[f'http.listen=["127.0.0.1:{port}"]', f"admin.login_burst={BURST}"])
        made = d.cli("admin-token", "create")
        self.assertEqual(made.returncode, 0, made.stderr)
        token = made.stdout.strip()
        try:
            d.start()
            self.assertEqual(call(port, "GET", "/api/v1/greylist",
                                  headers={"Authorization": "Bearer " + token})[0], 200)
            bad = {"Authorization": "Bearer gfa_" + "A" * 43}
            for _ in range(BURST - 1):
                self.assertEqual(call(port, "GET", "/api/v1/greylist", headers=bad)[0], 401)
            status, body, _ = call(port, "POST", "/api/v1/login", {"token": "gfa_wrong"})
            self.assertEqual(status, 401)  # a failed login counts the same
            status, body, resp = call(port, "GET", "/api/v1/greylist", headers=bad)
            self.assertEqual(status, 429)
            self.assertEqual(body["error"], "rate_limited")
            self.assertIn(int(resp.getheader("Retry-After")), range(1, 61))
            # The right token from that address too, and a login, until the minute is over.
            self.assertEqual(call(port, "GET", "/api/v1/greylist",
                                  headers={"Authorization": "Bearer " + token})[0], 429)
            self.assertEqual(call(port, "POST", "/api/v1/login", {"token": token})[0], 429)
            self.assertTrue(d.wait_log("answering 429"))
        finally:
            d.stop()


class LoopbackWarningTest(unittest.TestCase):
    def test_warns_when_listening_beyond_loopback(self):
        port = free_port()
        d = Daemon(BINARY, sets=[f'http.listen=["0.0.0.0:{port}"]'])
        try:
            d.start()
            self.assertTrue(d.wait_log("beyond loopback", timeout=5))
            self.assertEqual(d.log_text().count("beyond loopback"), 1)
        finally:
            d.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
