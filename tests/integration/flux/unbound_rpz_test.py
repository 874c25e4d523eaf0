#!/usr/bin/env python3
"""The RPZ proof with a real resolver, on loopback only.

fixtures -> `greyflux flux scan --rpz --rpz-ip` -> Debian's Unbound with an `rpz:` clause on a
free 127.0.0.1 port, the fixture names served from `auth-zone:` files inside the same Unbound
(nothing leaves the machine) -> dig:
  * a flux name and a name below it get NXDOMAIN (QNAME trigger and its wildcard),
  * a CDN-like name gets its normal answer,
  * an innocent name whose address is a flux agent gets NXDOMAIN (rpz-ip trigger; Unbound
    silently ignores a malformed rpz-ip rule, so this proves the rule's syntax),
  * `greyflux flux check` resolving through the same Unbound flags a fluxing name and not a
    CDN-like one.
Usage: unbound_rpz_test.py GREYFLUX GF_FLUX_FIXTURES SOURCE_DIR
Exit 77 (skipped) when unbound or dig is not installed.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


from fluxlib import dig, free_port


def rpz_ip_owner(ip):
    return "32." + ".".join(reversed(ip.split("."))) + ".rpz-ip"


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    greyflux, fixtures, src = sys.argv[1:]
    unbound = shutil.which("unbound") or ("/usr/sbin/unbound" if os.path.exists("/usr/sbin/unbound") else None)
    if unbound is None or shutil.which("dig") is None:
        print("SKIP: unbound or dig not installed (bash scripts/deps.sh test)")
        return 77
    tmp = tempfile.mkdtemp(prefix="gf-flux-rpz-")
    proc = None
    try:
        subprocess.run([fixtures, tmp, "--flux-names", "40", "--benign-names", "400",
                        "--networks", "4", "--seed", "7"], check=True, capture_output=True)
        rpz = os.path.join(tmp, "flux.rpz")
        scan = subprocess.run([greyflux, "flux", "scan", os.path.join(tmp, "trace.pcap"),
                               "--config", os.path.join(tmp, "none.toml"),
                               "--asn", os.path.join(tmp, "asn.tsv"),
                               "--allowlist", os.path.join(src, "data/flux-allowlist.txt"),
                               "--rpz", rpz, "--rpz-ip", "--rpz-origin", "rpz.greyflux.test",
                               "--json", "--no-progress"],
                              check=True, capture_output=True, text=True)
        report = json.loads(scan.stdout)
        flagged = [v for v in report["verdicts"] if v["flux"]]
        assert flagged, "the scan flagged nothing"
        flux = flagged[0]
        flux_name, agent = flux["name"], flux["addresses"][0]
        zone_text = open(rpz).read()
        assert f"\n{flux_name} CNAME .\n" in zone_text
        assert f"\n{rpz_ip_owner(agent)} CNAME .\n" in zone_text, "rpz-ip rule missing"
        labels = [l.split("\t") for l in open(os.path.join(tmp, "labels.tsv")) if not l.startswith("#")]
        cdn_name = next(l[0] for l in labels if l[2] == "cdn-akamai-like-unlisted")
        cdn_verdict = next(v for v in report["verdicts"] if v["name"] == cdn_name) \
            if any(v["name"] == cdn_name for v in report["verdicts"]) else None
        assert cdn_verdict is None or not cdn_verdict["flux"]

        # Two fixture zones served by Unbound itself. A fluxing name for the active check uses
        # addresses that are not agents in the RPZ (so no rpz-ip rule hides it).
        check_ips = []
        for i in range(1, 200):
            ip = f"10.{i}.{(i * 7) % 250}.{(i * 13) % 250 + 1}"
            if rpz_ip_owner(ip) not in zone_text:
                check_ips.append(ip)
            if len(check_ips) == 10:
                break
        test_zone = ["$ORIGIN test.", "@ 3600 IN SOA ns.test. hostmaster.test. 1 3600 600 86400 1",
                     "@ 3600 IN NS ns.test.", "ns 3600 IN A 127.0.0.1"]
        rel = flux_name[: -len(".test")]
        for ip in flux["addresses"][:8]:
            test_zone.append(f"{rel} 60 IN A {ip}")
        test_zone.append(f"*.{rel} 60 IN A {flux['addresses'][0]}")
        for ip in check_ips:
            test_zone.append(f"active-flux 1 IN A {ip}")
        example_zone = ["$ORIGIN example.", "@ 3600 IN SOA ns.example. hostmaster.example. 1 3600 600 86400 1",
                        "@ 3600 IN NS ns.example.", "ns 3600 IN A 127.0.0.1",
                        f"{cdn_name[: -len('.example')]} 20 IN A 100.64.1.10",
                        f"{cdn_name[: -len('.example')]} 20 IN A 100.64.1.11",
                        f"innocent 300 IN A {agent}",
                        "stable 1 IN A 100.64.2.20", "stable 1 IN A 100.64.2.21"]
        open(os.path.join(tmp, "test.zone"), "w").write("\n".join(test_zone) + "\n")
        open(os.path.join(tmp, "example.zone"), "w").write("\n".join(example_zone) + "\n")
        port = free_port()
        conf = os.path.join(tmp, "unbound.conf")
        open(conf, "w").write(f"""server:
    interface: 127.0.0.1
    port: {port}
    do-ip6: no
    do-daemonize: no
    use-syslog: no
    logfile: ""
    verbosity: 1
    chroot: ""
    username: ""
    directory: "{tmp}"
    pidfile: "{tmp}/unbound.pid"
    num-threads: 1
    access-control: 127.0.0.0/8 allow
    module-config: "respip validator iterator"
    do-not-query-localhost: no
    # Unbound answers NXDOMAIN for the special-use "test." itself (RFC 6761) unless told not to.
    local-zone: "test." nodefault
