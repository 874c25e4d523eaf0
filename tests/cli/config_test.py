#!/usr/bin/env python3
"""Config validation from the outside: `greyflux check-config FILE [--set k=v]` on one bad
setting at a time. Each case checks the exit status (1), that the message names the setting and
the rule the user broke, and, for every range, that the values on its bounds are accepted.

Usage: config_test.py GREYFLUX_BINARY
"""
import os
import subprocess
import sys
import tempfile
import unittest

BINARY = None

# (TOML text or None, --set overrides, substrings the message must contain)
REJECTED = [
    # unknown keys and shapes
    ("[greylist]\nbogus_key = 1\n", [], [":2:", "unknown setting 'greylist.bogus_key'"]),
    ("[nosuch]\nx = 1\n", [], ["unknown setting 'nosuch.x'"]),
    ("x = 1\n", [], ["'x' must be a [section]"]),
    (None, ["greylist.nope=1"], ["unknown setting 'greylist.nope'"]),
    # a typo, or a key in the wrong section, names the setting it most likely meant
    ("[greylist]\nretry_windw = \"2d\"\n", [],
     ["unknown setting 'greylist.retry_windw' (did you mean 'greylist.retry_window'?"]),
    ("[policy]\nretry_window = \"2d\"\n", [], ["(did you mean 'greylist.retry_window'?"]),
    (None, ["greylsit.delay=5m"], ["(did you mean 'greylist.delay'?"]),
    (None, ["greylist.delay"], ["expected section.key=value"]),
    ("[greylist]\nipv4_prefix = \"wide\"\n", [], ["greylist.ipv4_prefix", "integer"]),
    ("[greylist]\ndelay = \"five minutes\"\n", [], ["greylist.delay"]),
    ("[greylist\n", [], [":1:"]),
    # enumerations
    ("[store]\nbackend = \"postgres\"\n", [], ["store.backend", "lmdb", "redis", "memory"]),
    ("[store]\nredis_url = \"rediss://h\"\n", [], ["store.redis_url", "TLS"]),
    ("[store]\nredis_pool_size = 0\n", [], ["store.redis_pool_size", "1 to 64"]),
    ("[akismet]\non_store_failure = \"guess\"\n", [], ["akismet.on_store_failure", "heuristics"]),
    ("[greylist]\nflux_agents = \"maybe\"\n", [], ["greylist.flux_agents", "defer"]),
    ("[policy]\non_store_failure = \"reject\"\n", [], ["policy.on_store_failure", "dunno"]),
    ("[log]\nlevel = \"loud\"\n", [], ["log.level", "info"]),
    # ranges: greylist
    (None, ["greylist.ipv4_prefix=7"], ["greylist.ipv4_prefix", "8..32"]),
    (None, ["greylist.ipv4_prefix=33"], ["greylist.ipv4_prefix", "8..32"]),
    (None, ["greylist.ipv6_prefix=15"], ["greylist.ipv6_prefix", "16..128"]),
    (None, ["greylist.ipv6_prefix=129"], ["greylist.ipv6_prefix", "16..128"]),
    (None, ["greylist.delay=3d"], ["greylist.delay", "greylist.retry_window"]),
    (None, ["greylist.retry_window=1m"], ["greylist.delay", "greylist.retry_window"]),
    (None, ["greylist.auto_whitelist_after=-1"], ["greylist.auto_whitelist_after", "0..1000000"]),
    (None, ["greylist.auto_whitelist_after=1000001"], ["greylist.auto_whitelist_after"]),
    (None, ["greylist.domain_auto_whitelist_after=-1"],
     ["greylist.domain_auto_whitelist_after", "0..1000000"]),
    # ranges: policy and store
    (None, ["policy.threads=-1"], ["policy.threads", "0..1000000"]),
    (None, ["policy.max_attributes=1000001"], ["policy.max_attributes", "0..1000000"]),
    (None, ["policy.max_connections=0"], ["policy.max_connections", "at least 1"]),
    (None, ["policy.max_request=1023"], ["policy.max_request", "1KiB"]),
    (None, ["store.commit_interval=0ms"], ["store.commit_interval", "1ms..10s"]),
    (None, ["store.commit_interval=11s"], ["store.commit_interval", "1ms..10s"]),
    (None, ["policy.listen=[]"], ["policy.listen", "at least one"]),
    (None, ['policy.listen=["nowhere"]'], ["policy.listen"]),
    # ranges: comment API
    (None, ['http.listen=["unix:/tmp/x.sock"]'], ["http.listen", "unix"]),
    (None, ["http.max_body=4095"], ["http.max_body", "4KiB"]),
    (None, ["http.max_connections=0"], ["http.max_connections", "at least 1"]),
    (None, ["akismet.max_checks=0"], ["akismet.max_checks", "at least 1"]),
    (None, ["akismet.max_site_models=0"], ["akismet.max_site_models", "at least 1"]),
    (None, ["akismet.flood_texts=1"], ["akismet.flood_texts", "at least 2"]),
    (None, ["akismet.usage_limit=-1"], ["akismet.usage_limit", "negative"]),
    (None, ["akismet.min_training=-1"], ["akismet.min_training", "negative"]),
    (None, ["akismet.spam_threshold=8.5"], ["akismet.spam_threshold", "between -8 and 8"]),
    (None, ["akismet.spam_threshold=-8.01"], ["akismet.spam_threshold", "between -8 and 8"]),
    # the bounds themselves are excluded, and the message says so
    (None, ["akismet.spam_threshold=8"], ["akismet.spam_threshold", "strictly between -8 and 8"]),
    (None, ["akismet.spam_threshold=-8"], ["akismet.spam_threshold", "strictly between"]),
    (None, ["akismet.spam_threshold=lots"], ["akismet.spam_threshold"]),
    # ranges: mail scanner
    (None, ["spamd.required_score=6", "spamd.reject_score=5"],
     ["spamd.reject_score", "spamd.required_score"]),
    (None, ["spamd.max_message=1023"], ["spamd.max_message", "1KiB..1GiB"]),
    (None, ["spamd.max_message=2GiB"], ["spamd.max_message", "1KiB..1GiB"]),
    (None, ["spamd.max_connections=0"], ["spamd.max_connections", "at least 1"]),
    (None, ['spamd.listen=["nowhere"]'], ["spamd.listen"]),
]

