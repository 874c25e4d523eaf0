"""One data directory (issue 11): `greyflux serve` started from an unrelated working directory
with only daemon.data_dir set (the config is /dev/null plus --set) keeps every state file under
that directory and creates nothing in the working directory, with every front door exercised:
a Postfix policy request, an Akismet key + comment-check + submit-spam, Rspamd's /checkv2, a
spamd CHECK and TELL, an admin command over the admin socket, a dnstap stream into the flux
detector and its verdict from GET /api/v1/flux/NAME (relative dnstap socket and RPZ paths land
under the data directory too), and a flux scan. Also: a configured file that does not exist and
a data directory that cannot be created stop start-up with one line naming the setting and the
path; a binary copied out of its build tree (so the shipped flux allowlist is nowhere it looks)
still serves when flux is off, and names flux.allowlist when flux is on.

Usage: data_dir_test.py GREYFLUX_BINARY
"""
import http.client
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import re
import tempfile
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gfdaemon import Conn, free_port  # noqa: E402

# Tests run as root on CI: keep root explicitly (a root start without daemon.user refuses).
ROOT = ["--set", "daemon.user=root"] if os.geteuid() == 0 else []

BINARY = None

MAIL = (b"From: alice@sender.example\r\nTo: bob@example.org\r\nSubject: cheap pills now\r\n"
        b"Message-ID: <1@sender.example>\r\n\r\nBuy cheap pills at http://pills.example/ now.\r\n")
ZEEK_HEADER = ("#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\t"
               "proto\ttrans_id\trtt\tquery\tqclass\tqclass_name\tqtype\tqtype_name\trcode\t"
               "rcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\trejected\n")


def spamd(port, method, headers=()):
    head = [f"{method} SPAMC/1.5", *headers, f"Content-length: {len(MAIL)}"]
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + MAIL)
        s.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out.decode("utf-8", "replace")
            out += chunk


SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FSTRM_CONTENT_TYPE = b"protobuf:dnstap.Dnstap"
FLUX_NAME = "www.replica0-login770.test"  # in the fixture stream below


def fstrm_control(kind, content_type=True):
    """A Frame Streams control frame: escape, length, type, and the content-type field."""
    body = kind.to_bytes(4, "big")
    if content_type:
        body += (1).to_bytes(4, "big") + len(FSTRM_CONTENT_TYPE).to_bytes(4, "big")
        body += FSTRM_CONTENT_TYPE
    return b"\0\0\0\0" + len(body).to_bytes(4, "big") + body


def dnstap_data_frames(path):
    """The data frames of a Frame Streams file (its START and STOP control frames dropped)."""
    with open(path, "rb") as f:
        raw = f.read()
    pos = 8 + int.from_bytes(raw[4:8], "big")  # the START control frame
    frames = b""
    while pos + 4 <= len(raw):
        n = int.from_bytes(raw[pos:pos + 4], "big")
        if n == 0:  # STOP
            break
        frames += raw[pos:pos + 4 + n]
        pos += 4 + n
    return frames


def recv_control(s):
    head = b""
    while len(head) < 8:
        chunk = s.recv(8 - len(head))
        if not chunk:
            raise ConnectionError("dnstap collector closed")
        head += chunk
    n = int.from_bytes(head[4:8], "big")
    body = b""
    while len(body) < n:
        body += s.recv(n - len(body))
    return int.from_bytes(body[:4], "big")


