#!/usr/bin/env python3
"""A running Unbound streams dnstap into `greyflux flux listen`, on loopback only.

greyflux listens on a unix socket; Unbound (auth-zone fixture zones, free 127.0.0.1 port) logs
client responses with dnstap to it; dig resolves a fluxing name (ten addresses in ten synthetic
ASNs, TTL 1) and a stable one. While data streams in, greyflux rewrites its RPZ every second:
the fluxing name must appear in it, and the final report (after SIGTERM) must flag that name
and not the stable one.
With "serve" as third argument the collector is the daemon (`greyflux serve` with `[flux]
dnstap_socket` and `rpz_path`), which must list the name in its RPZ and exit 0 on SIGTERM.
Usage: unbound_dnstap_test.py GREYFLUX GF_FLUX_FIXTURES [serve]
Exit 77 (skipped) when unbound or dig is not installed, or when the live capture on lo cannot
run (no CAP_NET_RAW): then the dnstap half has passed but the test did not run fully.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile


from fluxlib import dig, free_port, wait_for

# Tests run as root on CI: keep root explicitly (a root start without daemon.user refuses).
ROOT = ["--set", "daemon.user=root"] if os.geteuid() == 0 else []


def main():
    greyflux, fixtures = sys.argv[1:3]
    serve = len(sys.argv) > 3 and sys.argv[3] == "serve"
    unbound = shutil.which("unbound") or ("/usr/sbin/unbound" if os.path.exists("/usr/sbin/unbound") else None)
    control = shutil.which("unbound-control") or "/usr/sbin/unbound-control"
    if unbound is None or shutil.which("dig") is None or not os.path.exists(control):
        print("SKIP: unbound or dig not installed (bash scripts/deps.sh test)")
        return 77
    tmp = tempfile.mkdtemp(prefix="gf-flux-tap-")
    listen = ub = live = None
    try:
        subprocess.run([fixtures, tmp, "--flux-names", "1", "--benign-names", "1", "--networks", "1"],
                       check=True, capture_output=True)
        ips = [f"10.{i}.{i * 3}.{i * 5 + 1}" for i in range(1, 11)]
        zone = ["$ORIGIN test.", "@ 3600 IN SOA ns.test. hostmaster.test. 1 3600 600 86400 1",
                "@ 3600 IN NS ns.test.", "ns 3600 IN A 127.0.0.1", "stable 1 IN A 100.64.2.20"]
        zone += [f"active-flux 1 IN A {ip}" for ip in ips]
        # Asked once, last: once it is listed in the RPZ, every answer before it has arrived
        # (one Unbound thread, one ordered dnstap stream).
        zone += [f"last-flux 1 IN A {ip[:-1]}2" for ip in ips]
        open(os.path.join(tmp, "test.zone"), "w").write("\n".join(zone) + "\n")
        sock = os.path.join(tmp, "dnstap.sock")
        port = free_port()
        rpz = os.path.join(tmp, "live.rpz")
        out = open(os.path.join(tmp, "listen.json"), "w")
        err = open(os.path.join(tmp, "listen.err"), "w")
        if serve:
            cfg = os.path.join(tmp, "greyflux.toml")
            http_port = free_port()
            spamd_port = free_port()
            policy_port = free_port()
            open(cfg, "w").write(f"""[daemon]
data_dir = "{tmp}"
[store]
backend = "memory"
[policy]
listen = ["127.0.0.1:{policy_port}"]
[http]
listen = ["127.0.0.1:{http_port}"]
[akismet]
store_path = "{tmp}/akismet.lmdb"
[spamd]
listen = ["127.0.0.1:{spamd_port}"]
model = "{tmp}/mail.model"
[admin]
socket = "{tmp}/admin.sock"
[flux]
asn_db = "{tmp}/asn.tsv"
allowlist = ""
dnstap_socket = "{sock}"
rpz_path = "{rpz}"
rpz_interval = "1s"
""")
            keys = subprocess.run([greyflux, "keys", "add", "--blog", "https://blog.test",
                                   "--config", cfg], capture_output=True, text=True, timeout=30)
            assert keys.returncode == 0, keys.stderr
            api_key = keys.stdout.strip()
            listen = subprocess.Popen([greyflux, "serve", "--config", cfg, *ROOT], stdout=out, stderr=err)
        else:
            listen = subprocess.Popen([greyflux, "flux", "listen", "--dnstap-socket", sock,
                                       "--duration", "90s", "--config", os.path.join(tmp, "none.toml"),
                                       "--asn", os.path.join(tmp, "asn.tsv"), "--allowlist", "none",
                                       "--rpz", rpz, "--rpz-interval", "1s", "--json", "--all",
                                       "--no-progress"], stdout=out, stderr=err)
        wait_for(lambda: os.path.exists(sock), 10, "the dnstap socket")
        # A second collector captures the same answers live on the loopback interface (needs
        # CAP_NET_RAW; without it that half of the test is reported as skipped).
        live_err_path = os.path.join(tmp, "live.err")
        if not serve:
            live_out = open(os.path.join(tmp, "live.json"), "w")
            live = subprocess.Popen([greyflux, "flux", "listen", "--interface", "lo",
                                     "--dns-port", str(port), "--duration", "90s",
                                     "--config", os.path.join(tmp, "none.toml"),
                                     "--asn", os.path.join(tmp, "asn.tsv"), "--allowlist", "none",
                                     "--json", "--all", "--no-progress"],
                                    stdout=live_out, stderr=open(live_err_path, "w"))
            wait_for(lambda: live.poll() is not None or "listening" in open(live_err_path).read(),
                     10, "the live capture")
        conf = os.path.join(tmp, "unbound.conf")
        open(conf, "w").write(f"""server:
    interface: 127.0.0.1
    port: {port}
    do-ip6: no
    do-daemonize: no
    use-syslog: no
    logfile: ""
    chroot: ""
    username: ""
    directory: "{tmp}"
    pidfile: "{tmp}/unbound.pid"
    num-threads: 1
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    local-zone: "test." nodefault
remote-control:
    control-enable: yes
    control-interface: "{tmp}/unbound.ctl"
    control-use-cert: no