# Values on the bounds of the ranges above: accepted.
ACCEPTED = [
    ["greylist.ipv4_prefix=8"], ["greylist.ipv4_prefix=32"],
    ["greylist.ipv6_prefix=16"], ["greylist.ipv6_prefix=128"],
    ["greylist.delay=2d", "greylist.retry_window=2d"],
    ["greylist.auto_whitelist_after=0"], ["greylist.auto_whitelist_after=1000000"],
    ["policy.max_request=1KiB"], ["store.commit_interval=1ms"], ["store.commit_interval=10s"],
    ["http.max_body=4KiB"], ["akismet.spam_threshold=7.99"], ["akismet.spam_threshold=-7.99"],
    ["spamd.required_score=5", "spamd.reject_score=5"],
    ["spamd.max_message=1KiB"], ["spamd.max_message=1GiB"],
]


class ConfigTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="gf-config-")

    def check(self, text, sets):
        path = os.path.join(self.tmp, "greyflux.toml")
        with open(path, "w") as f:
            f.write(text if text is not None else "[greylist]\n")
        args = [BINARY, "check-config", path]
        for s in sets:
            args += ["--set", s]
        return subprocess.run(args, capture_output=True, text=True, timeout=30)

    def test_each_bad_setting_is_refused_with_its_message(self):
        for text, sets, needles in REJECTED:
            with self.subTest(text=text, sets=sets):
                r = self.check(text, sets)
                self.assertEqual(r.returncode, 1, (r.stdout, r.stderr))
                for needle in needles:
                    self.assertIn(needle, r.stderr)
                self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)  # one line

    def test_values_on_the_bounds_are_accepted(self):
        for sets in ACCEPTED:
            with self.subTest(sets=sets):
                r = self.check(None, sets)
                self.assertEqual(r.returncode, 0, r.stderr)

    def test_serve_refuses_to_start_with_the_same_message(self):
        path = os.path.join(self.tmp, "greyflux.toml")
        with open(path, "w") as f:
            f.write("[greylist]\nipv4_prefix = 33\n")
        r = subprocess.run([BINARY, "serve", "--config", path], capture_output=True, text=True,
                           timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("greylist.ipv4_prefix: must be 8..32", r.stderr)
        r = subprocess.run([BINARY, "serve", "--config", os.path.join(self.tmp, "missing.toml")],
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("missing.toml", r.stderr)


if __name__ == "__main__":
    BINARY = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
