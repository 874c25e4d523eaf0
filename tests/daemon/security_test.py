"""Security of a running greyflux (issue 17): secrets never logged, the admin socket's mode and
group, and the refusal to start on a world-writable config file or state directory.

- An API key is used every way a client can send it (form field api_key or key, the Host prefix,
  the query string, a malformed request), at log.level = debug; then neither the key nor its
  first 8 characters are anywhere in the log.
- The admin socket is mode 0660 with the daemon's group by default and with admin.group when
  set; an unknown admin.group stops start-up with one line naming it.
- A world-writable config file, data directory or store directory stops start-up with exit 2 and
  one line on standard error naming the path; nothing is served.

Usage: security_test.py GREYFLUX_BINARY"""
import grp
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration", "akismet"))
from gfakismet import COMMENT, AkismetDaemon  # noqa: E402
from gfdaemon import ROOT, Daemon  # noqa: E402

BINARY = None


class SecretsNeverLogged(unittest.TestCase):
    def test_api_key_is_not_in_the_log(self):
        d = AkismetDaemon(BINARY, sets=["log.level=debug"])
        try:
            d.start()
            key = d.add_key()
            self.assertRegex(key, r"^[a-z0-9]{12}$")
            host = f"{key}.rest.akismet.com"
            self.assertEqual(d.post("/1.1/verify-key", {"key": key, "blog": COMMENT["blog"]})[2],
                             "valid")
            status, hdrs, body = d.post("/1.1/comment-check", dict(COMMENT, api_key=key))
            self.assertEqual(status, 200)
            self.assertIn(body, ("true", "false"))
            self.assertEqual(d.post("/1.1/comment-check", COMMENT, host=host)[0], 200)
            self.assertEqual(d.post("/1.1/submit-spam", dict(COMMENT, api_key=key))[2],
                             "Thanks for making the web a better place.")
            self.assertEqual(d.post("/1.1/submit-ham", COMMENT, host=host)[0], 200)
            d.post(f"/1.1/comment-check?api_key={key}", COMMENT)
            self.assertEqual(d.post("/1.1/deactivate", {"key": key, "blog": COMMENT["blog"]})[2],
                             "deactivated")
            # A near miss and a malformed request that carries the key in a header.
            self.assertEqual(d.post("/1.1/verify-key", {"key": key[:-1] + "0" if key[-1] != "0"
                                                        else key[:-1] + "1", "blog": "b"})[2],
                             "invalid")
            with socket.create_connection(("127.0.0.1", d.http_port), timeout=5) as s:
                s.sendall(f"POST /1.1/comment-check HTTP/1.1\r\nHost: {host}\r\n"
                          f"X-Key: {key}\r\n folded\r\n\r\n".encode())
                self.assertTrue(s.recv(4096).startswith(b"HTTP/1.1 400 "))
            # The lines are written (debug and info lines, the 400 warning) before checking.
            d.stop()
            log = d.log_text()
            self.assertIn("submit-spam", log)
            self.assertIn("deactivate blog=", log)
            self.assertIn("400 to", log)
            self.assertNotIn(key, log)
            self.assertNotIn(key[:8], log)
        finally:
            d.stop()
            shutil.rmtree(d.tmp, ignore_errors=True)


def wait_admin_socket(d, timeout=10):
    """The daemon is ready when its policy port is; the admin socket follows within moments."""
    deadline = time.time() + timeout
    while not os.path.exists(d.admin) and time.time() < deadline:
        time.sleep(0.02)
    return os.stat(d.admin)


class AdminSocket(unittest.TestCase):
    def start(self, *sets):
        d = Daemon(BINARY, sets=list(sets))
        self.addCleanup(shutil.rmtree, d.tmp, True)
        self.addCleanup(d.stop)
        return d

    def test_mode_0660_and_the_daemons_group(self):
        d = self.start()
        d.start()
        st = wait_admin_socket(d)
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o660)
        self.assertEqual(st.st_gid, os.getegid())
        self.assertEqual(d.cli("stats").returncode, 0)  # and it answers
        # Nothing left over from the create-then-rename.
        self.assertEqual([n for n in os.listdir(d.tmp) if n.endswith(".tmp")], [])

    def test_admin_group_setting(self):
        # Root may give the socket any group; another user only one it belongs to.
        name = "nogroup" if os.geteuid() == 0 else grp.getgrgid(os.getgroups()[-1]).gr_name
        d = self.start(f"admin.group={name}")
        d.start()
        st = wait_admin_socket(d)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o660)
        self.assertEqual(st.st_gid, grp.getgrnam(name).gr_gid)

    def test_unknown_group_stops_start_up(self):
        d = self.start("admin.group=no-such-group-gf")
        r = subprocess.run([BINARY, "serve", "--config", d.config, *ROOT, *d.sets],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn('no group named "no-such-group-gf"', r.stderr)


class WorldWritable(unittest.TestCase):
    def refused(self, d, path):
        r = subprocess.run([BINARY, "serve", "--config", d.config, *ROOT, *d.sets],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2, r.stderr)
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn("refusing to start", lines[0])
        self.assertIn(f"{path} is world-writable", lines[0])
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", d.port), timeout=0.5).close()

    def daemon(self, *sets):
        d = Daemon(BINARY, sets=list(sets))
        self.addCleanup(shutil.rmtree, d.tmp, True)
        return d

    def test_world_writable_config_file(self):
        d = self.daemon()
        os.chmod(d.config, 0o666)
        self.refused(d, d.config)
        os.chmod(d.config, 0o644)  # fixed: it starts
        d.start()
        d.stop()

    def test_world_writable_data_dir(self):
        d = self.daemon()
        data = os.path.join(d.tmp, "data")
        os.mkdir(data)
        os.chmod(data, 0o777 | stat.S_ISVTX)  # sticky is no excuse
        d.sets += ["--set", f"daemon.data_dir={data}"]
        self.refused(d, data)

    def test_world_writable_store_dir(self):
        d = self.daemon()
        os.mkdir(os.path.join(d.tmp, "db"))
        os.chmod(os.path.join(d.tmp, "db"), 0o777)
        self.refused(d, os.path.join(d.tmp, "db"))


if __name__ == "__main__":
    BINARY = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
