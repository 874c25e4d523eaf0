#!/usr/bin/env python3
"""Real Akismet clients against a running greyflux: verify-key valid and invalid, comment-check
spam and ham, submit-spam, submit-ham, and a check of the reported comment afterwards.

Usage: clients_test.py GREYFLUX_BINARY CLIENT [NPM_DIR]
  CLIENT: akismet-api | akismet (npm, installed into NPM_DIR by setup.sh) | net-akismet (Debian
  libnet-akismet-perl, through http_proxy).
"""
import json
import os
import sys
import unittest

from gfakismet import AkismetDaemon, run

HERE = os.path.dirname(os.path.abspath(__file__))
BINARY, CLIENT = sys.argv[1], sys.argv[2]
NPM_DIR = sys.argv[3] if len(sys.argv) > 3 else ""
BAD_KEY = "abcdefabcdef"
THANKS = "Thanks for making the web a better place."


class ClientTest(unittest.TestCase):
    def setUp(self):
        self.d = AkismetDaemon(BINARY).start()
        self.key = self.d.add_key()

    def tearDown(self):
        self.assertEqual(self.d.stop(), 0)

    def run_client(self):
        env = dict(os.environ)
        if CLIENT == "net-akismet":
            env.update(http_proxy=f"http://127.0.0.1:{self.d.http_port}", PERL_LWP_ENV_PROXY="1",
                       no_proxy="", NO_PROXY="")
            r = run(["perl", os.path.join(HERE, "net_akismet.pl"), self.key, BAD_KEY], env=env)
            self.assertEqual(r.returncode, 0, r.stderr)
            out = {}
            for line in r.stdout.splitlines():
                k, _, v = line.partition("=")
                out[k] = {"true": True, "false": False}.get(v, v)
            return out
        env["NODE_PATH"] = os.path.join(NPM_DIR, "node_modules")
        for k in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
            env.pop(k, None)
        r = run(["node", "--require", os.path.join(HERE, "resolve_loader.js"),
                 os.path.join(HERE, "npm_clients.js"), CLIENT, str(self.d.http_port), self.key,
                 BAD_KEY], env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout.strip().splitlines()[-1])

    def test_client_round_trip(self):
        out = self.run_client()
        self.assertIs(out["verify_valid"], True, out)
        self.assertIs(out["verify_invalid"], False, out)
        self.assertIs(out["check_spam"], True, out)
        self.assertIs(out["check_ham"], False, out)
        # What each library returned for submit-spam/submit-ham: Net::Akismet a boolean,
        # akismet-api the HTTP answer, akismet (npm) only its callback's error argument.
        expected = {
            "net-akismet": True,
            "akismet-api": {"status": 200, "text": THANKS},
            "akismet": {"error": None},
        }[CLIENT]
        self.assertEqual(out["submit_spam"], expected, out)
        self.assertEqual(out["submit_ham"], expected, out)
        # The comment reported with submit-spam is now known: same text, IP and e-mail.
        self.assertIs(out["check_reported"], True, out)
        if "check_admin" in out:
            self.assertIs(out["check_admin"], False, out)
        if "check_bad_key" in out:
            self.assertEqual(out["check_bad_key"], "Invalid API key", out)
        stats = self.d.cli("stats").stdout
        self.assertIn("akismet.submits\t2", stats)
        self.assertIn("akismet.trained\t2", stats)
        self.assertIn("akismet.store_errors\t0", stats)
        self.assertTrue(self.d.wait_log("submit-spam blog=https://blog.example"))
        self.assertTrue(self.d.wait_log("submit-ham blog=https://blog.example"))


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
