#!/usr/bin/env python3
"""`greyflux flux scan --dnset/--ip4set` through the CLI, on a synthetic capture from
gf_flux_fixtures (flux networks beside CDN, anycast, round-robin, NTP-pool and dynamic-DNS
names). The rbldnsd files must list exactly what the scan's own JSON report flags: every
flagged name and its wildcard in the dnset, every address of a flagged
name in the ip4set, no name or address of an unflagged one, plus RFC 5782's test entries; an
allowlisted name is in neither.

Usage: flux_scan_test.py GREYFLUX GF_FLUX_FIXTURES SOURCE_DIR
"""
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

GREYFLUX = FIXTURES = SRC = None


def entries(path):
    """The data lines of an rbldnsd file (no comments, no ':A:TXT' default line)."""
    with open(path) as f:
        return [l.strip() for l in f if l.strip() and not l.startswith(("#", ":"))]


class FluxScanTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="gf-flux-scan-")
        subprocess.run([FIXTURES, cls.tmp, "--flux-names", "3", "--benign-names", "6",
                        "--networks", "2", "--seed", "11"], check=True, capture_output=True,
                       timeout=120)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def scan(self, *extra, allowlist="none"):
        dnset = os.path.join(self.tmp, "flux.dnset")
        ip4set = os.path.join(self.tmp, "agents.ip4set")
        for p in (dnset, ip4set):
            if os.path.exists(p):
                os.remove(p)
        r = subprocess.run([GREYFLUX, "flux", "scan", os.path.join(self.tmp, "trace.pcap"),
                            "--config", os.path.join(self.tmp, "none.toml"),
                            "--asn", os.path.join(self.tmp, "asn.tsv"), "--allowlist", allowlist,
                            "--dnset", dnset, "--ip4set", ip4set, "--json", "--all",
                            "--no-progress", *extra], capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout), dnset, ip4set

    def check_sets(self, report, dnset, ip4set):
        flagged = [v for v in report["verdicts"] if v["flux"]]
        clean = [v for v in report["verdicts"] if not v["flux"]]
        self.assertTrue(flagged, "the scan flagged nothing")
        self.assertTrue(clean, "the scan flagged everything")
        names = entries(dnset)
        self.assertIn("test", names)  # RFC 5782: TEST is listed
        want = {v["name"] for v in flagged} | {"*." + v["name"] for v in flagged}
        self.assertEqual(set(names) - {"test"}, want)
        self.assertEqual(len(names), len(set(names)), "a name is listed twice")
        for v in clean:
            self.assertNotIn(v["name"], names)
        with open(dnset) as f:
            self.assertIn("\n:127.0.0.2:", "\n" + f.read())
        addrs = entries(ip4set)
        self.assertIn("127.0.0.2", addrs)  # RFC 5782: 127.0.0.2 is listed
        for a in addrs:
            ipaddress.IPv4Address(a)
        flagged_v4 = {a for v in flagged for a in v["addresses"] if ":" not in a}
        self.assertEqual(set(addrs) - {"127.0.0.2"}, flagged_v4)
        return names

    def test_sets_list_exactly_the_flagged_names_and_their_agents(self):
        report, dnset, ip4set = self.scan()
        self.check_sets(report, dnset, ip4set)

    def test_allowlisted_names_are_in_neither_set(self):
        plain, _, _ = self.scan()
        report, dnset, ip4set = self.scan(
            allowlist=os.path.join(SRC, "data", "flux-allowlist.txt"))
        self.check_sets(report, dnset, ip4set)
        allowed = {v["name"] for v in plain["verdicts"] if v["flux"]} - \
            {v["name"] for v in report["verdicts"] if v["flux"]}
        self.assertTrue(allowed, "the allowlist changed nothing (the fixture has an NTP pool)")
        names = entries(dnset)
        for n in allowed:
            self.assertNotIn(n, names)

    def test_an_unwritable_set_is_an_error(self):
        r = subprocess.run([GREYFLUX, "flux", "scan", os.path.join(self.tmp, "trace.pcap"),
                            "--config", os.path.join(self.tmp, "none.toml"),
                            "--asn", os.path.join(self.tmp, "asn.tsv"), "--allowlist", "none",
                            "--dnset", os.path.join(self.tmp, "no", "such", "dir", "x.dnset"),
                            "--no-progress"], capture_output=True, text=True, timeout=120)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("x.dnset", r.stderr)


if __name__ == "__main__":
    GREYFLUX, FIXTURES, SRC = (os.path.abspath(a) for a in sys.argv[1:4])
    del sys.argv[1:4]
    unittest.main(verbosity=2)