dnstap:
    dnstap-enable: yes
    dnstap-bidirectional: yes
    dnstap-socket-path: "{sock}"
    dnstap-send-identity: yes
    dnstap-log-client-response-messages: yes
auth-zone:
    name: "test."
    zonefile: "{tmp}/test.zone"
    for-downstream: no
    for-upstream: yes
    fallback-enabled: no
""")
        log = open(os.path.join(tmp, "unbound.log"), "w")
        ub = subprocess.Popen([unbound, "-d", "-c", conf], stdout=log, stderr=subprocess.STDOUT)
        def unbound_up():
            if ub.poll() is not None:
                raise AssertionError("unbound exited: " + open(os.path.join(tmp, "unbound.log")).read())
            return dig(port, "stable.test")[0] == "NOERROR"
        try:
            wait_for(unbound_up, 30, "unbound")
        except AssertionError:
            print(open(os.path.join(tmp, "unbound.log")).read())
            raise
        # Three fresh answers of each name. Unbound logs only the answers it resolved, not
        # those from its cache, so each round first empties the cache (unbound-control, no
        # waiting for TTLs to run out).
        for _ in range(3):
            flushed = subprocess.run([control, "-c", conf, "flush_zone", "test."],
                                     capture_output=True, text=True, timeout=30)
            assert flushed.returncode == 0, flushed.stdout + flushed.stderr
            assert dig(port, "active-flux.test")[0] == "NOERROR"
            assert dig(port, "stable.test")[0] == "NOERROR"

        def listed(name):
            return os.path.exists(rpz) and f"\n{name} CNAME .\n" in open(rpz).read()
        wait_for(lambda: listed("active-flux.test"), 20,
                 "the periodic RPZ rewrite to list active-flux.test")
        assert dig(port, "last-flux.test")[0] == "NOERROR"
        wait_for(lambda: listed("last-flux.test"), 20, "last-flux.test, asked last, in the RPZ")
        if serve:
            serial1 = int(open(rpz).read().split(" SOA ")[1].split()[2])
            wait_for(lambda: int(open(rpz).read().split(" SOA ")[1].split()[2]) > serial1, 10,
                     "a later RPZ rewrite with a higher serial")
            assert "stable.test CNAME" not in open(rpz).read()
            # The verdict over HTTP: GET /api/v1/flux/NAME.
            import urllib.error
            import urllib.request

            def get(name):
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/api/v1/flux/{name}",
                                                timeout=10) as resp:
                        return resp.status, json.loads(resp.read())
                except urllib.error.HTTPError as e:
                    return e.code, json.loads(e.read())
            status, body = get("active-flux.test")
            assert status == 200 and body["flux"] and body["features"]["asns"] == 10, (status, body)
            status, body = get("www.active-flux.test")
            assert status == 200 and body["listed_as"] == "active-flux.test", (status, body)
            status, body = get("stable.test")
            assert status == 200 and not body["flux"], (status, body)
            status, body = get("never-seen.test")
            assert status == 404 and not body["flux"], (status, body)
            print("HTTP: GET /api/v1/flux/active-flux.test -> 200 flux, never-seen.test -> 404")
            # A comment linking to the flux name carries the fast-flux symbol; one linking to a
            # stable name does not.
            import urllib.parse

            def comment_reasons(link):
                form = urllib.parse.urlencode({
                    "api_key": api_key, "blog": "https://blog.test", "user_ip": "192.0.2.55",
                    "comment_type": "comment", "comment_author": "Pat",
                    "comment_content": f"Nice post, see http://{link}/page for more"}).encode()
                req = urllib.request.Request(f"http://127.0.0.1:{http_port}/1.1/comment-check",
                                             data=form, method="POST")
                with urllib.request.urlopen(req, timeout=10) as resp:
                    return resp.headers.get("X-Greyflux-Reasons", ""), resp.read().decode()
            reasons, verdict = comment_reasons("www.active-flux.test")
            assert "FAST_FLUX_LINK" in reasons and verdict == "true", (reasons, verdict)
            reasons, verdict = comment_reasons("stable.test")
            assert "FAST_FLUX_LINK" not in reasons, reasons
            print("comment-check: a link to the flux name -> FAST_FLUX_LINK, spam")
            # The mail scanner sees the same live index: a URI to the flux name fires URI_FLUX.
            import socket

            def mail_symbols(link):
                msg = ("From: a@sender.test\r\nTo: b@example.test\r\nSubject: hi\r\n\r\n"
                       f"Look at http://{link}/offer today.\r\n").encode()
                with socket.create_connection(("127.0.0.1", spamd_port), timeout=10) as c:
                    c.sendall(b"SYMBOLS SPAMC/1.5\r\nContent-length: %d\r\n\r\n" % len(msg) + msg)
                    c.shutdown(socket.SHUT_WR)
                    reply = b""
                    while chunk := c.recv(65536):
                        reply += chunk
                return reply.decode(errors="replace")
            reply = mail_symbols("www.active-flux.test")
            assert reply.startswith("SPAMD/1.1 0 EX_OK") and "URI_FLUX" in reply, reply
            assert "URI_FLUX" not in mail_symbols("stable.test")
            print("spamd SYMBOLS: a URI to the flux name -> URI_FLUX")
            # Greylisting: a client address the flux name resolved to is an infected host and is
            # deferred as such (greylist.flux_agents = "defer", the default); another is not.

            def policy_reply(client):
                req = ("request=smtpd_access_policy\nprotocol_state=RCPT\n"
                       f"client_address={client}\nclient_name=unknown\n"
                       "sender=a@sender.test\nrecipient=b@example.test\ninstance=i1\n\n")
                with socket.create_connection(("127.0.0.1", policy_port), timeout=10) as c:
                    c.sendall(req.encode())
                    reply = b""
                    while not reply.endswith(b"\n\n"):
                        chunk = c.recv(4096)
                        assert chunk, reply
                        reply += chunk
                return reply.decode()
            reply = policy_reply(ips[0])
            assert reply.startswith("action=DEFER_IF_PERMIT") and "fast-flux" in reply, reply
            reply = policy_reply("100.64.2.20")
            assert reply.startswith("action=DEFER_IF_PERMIT") and "fast-flux" not in reply, reply
            print(f"policy: client {ips[0]} (an address of the flux name) -> deferred as a flux agent")
            listen.send_signal(signal.SIGTERM)
            assert listen.wait(timeout=20) == 0, open(os.path.join(tmp, "listen.err")).read()
            listen = None
            print("greyflux serve: RPZ lists active-flux.test, serial increased past", serial1)
            print("1 passed, 0 failed")
            return 0
        listen.send_signal(signal.SIGTERM)
        assert listen.wait(timeout=20) == 0, open(os.path.join(tmp, "listen.err")).read()
        listen = None
        report = json.loads(open(os.path.join(tmp, "listen.json")).read())
        verdicts = {v["name"]: v for v in report["verdicts"]}
        print("dnstap messages:", report["ingest"]["messages"], "names:", sorted(verdicts))
        assert report["ingest"]["messages"] >= 6, report["ingest"]
        assert verdicts["active-flux.test"]["flux"], verdicts["active-flux.test"]
        assert verdicts["active-flux.test"]["features"]["asns"] == 10
        assert not verdicts["stable.test"]["flux"]
        if live.poll() is None:
            live.send_signal(signal.SIGTERM)
            assert live.wait(timeout=20) == 0, open(live_err_path).read()
            cap = json.loads(open(os.path.join(tmp, "live.json")).read())
            lv = {v["name"]: v for v in cap["verdicts"]}
            print("live capture on lo: responses", cap["ingest"]["responses"], "names:", sorted(lv))
            assert lv["active-flux.test"]["flux"], lv["active-flux.test"]
            assert not lv["stable.test"]["flux"]
        else:
            why = open(live_err_path).read().strip()
            # Only missing capture rights may skip this half; any other exit is a failure.
            assert "ermitted" in why or "ermission" in why, why
            live = None
            # The dnstap half passed, but the test did not run fully: ctest reports it skipped.
            print("SKIPPED: the live capture half needs CAP_NET_RAW:", why)
            return 77
        live = None
        print("1 passed, 0 failed")
        return 0
    finally:
        for p in (listen, live, ub):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