def send_dnstap(path, frames):
    """Bidirectional Frame Streams as Unbound speaks it: READY/ACCEPT, START, data, STOP/FINISH."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(10)
        s.connect(path)
        s.sendall(fstrm_control(4))  # READY
        assert recv_control(s) == 1  # ACCEPT
        s.sendall(fstrm_control(2) + frames + fstrm_control(3, content_type=False))
        assert recv_control(s) == 5  # FINISH: every frame before STOP was read


def http_call(port, method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    out = r.status, r.read().decode("utf-8", "replace")
    c.close()
    return out


def wait_port(port, proc, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("greyflux exited: " + proc.stderr.read().decode())
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"port {port} never answered")


class DataDirTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="gf-datadir-")
        self.cwd = os.path.join(self.tmp, "cwd")  # unrelated, empty working directory
        os.mkdir(self.cwd)
        self.data = os.path.join(self.tmp, "state", "greyflux")  # does not exist yet
        self.proc = None

    def tearDown(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc and self.proc.stderr:
            self.proc.stderr.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def gf(self, *args, sets=()):
        cmd = [BINARY, *args, "--config", "/dev/null", "--set", f"daemon.data_dir={self.data}"]
        cmd += ROOT if args[0] == "serve" else []
        for s in sets:
            cmd += ["--set", s]
        return subprocess.run(cmd, cwd=self.cwd, capture_output=True, text=True, timeout=60)

    def test_every_front_door_keeps_its_state_under_the_data_directory(self):
        policy, web, mail = free_port(), free_port(), free_port()
        key = self.gf("keys", "add", "--blog", "https://blog.example")
        self.assertEqual(key.returncode, 0, key.stderr)
        key = key.stdout.strip()
        self.assertEqual(stat.S_IMODE(os.stat(self.data).st_mode), 0o750)

        self.proc = subprocess.Popen(
            [BINARY, "serve", "--config", "/dev/null", *ROOT, "--set", f"daemon.data_dir={self.data}",
             "--set", f'policy.listen=["127.0.0.1:{policy}"]',
             "--set", f'http.listen=["127.0.0.1:{web}"]',
             "--set", f'spamd.listen=["127.0.0.1:{mail}"]',
             # Relative, so they must land under the data directory as well.
             "--set", "flux.dnstap_socket=dnstap.sock", "--set", "flux.rpz_path=flux.rpz"],
            cwd=self.cwd, stderr=subprocess.PIPE)
        for port in (policy, web, mail):
            wait_port(port, self.proc)
        for sock in ("greyflux.sock", "dnstap.sock"):  # admin and dnstap sockets
            self.assertTrue(stat.S_ISSOCK(os.stat(os.path.join(self.data, sock)).st_mode), sock)

        # Postfix policy: a new triplet is greylisted.
        conn = Conn(port=policy)
        reply = conn.ask(client_address="192.0.2.7", sender="a@x.example")
        conn.close()
        self.assertTrue(reply.startswith("action=DEFER_IF_PERMIT"), reply)

        # Akismet: the key made offline works, a check answers, a spam report is taken.
        fields = {"api_key": key, "blog": "https://blog.example", "user_ip": "192.0.2.10",
                  "comment_type": "comment", "comment_content": "Lovely bread recipe, thanks."}
        for path, want in (("/1.1/comment-check", ("true", "false")),
                           ("/1.1/submit-spam", ("Thanks for making the web a better place.",))):
            c = http.client.HTTPConnection("127.0.0.1", web, timeout=10)
            c.request("POST", path, body=urllib.parse.urlencode(fields),
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
            r = c.getresponse()
            body = r.read().decode()
            c.close()
            self.assertEqual(r.status, 200, body)
            self.assertIn(body, want)

        # Rspamd's /checkv2 on the same HTTP listener.
        status, body = http_call(web, "POST", "/checkv2", body=MAIL)
        self.assertEqual(status, 200, body)
        self.assertIn("action", json.loads(body))

        # Flux: a dnstap stream into the collector; the API then knows the name.
        send_dnstap(os.path.join(self.data, "dnstap.sock"),
                    dnstap_data_frames(os.path.join(SRC, "fuzz/corpus/fuzz_dnstap/small.dnstap")))
        deadline = time.time() + 10
        while True:
            status, body = http_call(web, "GET", f"/api/v1/flux/{FLUX_NAME}")
            if status == 200 or time.time() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["name"], FLUX_NAME)

        # spamd: a CHECK answers, a TELL makes the mail model change (saved at shutdown).
        self.assertIn("Spam:", spamd(mail, "CHECK"))
        told = spamd(mail, "TELL", ["Message-class: spam", "Set: local"])
        self.assertIn("DidSet: local", told)

        # Admin: the CLI finds the daemon's socket through the data directory alone.
        stats = self.gf("stats")
        self.assertEqual(stats.returncode, 0, stats.stderr)
        self.assertIn("requests\t1\n", stats.stdout)

        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(timeout=20), 0)

        # With the daemon stopped, stats reads the store and says the counters are not live.
        stats = self.gf("stats")
        self.assertEqual(stats.returncode, 0, stats.stderr)
        self.assertIn("requests\t0\n", stats.stdout)
        self.assertIn("no daemon answers on", stats.stderr)
        self.assertIn("request counters are a running daemon's", stats.stderr)

        # Flux: the shipped allowlist is found from any working directory.
        with open(os.path.join(self.tmp, "dns.log"), "w") as f:
            f.write(ZEEK_HEADER)
        scan = self.gf("flux", "scan", os.path.join(self.tmp, "dns.log"))
        self.assertEqual(scan.returncode, 0, scan.stderr)
        self.assertRegex(scan.stdout, r"# allowlist: /\S+/flux-allowlist.txt \([1-9][0-9]* suffixes\)")

        self.assertEqual(os.listdir(self.cwd), [], "nothing may be created in the working dir")
        self.assertEqual(sorted(os.listdir(self.tmp)), ["cwd", "dns.log", "state"])
        state = sorted(os.listdir(self.data))
        for want in ("akismet.lmdb", "greyflux-mail.journal", "greyflux-mail.model", "greyflux.lmdb",
                     "flux.rpz"):
            self.assertIn(want, state)
        with open(os.path.join(self.data, "flux.rpz")) as f:
            self.assertIn("rpz.greyflux.local", f.read())  # written at shutdown
        self.assertGreater(os.path.getsize(os.path.join(self.data, "greyflux-mail.model")), 0)
        self.assertTrue(os.path.exists(os.path.join(self.data, "greyflux.lmdb", "data.mdb")))
        # The TELL journal (spamd.journal) is a state path too: under the data directory.
        self.assertTrue(os.path.exists(os.path.join(self.data, "greyflux-mail.journal", "data.mdb")))

        # dump-config shows the resolved paths.
        dump = self.gf("dump-config", sets=["store.path=/elsewhere/gl.lmdb"])
        self.assertEqual(dump.returncode, 0, dump.stderr)
        self.assertIn(f'store_path = "{self.data}/akismet.lmdb"', dump.stdout)
        self.assertIn(f'socket = "{self.data}/greyflux.sock"', dump.stdout)
        self.assertIn(f'journal = "{self.data}/greyflux-mail.journal"', dump.stdout)
        self.assertIn('path = "/elsewhere/gl.lmdb"', dump.stdout)

    def test_set_takes_one_value_so_files_may_follow_it(self):
        # `--set K=V DIR1 DIR2` used to swallow DIR1 and DIR2 as more --set values ("expected
        # section.key=value"): each --set takes exactly one value, the files stay positional.
        dirs = []
        for name in ("a", "b"):
            d = os.path.join(self.tmp, name)
            os.mkdir(d)
            with open(os.path.join(d, "m.eml"), "w") as f:
                f.write(f"Subject: note {name}\n\nsee you at noon\n")
            dirs.append(d)
        cmd = [BINARY, "classify", "--config", "/dev/null", "--set",
               f"daemon.data_dir={self.data}", "--set", "spamd.required_score=4.5", *dirs]
        r = subprocess.run(cmd, cwd=self.cwd, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        heads = [line.split(" score=")[0] for line in r.stdout.splitlines()]
        self.assertEqual(heads, [os.path.join(d, "m.eml") + " H" for d in dirs])
        self.assertIn("/4.5 ", r.stdout)

    def test_a_configured_file_that_does_not_exist_is_a_startup_error(self):
        missing = os.path.join(self.tmp, "no-such-allowlist.txt")
        r = self.gf("serve", sets=[f"flux.allowlist={missing}"])
        self.assertEqual(r.returncode, 2)
        # One line, naming the setting and the path, though flux itself is off.
        self.assertEqual(r.stderr, f'greyflux: flux.allowlist: {missing} does not exist '
                                   f'("" = none)\n')
        r = self.gf("serve", sets=["flux.allowlist=not-shipped.txt"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("flux.allowlist: \"not-shipped.txt\" is not in", r.stderr)
        self.assertEqual(os.listdir(self.cwd), [])

    def test_a_binary_outside_its_build_tree_serves_without_the_shipped_allowlist(self):
        # Neither installed nor in the build tree: the shipped flux-allowlist.txt is nowhere
        # this binary looks. Flux is off, so that must not stop it.
        copy = os.path.join(self.tmp, "bin", "greyflux")
        os.mkdir(os.path.dirname(copy))
        shutil.copy2(BINARY, copy)
        found = subprocess.run([copy, "flux", "scan", "--config", "/dev/null", "/dev/null"],
                               cwd=self.cwd, capture_output=True, text=True, timeout=60)
        if "is not in" not in found.stderr:
            self.skipTest("an installed greyflux provides flux-allowlist.txt on this machine")
        policy = free_port()
        self.proc = subprocess.Popen(
            [copy, "serve", "--config", "/dev/null", *ROOT, "--set", f"daemon.data_dir={self.data}",
             "--set", f'policy.listen=["127.0.0.1:{policy}"]', "--set", "http.listen=[]"],
            cwd=self.cwd, stderr=subprocess.PIPE)
        wait_port(policy, self.proc)
        conn = Conn(port=policy)
        self.assertTrue(conn.ask(client_address="192.0.2.9").startswith("action=DEFER"))
        conn.close()
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(timeout=20), 0)

        # The features that need the file say so, in one line naming the setting.
        want = ('flux.allowlist: the shipped default "flux-allowlist.txt" is not in '
                '{}, and {} needs it: set flux.allowlist to a file, or to "" for none')
        tried = re.search(r'is not in (\S+(?: or \S+)*), and', found.stderr).group(1)
        self.assertEqual(found.returncode, 1)
        self.assertEqual(found.stderr,
                         want.format(tried, "greyflux flux (without --allowlist)") + "\n")
        r = subprocess.run([copy, "serve", "--config", "/dev/null", *ROOT,
                            "--set", f"daemon.data_dir={self.data}",
                            "--set", f'policy.listen=["127.0.0.1:{free_port()}"]',
                            "--set", "http.listen=[]", "--set", "flux.dnstap_socket=dnstap.sock"],
                           cwd=self.cwd, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr, "greyflux: flux: " + want.format(
            tried, "the flux detector ([flux] dnstap_socket, interface)") + "\n")
        # Turned off explicitly, flux runs without it.
        log = os.path.join(self.tmp, "dns.log")
        with open(log, "w") as f:
            f.write(ZEEK_HEADER)
        r = subprocess.run([copy, "flux", "scan", "--config", "/dev/null", "--set",
                            "flux.allowlist=", log],
                           cwd=self.cwd, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("# allowlist:", r.stdout)
        self.assertEqual(os.listdir(self.cwd), [])

    def test_a_data_directory_that_cannot_be_created_is_one_clear_line(self):
        blocker = os.path.join(self.tmp, "a-file")
        with open(blocker, "w") as f:
            f.write("not a directory\n")
        self.data = os.path.join(blocker, "greyflux")
        port = free_port()
        r = self.gf("serve", sets=[f'policy.listen=["127.0.0.1:{port}"]', "http.listen=[]"])
        self.assertEqual(r.returncode, 2)
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertRegex(lines[0], rf"daemon\.data_dir: cannot create {self.data}: ")
        self.assertEqual(os.listdir(self.cwd), [])


if __name__ == "__main__":
    BINARY = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
