#!/usr/bin/env python3
"""The comment API end to end on loopback: Akismet's exact replies, key places, keep-alive,
proxies, usage endpoints, bad input (413, broken form encoding, invalid UTF-8, a 1 MB comment,
missing fields, slow clients), kill -9 without losing stored checks or feedback.

Usage: http_test.py GREYFLUX_BINARY
"""
import json
import select
import signal
import socket
import sys
import time
import unittest
import urllib.parse

from gfakismet import COMMENT, AkismetDaemon

BINARY = sys.argv[1]


class HttpTest(unittest.TestCase):
    def setUp(self):
        self.d = AkismetDaemon(BINARY, sets=["http.request_timeout=1s", "http.max_body=1200KiB",
                                             "akismet.min_training=2"]).start()
        self.key = self.d.add_key()

    def tearDown(self):
        self.d.stop(signal.SIGKILL)

    def check(self, **extra):
        fields = dict(COMMENT, api_key=self.key)
        fields.update(extra)
        return self.d.post("/1.1/comment-check", fields)

    def test_verify_key_and_error_replies_are_akismets(self):
        self.assertEqual(self.d.post("/1.1/verify-key", {"key": self.key, "blog": "b"})[2], "valid")
        st, h, body = self.d.post("/1.1/verify-key", {"key": "abcdefabcdef", "blog": "b"})
        self.assertEqual((st, body), (200, "invalid"))
        self.assertIn("x-akismet-debug-help", h)
        st, h, body = self.d.post("/1.1/comment-check", {"blog": "b", "user_ip": "192.0.2.1"})
        self.assertEqual((st, body, h["x-akismet-debug-help"]), (200, "invalid",
                                                                 'Empty "api_key" value'))
        st, h, body = self.d.post("/1.1/comment-check", {"api_key": self.key, "user_ip": "1.2.3.4"})
        self.assertEqual((st, body), (200, "Missing required field: blog."))
        st, h, body = self.d.post("/1.1/submit-spam", {"api_key": self.key, "blog": "b"})
        self.assertEqual(body, "Missing required field: user_ip.")
        st, h, body = self.d.post("/1.1/nothing", {})
        self.assertEqual(st, 404)

    def test_check_verdicts_guid_and_pro_tip(self):
        st, h, body = self.check(comment_author="viagra-test-123")
        self.assertEqual((st, body, h.get("x-akismet-pro-tip")), (200, "true", "discard"))
        self.assertRegex(h["x-akismet-guid"], r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-")
        st, h, body = self.check()
        self.assertEqual(body, "false")
        self.assertIn("x-akismet-guid", h)
        self.assertNotIn("x-akismet-pro-tip", h)
        st, h, body = self.check(comment_author_email="akismet-guaranteed-spam@example.com")
        self.assertEqual(body, "true")
        st, h, body = self.check(comment_author="akismet-guaranteed-spam", user_role="administrator")
        self.assertEqual(body, "true")  # the spam hook wins, as documented order
        st, h, body = self.check(user_role="administrator", comment_content="http://a.example "
                                 "http://b.example http://c.example http://d.example")
        self.assertEqual(body, "false")
        # Cold start: heuristics alone, reasons explained.
        st, h, body = self.check(comment_content="[url=http://pills.example]pills[/url] "
                                 "http://a.example http://b.example http://c.example",
                                 comment_author="www.pills.example")
        self.assertEqual(body, "true")
        self.assertIn("BBCODE_URL", h["x-greyflux-reasons"])
        self.assertIn("AUTHOR_HAS_LINK", h["x-greyflux-reasons"])
        # The stored check can be reviewed.
        self.d.stop()
        out = self.d.cli("akismet", "show", h["x-akismet-guid"])
        self.assertEqual(out.returncode, 0, out.stderr)
        rec = json.loads(out.stdout)
        self.assertEqual(rec["verdict"], "spam")
        self.assertEqual(rec["fields"]["comment_author"], "www.pills.example")
        self.assertIn("BBCODE_URL", rec["reasons"])

    def test_key_in_host_with_and_without_port_and_through_a_proxy(self):
        fields = dict(COMMENT, comment_author="viagra-test-123")
        for host in (f"{self.key}.rest.akismet.com", f"{self.key}.localhost:{self.d.http_port}"):
            self.assertEqual(self.d.post("/1.1/comment-check", fields, host=host)[2], "true")
        # Absolute URI, as a client sends it to an HTTP proxy.
        body = urllib.parse.urlencode(fields)
        c = self.d.conn()
        c.request("POST", f"http://{self.key}.rest.akismet.com/1.1/comment-check", body=body,
                  headers={"Host": f"{self.key}.rest.akismet.com",
                           "Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(c.getresponse().read(), b"true")
        c.close()

    def test_keep_alive_serves_many_requests_on_one_connection(self):
        c = self.d.conn()
        for _ in range(50):
            st, h, body = self.d.post("/1.1/comment-check", dict(COMMENT, api_key=self.key), conn=c)
            self.assertEqual((st, body), (200, "false"))
        c.close()

    def test_usage_limit_and_key_sites(self):
        for _ in range(3):
            self.check()
        self.check(blog="https://other.example", comment_author="viagra-test-123")
        self.d.post("/1.1/submit-ham", dict(COMMENT, api_key=self.key))
        c = self.d.conn()
        c.request("GET", f"/1.2/usage-limit?api_key={self.key}")
        usage = json.loads(c.getresponse().read())
        self.assertEqual(usage, {"limit": "none", "usage": 5, "percentage": "0.00",
                                 "throttled": False})
        c.request("GET", f"/1.2/key-sites?api_key={self.key}")
        sites = json.loads(c.getresponse().read())
        month = [k for k in sites if k not in ("limit", "offset", "total")][0]
        self.assertEqual(sites["total"], 2)
        top = sites[month][0]
        self.assertEqual((top["site"], top["api_calls"], top["ham"], top["false_positives"]),
                         ("https://blog.example", "4", "3", "1"))
        c.request("GET", f"/1.2/key-sites?api_key={self.key}&format=csv&order=spam")
        csv = c.getresponse().read().decode()
        self.assertTrue(csv.startswith(f"Active sites for {self.key} during {month}"), csv)
        self.assertIn("https://other.example,1,1,0,0,0,false", csv)
        c.close()

    def test_key_sites_month_limit_and_offset(self):
        # Three sites with 3, 2 and 1 calls: listed by calls, paged by limit and offset.
        for n, blog in enumerate(("https://a.example", "https://b.example", "https://c.example")):
            for i in range(3 - n):
                self.check(blog=blog, comment_content=f"comment {i} on {blog} about rye bread")
        c = self.d.conn()

        def sites(query):
            c.request("GET", f"/1.2/key-sites?api_key={self.key}{query}")
            r = c.getresponse()
            self.assertEqual(r.status, 200)
            return json.loads(r.read())

        full = sites("")
        month = [k for k in full if k not in ("limit", "offset", "total")][0]
        self.assertRegex(month, r"^\d{4}-\d{2}$")
        self.assertEqual((full["limit"], full["offset"], full["total"]), (500, 0, 3))
        order = [s["site"] for s in full[month]]
        self.assertEqual(order, ["https://a.example", "https://b.example", "https://c.example"])
        self.assertEqual([s["api_calls"] for s in full[month]], ["3", "2", "1"])
        self.assertEqual(sites(f"&month={month}"), full)
        page = sites("&limit=1&offset=1")
        self.assertEqual((page["limit"], page["offset"], page["total"]), (1, 1, 3))
        self.assertEqual([s["site"] for s in page[month]], order[1:2])
        self.assertEqual([s["site"] for s in sites("&limit=2")[month]], order[:2])
        self.assertEqual([s["site"] for s in sites("&offset=2")[month]], order[2:])
        past = sites("&offset=5")
        self.assertEqual((past[month], past["total"]), ([], 3))
        empty = sites("&month=2020-01")
        self.assertEqual((empty["2020-01"], empty["total"]), ([], 0))
        self.assertNotIn(month, empty)
        c.request("GET", f"/1.2/key-sites?api_key={self.key}&format=csv&limit=1&offset=1")
        csv = c.getresponse().read().decode().splitlines()
        self.assertIn("(limit:1, offset: 1, total: 3)", csv[0])
        self.assertEqual(len(csv), 3, csv)  # title, column names, one site
        self.assertTrue(csv[2].startswith(order[1] + ",2,"), csv)
        c.close()

    def test_wordpress_plugin_settings_calls(self):
        # Akismet 5.0 (WordPress 6.1) keeps only [a-f0-9] of a typed key, saves it only when
        # get-subscription says "active", and fills its statistics card from get-stats.
        self.assertRegex(self.key, r"^[0-9a-f]{12}$")
        c = self.d.conn()
        c.request("GET", "/1.1/test", headers={"Host": "rest.akismet.com"})
        r = c.getresponse()
        self.assertEqual((r.status, r.read().decode()), (200, "connected"))
        c.close()
        blog = {"key": self.key, "blog": "https://blog.example"}
        st, h, body = self.d.post("/1.1/get-subscription", blog)
        self.assertEqual((st, h["content-type"]), (200, "application/json; charset=utf-8"))
        sub = json.loads(body)
        self.assertEqual((sub["status"], sub["limit_reached"]), ("active", False))
        st, h, body = self.d.post("/1.1/get-subscription", {"key": "0123456789ab", "blog": "b"})
        self.assertEqual(body, "invalid")
        self.check(comment_author="viagra-test-123")
        self.check()
        self.check()
        self.d.post("/1.1/submit-ham", dict(COMMENT, api_key=self.key))
        self.check(blog="https://other.example", comment_author="viagra-test-123")
        for frm in ("6-months", "all"):
            st, h, body = self.d.post("/1.1/get-stats", dict(blog, **{"from": frm}))
            self.assertEqual(json.loads(body), {"spam": 1, "ham": 2, "missed_spam": 0,
                                                "false_positives": 1, "accuracy": 66.67}, frm)

    def test_revoked_key_is_invalid(self):
        self.assertEqual(self.d.cli("keys", "revoke", self.key).returncode, 0)
        self.assertEqual(self.d.post("/1.1/verify-key", {"key": self.key, "blog": "b"})[2],
                         "invalid")
        listing = self.d.cli("keys", "list").stdout
        self.assertIn(f"{self.key}\thttps://blog.example", listing)
        self.assertIn("revoked", listing)

    def test_bad_input(self):
        # Over the body limit: 413, and the server keeps serving.
        st, h, body = self.d.post("/1.1/comment-check", body="a" * (1300 * 1024))
        self.assertEqual(st, 413)
        # Broken form encoding: Akismet-style invalid with a reason.
        st, h, body = self.d.post("/1.1/comment-check", body=f"api_key={self.key}&blog=%ZZ")
        self.assertEqual((st, body), (200, "invalid"))
        self.assertIn("decode", h["x-akismet-debug-help"])
        # Invalid UTF-8 is repaired, not refused; Latin-1 blogs are read as Latin-1.
        raw = f"api_key={self.key}&blog=b&user_ip=192.0.2.1&user_agent=x&referrer=y" \
              "&comment_content=caf%E9+%FF%FE"
        st, h, body = self.d.post("/1.1/comment-check", body=raw)
        self.assertEqual((st, body), (200, "false"))
        st, h, body = self.d.post("/1.1/comment-check", body=raw + "&blog_charset=ISO-8859-1")
        self.assertEqual((st, body), (200, "false"))
        # A 1 MB comment is checked.
        st, h, body = self.check(comment_content="word " * 200000)
        self.assertEqual(st, 200)
        self.assertIn(body, ("true", "false"))
        # Garbage instead of HTTP: 400 on that connection only.
        s = socket.create_connection(("127.0.0.1", self.d.http_port), timeout=5)
        s.sendall(b"\x16\x03\x01 not http at all\r\n\r\n")
        self.assertTrue(s.recv(100).startswith(b"HTTP/1.1 400"))
        s.close()
        self.assertEqual(self.check()[2], "false")

    def raw(self, data, expect_answers, pause=None, then=b""):
        """Sends raw bytes, reads until `expect_answers` HTTP answers have fully arrived or the
        server closes; returns the bytes. With `pause`, the server must not answer the partial
        request within `pause` seconds (a bounded wait, asserted), and `then` is sent after."""
        s = socket.create_connection(("127.0.0.1", self.d.http_port), timeout=5)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(data)
        if pause is not None:
            readable, _, _ = select.select([s], [], [], pause)
            self.assertEqual(readable, [], "answered before the request was complete")
            s.sendall(then)
        got = b""
        while got.count(b"HTTP/1.") < expect_answers or not got.endswith((b"true", b"false",
                                                                          b"valid", b"invalid")):
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        s.close()
        return got

    def form_request(self, fields, version="1.1", extra=""):
        body = urllib.parse.urlencode(fields).encode()
        head = (f"POST /1.1/comment-check HTTP/{version}\r\nHost: x\r\n"
                f"Content-Type: application/x-www-form-urlencoded\r\n{extra}"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        return head, body

    def test_pipelined_split_http10_and_expect_continue(self):
        fields = dict(COMMENT, api_key=self.key)
        head, body = self.form_request(fields)
        # Two requests in one segment: two answers, in order, on one connection.
        got = self.raw(head + body + head + body, 2)
        self.assertEqual(got.count(b"HTTP/1.1 200 OK"), 2, got)
        self.assertEqual(got.count(b"X-akismet-guid:"), 2, got)
        # A request split mid-body over two segments is waited for and answered.
        got = self.raw(head + body[:10], 1, pause=0.2, then=body[10:])
        self.assertTrue(got.startswith(b"HTTP/1.1 200 OK"), got)
        self.assertTrue(got.endswith(b"false"), got)
        # HTTP/1.0 without keep-alive: a 1.0 answer, and the server closes the connection.
        head10, body10 = self.form_request(fields, version="1.0")
        got = self.raw(head10 + body10, 1)
        self.assertTrue(got.startswith(b"HTTP/1.0 200 OK"), got)
        self.assertNotIn(b"Connection: close", got)  # 1.0 closes by default
        # Expect: 100-continue: the interim answer comes before the body is sent.
        headc, bodyc = self.form_request(fields, extra="Expect: 100-continue\r\n")
        s = socket.create_connection(("127.0.0.1", self.d.http_port), timeout=5)
        s.sendall(headc)
        self.assertTrue(s.recv(100).startswith(b"HTTP/1.1 100 Continue"))
        s.sendall(bodyc)
        got = b""
        while not got.endswith((b"true", b"false")):
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        self.assertTrue(got.startswith(b"HTTP/1.1 200 OK"), got)
        s.close()
        # A header value that would split the answer is kept on one line.
        st, h, body = self.d.post("/1.1/comment-check",
                                  body=f"api_key={self.key}&blog=b&%0D%0AX-Injected:+1=%ZZ")
        self.assertEqual((st, body), (200, "invalid"))
        self.assertIn("X-Injected", h["x-akismet-debug-help"])
        self.assertNotIn("x-injected", h)

    def test_slow_client_times_out_while_others_are_served(self):
        slow = socket.create_connection(("127.0.0.1", self.d.http_port), timeout=5)
        slow.sendall(b"POST /1.1/comment-check HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab")
        t0 = time.time()
        while time.time() - t0 < 0.5:
            self.assertEqual(self.check()[2], "false")
        answer = slow.recv(100)
        self.assertTrue(answer.startswith(b"HTTP/1.1 408"), answer)
        self.assertLess(time.time() - t0, 4)
        slow.close()
        idle = socket.create_connection(("127.0.0.1", self.d.http_port), timeout=5)
        idle.sendall(b"POST /1.1/verify-key HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nkey")
        self.assertIn(b"invalid", idle.recv(1000))
        idle.close()

    def test_kill_9_keeps_checks_and_feedback(self):
        guids = [self.check(comment_content=f"comment number {i} about bread baking")[1]
                 ["x-akismet-guid"] for i in range(20)]
        spam = dict(COMMENT, api_key=self.key, comment_author="Seller",
                    comment_content="cheap replica watches and pills for sale, visit our shop")
        for i in range(3):
            self.assertEqual(self.d.post("/1.1/submit-spam", dict(spam, user_ip=f"203.0.113.{i}"))[2],
                             "Thanks for making the web a better place.")
            self.assertEqual(self.d.post("/1.1/submit-ham", dict(COMMENT, api_key=self.key,
                                         user_ip=f"192.0.2.{50 + i}",
                                         comment_content=f"Thanks for the recipe number {i}"))[2],
                             "Thanks for making the web a better place.")
        # is_test never trains.
        self.d.post("/1.1/submit-spam", dict(spam, is_test="1"))
        self.assertTrue(self.d.wait_committed(self.key))  # everything above is committed
        self.d.stop(signal.SIGKILL)
        for g in guids:
            self.assertEqual(self.d.cli("akismet", "show", g).returncode, 0, g)
        self.d.start()
        self.assertTrue(self.d.wait_log("model trained on 3 spam and 3 ham (6 replayed"),
                        self.d.log_text()[-2000:])
        st, h, body = self.d.post("/1.1/comment-check", dict(spam, user_ip="198.51.100.200",
                                                             comment_author_email="x@y.example"))
        self.assertEqual(body, "true")
        self.assertIn("TEXT_CLASSIFIER", h["x-greyflux-reasons"])
        self.assertIn("TEXT_REPORTED_SPAM", h["x-greyflux-reasons"])

    def test_site_models_survive_kill_9(self):
        """akismet.site_models from the config: a site's own feedback shows as SITE_CLASSIFIER
        on that site only, and survives kill -9 (replayed from the training log)."""
        self.d.stop(signal.SIGKILL)
        self.d = AkismetDaemon(BINARY, sets=["akismet.min_training=2", "akismet.site_models=true",
                                             "akismet.max_site_models=5"]).start()
        self.key = self.d.add_key()
        site_a = dict(COMMENT, api_key=self.key, blog="https://a.example")
        texts = ["earn bitcoin daily with our trading signals on telegram",
                 "crypto investment group, guaranteed bitcoin profit every day",
                 "my bitcoin mentor doubled my crypto savings, message him"]
        for i, t in enumerate(texts):
            self.d.post("/1.1/submit-spam", dict(site_a, user_ip=f"203.0.113.{i}",
                                                 comment_content=t))
            self.d.post("/1.1/submit-ham", dict(site_a, user_ip=f"192.0.2.{60 + i}",
                                                comment_content=f"the rye bread recipe {i} "
                                                "worked, lovely crust and crumb"))
        probe = "bitcoin trading signals, daily crypto profit guaranteed"

        def reasons(blog, ip):
            h = self.d.post("/1.1/comment-check", dict(COMMENT, api_key=self.key, blog=blog,
                                                       user_ip=ip, comment_content=probe))[1]
            return h["x-greyflux-reasons"]

        before = reasons("https://a.example", "198.51.100.1")
        self.assertIn("SITE_CLASSIFIER", before)
        self.assertNotIn("SITE_CLASSIFIER", reasons("https://b.example", "198.51.100.2"))
        self.assertTrue(self.d.wait_committed(self.key))  # the feedback is committed
        self.d.stop(signal.SIGKILL)  # no snapshot was written: all of it is in the log only
        self.d.start()
        self.assertTrue(self.d.wait_log("1 site models (at most 5)"), self.d.log_text()[-2000:])
        after = reasons("https://a.example", "198.51.100.3")
        site = [w for w in after.split() if w.startswith(("SITE_CLASSIFIER", "TEXT_CLASSIFIER"))]
        self.assertEqual(site, [w for w in before.split()
                                if w.startswith(("SITE_CLASSIFIER", "TEXT_CLASSIFIER"))])


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