remote-control:
    control-enable: no
rpz:
    name: rpz.greyflux.test
    zonefile: "{rpz}"
    rpz-log: yes
auth-zone:
    name: "test."
    zonefile: "{tmp}/test.zone"
    for-downstream: no
    for-upstream: yes
    fallback-enabled: no
auth-zone:
    name: "example."
    zonefile: "{tmp}/example.zone"
    for-downstream: no
    for-upstream: yes
    fallback-enabled: no
""")
        checkconf = shutil.which("unbound-checkconf") or "/usr/sbin/unbound-checkconf"
        if os.path.exists(checkconf):
            subprocess.run([checkconf, conf], check=True, capture_output=True)
        log = open(os.path.join(tmp, "unbound.log"), "w")
        proc = subprocess.Popen([unbound, "-d", "-c", conf], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while True:  # ready when the CDN name answers
            status, _ = dig(port, cdn_name)
            if status == "NOERROR":
                break
            if proc.poll() is not None or time.time() > deadline:
                raise AssertionError("unbound did not come up: " + open(os.path.join(tmp, "unbound.log")).read())
            time.sleep(0.1)

        results = {}
        results["flux name"] = dig(port, flux_name)
        results["below flux name"] = dig(port, "www2." + flux_name)
        results["cdn name"] = dig(port, cdn_name)
        results["innocent name on agent address"] = dig(port, "innocent.example")
        results["stable name"] = dig(port, "stable.example")
        results["active flux name"] = dig(port, "active-flux.test")
        for k, v in results.items():
            print(f"{k}: {v[0]} {v[1]}")
        assert results["flux name"][0] == "NXDOMAIN", results["flux name"]
        assert results["below flux name"][0] == "NXDOMAIN", results["below flux name"]
        assert results["cdn name"] == ("NOERROR", ["100.64.1.10", "100.64.1.11"]) or \
            sorted(results["cdn name"][1]) == ["100.64.1.10", "100.64.1.11"], results["cdn name"]
        assert results["innocent name on agent address"][0] == "NXDOMAIN", "rpz-ip rule not applied"
        assert results["stable name"][0] == "NOERROR"
        # The NXDOMAINs came from the RPZ, not from the zones: an unlisted name in the same zone
        # resolves, and Unbound logged each policy hit.
        assert results["active flux name"][0] == "NOERROR", results["active flux name"]
        log_text = open(os.path.join(tmp, "unbound.log")).read()
        assert f"rpz: applied" in log_text and f"{flux_name}. A IN" in log_text, log_text
        assert f"{agent}/32 rpz-nxdomain" in log_text, log_text

        # Active measurement through the same resolver (loopback forwarder only).
        chk = subprocess.run([greyflux, "flux", "check", "active-flux.test", "stable.example",
                              "--config", os.path.join(tmp, "none.toml"),
                              "--asn", os.path.join(tmp, "asn.tsv"), "--allowlist", "none",
                              "--resolver", f"127.0.0.1@{port}", "--rounds", "2",
                              "--max-wait", "3s", "--json", "--no-progress"],
                             check=True, capture_output=True, text=True, timeout=120)
        active = {v["name"]: v for v in json.loads(chk.stdout)["verdicts"]}
        print("check active-flux.test:", active["active-flux.test"]["scores"]["holz"]["score"],
              active["active-flux.test"]["flux"], "stable.example:", active["stable.example"]["flux"])
        assert active["active-flux.test"]["features"]["responses"] >= 2
        assert active["active-flux.test"]["features"]["unique_ips"] == 10
        assert active["active-flux.test"]["flux"], active["active-flux.test"]
        assert not active["stable.example"]["flux"], active["stable.example"]
        print("1 passed, 0 failed")
        return 0
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
