#!/usr/bin/env python3
"""A flux name that went quiet long before the capture ends keeps its verdict (issue 12).

A 12-hour Zeek dns.log (JSON lines, written here): burst-flux.test answers 6 agents from 6
networks with a 2-minute TTL for one hour, then nobody asks for it; a static name is queried
every 20 minutes until the end. `greyflux flux scan` must judge the flux name on its own active
period (flux, its addresses counted, not ips=0), say when it was last seen fluxing, and list it
in the RPZ, the rbldnsd dnset and (its agents) the ip4set. With flux.verdict_ttl shorter than
the quiet gap the verdict has expired by the end of the capture: the outputs drop it.
Usage: quiet_scan_test.py GREYFLUX
"""
import json
import os
import subprocess
import sys
import tempfile

T0 = 1767225600  # 2026-01-01T00:00:00Z


def row(ts, name, answers, ttl):
    return json.dumps({"ts": ts, "uid": "C1", "id.orig_h": "192.0.2.100", "id.orig_p": 5353,
                       "id.resp_h": "192.0.2.53", "id.resp_p": 53, "proto": "udp", "trans_id": 1,
                       "query": name, "qclass": 1, "qclass_name": "C_INTERNET", "qtype": 1,
                       "qtype_name": "A", "rcode": 0, "rcode_name": "NOERROR", "AA": False,
                       "TC": False, "RD": True, "RA": True, "Z": 0, "answers": answers,
                       "TTLs": [float(ttl)] * len(answers), "rejected": False}) + "\n"


def scan(greyflux, tmp, log, asn, extra):
    rpz, dnset, ip4set = (os.path.join(tmp, n) for n in ("out.rpz", "out.dnset", "out.ip4set"))
    for p in (rpz, dnset, ip4set):
        if os.path.exists(p):
            os.unlink(p)
    cfg = os.path.join(tmp, "empty.toml")
    open(cfg, "w").close()
    out = subprocess.run([greyflux, "flux", "scan", "--config", cfg, "--asn", asn,
                          "--allowlist", "none", "--json", "--rpz", rpz, "--dnset", dnset,
                          "--ip4set", ip4set, "--no-progress", log] + extra,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return (json.loads(out.stdout), open(rpz).read(), open(dnset).read(), open(ip4set).read())


def main():
    greyflux = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "dns.json")
        asn = os.path.join(tmp, "asn.tsv")
        with open(asn, "w") as f:
            for b in range(256):  # one synthetic ASN per 10.b.0.0/16
                f.write(f"10.{b}.0.0\t10.{b}.255.255\t{4200000000 + b}\tXA\tSYNTH-{b}\n")
        last_flux = 0
        with open(log, "w") as f:
            agent = 0
            lines = []
            for i in range(12):  # one hour of flux
                ts = T0 + i * 300
                ips = []
                for _ in range(6):
                    ips.append(f"10.{agent % 250}.7.{agent // 250 + 1}")
                    agent += 1
                lines.append((ts, row(ts, "burst-flux.test", ips, 120)))
                last_flux = ts
            for k in range(37):  # a static name every 20 minutes for 12 hours
                ts = T0 + k * 1200
                lines.append((ts, row(ts, "static.example", ["192.0.2.1"], 86400)))
            for _, line in sorted(lines, key=lambda x: x[0]):
                f.write(line)

        report, rpz, dnset, ip4set = scan(greyflux, tmp, log, asn, [])
        v = {x["name"]: x for x in report["verdicts"]}
        b = v["burst-flux.test"]
        assert b["flux"] is True, b
        assert b["features"]["unique_ips"] == 72, b["features"]
        assert b["features"]["last_seen"] == last_flux, b["features"]
        assert b["held"]["last_seen_fluxing"] == last_flux, b
        assert b["held"]["expires"] == last_flux + 7 * 86400, b
        assert v["static.example"]["flux"] is False
        assert "burst-flux.test CNAME ." in rpz, rpz
        assert "static.example" not in rpz
        assert "burst-flux.test" in dnset, dnset
        assert "10.0.7.1" in ip4set and "10.71.7.1" in ip4set, ip4set
        print("scan: burst-flux.test flux on its active period, held until",
              b["held"]["expires"], "; RPZ, dnset and ip4set list it")

        # verdict_ttl shorter than the quiet gap (11 h): expired at the end of the capture.
        report, rpz, dnset, ip4set = scan(greyflux, tmp, log, asn,
                                          ["--set", "flux.verdict_ttl=2h"])
        b = {x["name"]: x for x in report["verdicts"]}["burst-flux.test"]
        assert "held" not in b, b
        assert "burst-flux.test" not in rpz and "burst-flux.test" not in dnset, rpz
        assert "10.0.7.1" not in ip4set
        print("scan with verdict_ttl=2h: the verdict expired 9 h before the end; outputs drop it")


if __name__ == "__main__":
    main()
