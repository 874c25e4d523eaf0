#!/usr/bin/env python3
"""The decision history end to end on loopback: a real daemon with the comment API, the spamd
listener and the admin API; comment-checks and spamc scans show up in GET /api/v1/history, and
relearning a row through POST /api/v1/history/learn changes the next identical decision:
  - a comment-check answered `false`, relearned as spam: the same check answers `true`;
  - a mail spamc scores as spam, relearned as ham: its next scan is under the threshold;
  - a mail spamc scores as ham, relearned as spam: its next scan is at or over it;
  - bulk select (several ids at once), the same class twice (counted once), the rows survive a
    restart; bad input (unknown id, expired learn data, bad class, bad JSON, bad filters) is a
    4xx JSON error.

Usage: history_test.py GREYFLUX_BINARY    (exit 77 when spamc is not installed)
"""
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "akismet"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "daemon"))
from gfakismet import COMMENT, AkismetDaemon  # noqa: E402
from gfdaemon import Conn, free_port  # noqa: E402
from gfmail import ham_mail, spam_mail  # noqa: E402

BINARY = sys.argv[1]

# Words no trained message has: after a relearn they carry the class they were learned as.
FRESH_A = " ".join(f"zorblat{i} quenvik{i}" for i in range(30))
FRESH_B = " ".join(f"mirtoph{i} skavelun{i}" for i in range(30))


class HistoryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if shutil.which("spamc") is None:
            print("spamc is not installed (scripts/deps.sh test)")
            sys.exit(77)

    def setUp(self):
        self.spamd_port = free_port()
        self.d = AkismetDaemon(BINARY, sets=[
            f'spamd.listen=["127.0.0.1:{self.spamd_port}"]',
            "history.relearn_retention=1h"])
        self.d.sets += ["--set", f'spamd.model="{self.d.tmp}/mail.model"']
        self.d.start()
        self.key = self.d.add_key()
        self.auth = self.admin_token()

    def tearDown(self):
        self.d.stop(signal.SIGKILL)

    def admin_token(self):
        """A bearer token when the admin API has its auth gate (greyflux admin-token create)."""
        r = self.d.cli("admin-token", "create")
        if r.returncode != 0:
            return {}
        token = r.stdout.strip().split()[-1]
        return {"Authorization": f"Bearer {token}"}

    # --- HTTP helpers ---------------------------------------------------------------------------
    def api(self, method, path, body=None):
        c = http.client.HTTPConnection("127.0.0.1", self.d.http_port, timeout=20)
        headers = dict(self.auth)
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            headers["Content-Type"] = "application/json"
        c.request(method, path, body=data, headers=headers)
        r = c.getresponse()
        text = r.read().decode()
        c.close()
        self.assertEqual(r.getheader("Content-Type"), "application/json", text)
        return r.status, json.loads(text)

    def comment_check(self, fields):
        status, _, body = self.d.post("/1.1/comment-check", dict(fields, api_key=self.key))
        self.assertEqual(status, 200, body)
        return body

    def newest(self, **filters):
        q = urllib.parse.urlencode(dict(filters, limit=1))
        status, page = self.api("GET", f"/api/v1/history?{q}")
        self.assertEqual(status, 200, page)
        self.assertEqual(len(page["rows"]), 1, page)
        return page["rows"][0]

    def learn(self, ids, cls):
        return self.api("POST", "/api/v1/history/learn", {"ids": ids, "class": cls})

    def spamc(self, *args, message):
        p = subprocess.run(["spamc", "-d", "127.0.0.1", "-p", str(self.spamd_port), *args],
                           input=message.encode(), capture_output=True, timeout=30)
        return p.returncode, p.stdout.decode()

    def score(self, message):
        rc, out = self.spamc("-c", message=message)
        score, required = out.strip().split("/")
        return float(score), float(required)

    def train_mail(self, n=12):
        for i in range(n):
            for cls, mail in (("spam", spam_mail(i)), ("ham", ham_mail(i))):
                rc, out = self.spamc("-L", cls, message=mail)
                self.assertEqual(rc, 0, out)

    # --- tests ----------------------------------------------------------------------------------
    def test_comment_relearned_as_spam_flips_the_next_identical_check(self):
        fields = dict(COMMENT, comment_content="What a lovely recipe, I will bake it on Sunday.",
                      comment_author_email="reader@example.com")
        self.assertEqual(self.comment_check(fields), "false")
        row = self.newest(door="comments")
        self.assertEqual(row["verdict"], "ham")
        self.assertEqual(row["site"], COMMENT["blog"])
        self.assertEqual(row["client"], COMMENT["user_ip"])
        self.assertTrue(row["learnable"])
        self.assertIsNone(row["learned"])
        self.assertTrue(all({"symbol", "weight"} <= set(r) for r in row["reasons"]), row)
        status, one = self.api("GET", f"/api/v1/history/{row['id']}")
        self.assertEqual((status, one["id"], one["verdict"]), (200, row["id"], "ham"))

        status, res = self.learn([row["id"]], "spam")
        self.assertEqual((status, res), (200, {"learned": 1, "skipped": []}))
        self.assertEqual(self.comment_check(fields), "true")
        self.assertEqual(self.newest(door="comments")["verdict"], "spam")
        self.assertEqual(self.api("GET", f"/api/v1/history/{row['id']}")[1]["learned"], "spam")
        # The same class again is not learned twice.
        status, res = self.learn([row["id"]], "spam")
        self.assertEqual(status, 200, res)
        self.assertEqual(res, {"learned": 0, "skipped": [{"id": row["id"],
                                                          "reason": "already_learned"}]})

    def test_mail_relearned_from_history_moves_the_next_scan(self):
        self.train_mail()
        spammy = spam_mail(100, FRESH_A)
        score, required = self.score(spammy)
        self.assertGreaterEqual(score, required)
        spam_row = self.newest(door="mail")
        self.assertEqual((spam_row["verdict"], spam_row["via"]), ("spam", "spamd"))
        self.assertEqual(spam_row["summary"], "You won 100")
        self.assertIn("BAYES_", " ".join(r["symbol"] for r in spam_row["reasons"]))
        self.assertTrue(spam_row["learnable"])

        hammy = ham_mail(100, FRESH_B)
        score, required = self.score(hammy)
        self.assertLess(score, required)
        ham_row = self.newest(door="mail", verdict="ham")
        self.assertEqual(ham_row["summary"], "Notes 100")

        # Each row to the other class (bulk select: test_bulk_select_and_restart).
        status, res = self.learn([spam_row["id"]], "ham")
        self.assertEqual((status, res["learned"]), (200, 1), res)
        status, res = self.learn([ham_row["id"]], "spam")
        self.assertEqual((status, res["learned"]), (200, 1), res)
        score, required = self.score(spammy)
        self.assertLess(score, required, "the spam relearned as ham scans under the threshold")
        score, required = self.score(hammy)
        self.assertGreaterEqual(score, required, "the ham relearned as spam scans as spam")
        # spamc TELL of the same message sees the history's learn: nothing new to learn.
        rc, out = self.spamc("-L", "ham", message=spammy)
        self.assertIn("already", out.lower(), out)

    def test_bulk_select_and_restart(self):
        ids = []
        for i in range(3):
            self.comment_check(dict(COMMENT, comment_content=f"Bulk comment number {i} here."))
            ids.append(self.newest(door="comments")["id"])
        self.assertEqual(ids, sorted(ids))
        status, res = self.learn(ids + [ids[0]], "ham")  # a repeated id counts once
        self.assertEqual((status, res), (200, {"learned": 3, "skipped": []}))
        # Paging: newest first, `next` continues below.
        status, page = self.api("GET", "/api/v1/history?door=comments&limit=2")
        self.assertEqual([r["id"] for r in page["rows"]], [ids[2], ids[1]])
        self.assertEqual(page["next"], ids[1])
        status, page = self.api("GET", f"/api/v1/history?door=comments&limit=2&before={ids[1]}")
        self.assertEqual([r["id"] for r in page["rows"]], [ids[0]])
        self.assertIsNone(page["next"])
        # A restart keeps the rows, their learned class and their learn data.
        self.d.stop()
        self.d.start()
        self.auth = self.admin_token()
        status, row = self.api("GET", f"/api/v1/history/{ids[1]}")
        self.assertEqual((status, row["learned"], row["learnable"]), (200, "ham", True), row)
        status, res = self.learn([ids[1]], "ham")
        self.assertEqual(res["skipped"], [{"id": ids[1], "reason": "already_learned"}])
        self.comment_check(dict(COMMENT, comment_content="After the restart."))
        self.assertGreater(self.newest()["id"], ids[2])  # ids continue, never reused

    def test_bad_input_is_a_clear_json_error(self):
        self.comment_check(dict(COMMENT, comment_content="A comment to relearn."))
        row = self.newest(door="comments")
        for body, status, code in (
                ({"ids": [row["id"]], "class": "maybe"}, 400, "bad_class"),
                ({"ids": [], "class": "spam"}, 400, "bad_ids"),
                ({"ids": ["x"], "class": "spam"}, 400, "bad_ids"),
                ({"ids": [-3], "class": "spam"}, 400, "bad_ids"),
                ("{not json", 400, "bad_json"),
                ({"ids": [999999], "class": "spam"}, 404, "unknown_id")):
            got, res = self.learn(body["ids"], body["class"]) if isinstance(body, dict) else \
                self.api("POST", "/api/v1/history/learn", body)
            self.assertEqual((got, res["error"]), (status, code), res)
            self.assertTrue(res["message"], res)
        for path, status, code in (("/api/v1/history/abc", 400, "bad_id"),
                                   ("/api/v1/history/999999", 404, "unknown_id"),
                                   ("/api/v1/history?door=fax", 400, "bad_door"),
                                   ("/api/v1/history?limit=0", 400, "bad_limit"),
                                   ("/api/v1/history?before=x", 400, "bad_before")):
            got, res = self.api("GET", path)
            self.assertEqual((got, res["error"]), (status, code), res)
        # A greylist row has nothing to learn from.
        conn = Conn(port=self.d.port)
        conn.ask(client_address="192.0.2.77", sender="x@sender.example")
        conn.close()
        grey = self.newest(door="greylist")
        self.assertEqual((grey["verdict"], grey["learnable"]), ("defer", False))
        got, res = self.learn([grey["id"]], "spam")
        self.assertEqual((got, res["error"]), (422, "not_learnable"), res)
        # Mixed: one good, one unknown -> 200 with the unknown one skipped.
        got, res = self.learn([row["id"], 999998], "spam")
        self.assertEqual((got, res["learned"]), (200, 1), res)
        self.assertEqual(res["skipped"], [{"id": 999998, "reason": "unknown_id"}])

    def test_expired_learn_data(self):
        self.d.stop()
        self.d.sets += ["--set", "history.relearn_retention=1s"]
        self.d.start()
        self.auth = self.admin_token()
        self.comment_check(dict(COMMENT, comment_content="This one will expire soon."))
        row = self.newest(door="comments")
        deadline = time.time() + 10
        while self.newest(door="comments")["learnable"] and time.time() < deadline:
            time.sleep(0.2)
        got, res = self.learn([row["id"]], "spam")
        self.assertEqual((got, res["error"]), (410, "expired"), res)
        self.assertIn("relearn_retention", res["message"])


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
