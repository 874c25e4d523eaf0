"""A private WordPress blog for one test: Debian's `wordpress` package served by PHP's built-in
server, on a MariaDB of its own, with the bundled Akismet plugin.

Nothing system-wide is touched: MariaDB gets its own data directory and a unix socket in the
test's temp dir (no TCP port at all), PHP listens on a free loopback port, and Debian's
/usr/share/wordpress/wp-config.php (which reads /etc/wordpress/config-HOST.php) is bypassed: the
blog's root is a directory of symlinks to /usr/share/wordpress with its own wp-config.php and
wp-content, and PHP's auto_prepend_file defines ABSPATH as that root, so every entry point
(index.php, wp-admin/*, wp-comments-post.php) loads the test's wp-config.php. Every process is
started here and stopped by its PID in stop().
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import time

WP_SHARE = "/usr/share/wordpress"
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what, ready, proc=None, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        if ready():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} not ready within {timeout} s")


def readme_wp_config(greyflux_port):
    """The wp-config.php lines README.md tells a blog owner to add, with greyflux's port."""
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"<!-- wp-config: begin -->\s*```php\n(.*?)```\s*<!-- wp-config: end -->", text,
                  re.S)
    if not m:
        raise RuntimeError("README.md has no wp-config block between the wp-config markers")
    lines = m.group(1)
    if "127.0.0.1:8080" not in lines:
        raise RuntimeError("README.md's wp-config block does not name 127.0.0.1:8080")
    return lines.replace("127.0.0.1:8080", f"127.0.0.1:{greyflux_port}")


class WordPress:
    def __init__(self, tmp, greyflux_port):
        self.tmp = tmp
        self.greyflux_port = greyflux_port
        self.root = os.path.join(tmp, "wp")
        self.db_dir = os.path.join(tmp, "mariadb")
        self.db_sock = os.path.join(tmp, "mariadb.sock")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.admin_user = "admin"
        self.admin_password = "greyflux-test-" + os.urandom(6).hex()
        self.procs = {}
        self.logs = {}

    # --- MariaDB ---------------------------------------------------------------------------
    def start_db(self):
        os.makedirs(self.db_dir)
        subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={self.db_dir}",
                        "--user=root", "--auth-root-authentication-method=normal",
                        "--skip-test-db", "--skip-name-resolve"],
                       check=True, capture_output=True, timeout=120)
        self._spawn("mariadbd", ["mariadbd", "--no-defaults", f"--datadir={self.db_dir}",
                                 f"--socket={self.db_sock}", "--skip-networking", "--user=root",
                                 f"--pid-file={self.tmp}/mariadb.pid",
                                 "--innodb-buffer-pool-size=32M", "--skip-log-bin",
                                 "--innodb-flush-log-at-trx-commit=0"])
        wait_until("mariadbd", lambda: self.sql("SELECT 1", check=False).returncode == 0,
                   self.procs["mariadbd"])
        self.sql("CREATE DATABASE wordpress CHARACTER SET utf8mb4")

    def sql(self, query, check=True):
        db = [] if query.startswith(("CREATE DATABASE", "SELECT 1")) else ["wordpress"]
        return subprocess.run(["mariadb", "--no-defaults", "-S", self.db_sock, "-u", "root",
                               "-N", "-B", *db, "-e", query],
                              capture_output=True, text=True, check=check, timeout=30)

    def rows(self, query):
        out = self.sql(query).stdout
        return [line.split("\t") for line in out.splitlines() if line]

    # --- the blog's root and PHP ----------------------------------------------------------
    def make_root(self):
        os.makedirs(self.root)
        for name in os.listdir(WP_SHARE):
            if name not in ("wp-config.php", "wp-content", ".htaccess"):
                os.symlink(os.path.join(WP_SHARE, name), os.path.join(self.root, name))
        content = os.path.join(self.root, "wp-content")
        for d in ("plugins", "mu-plugins", "uploads"):
            os.makedirs(os.path.join(content, d))
        os.symlink(os.path.join(WP_SHARE, "wp-content", "themes"), os.path.join(content, "themes"))
        os.symlink(os.path.join(WP_SHARE, "wp-content", "plugins", "akismet"),
                   os.path.join(content, "plugins", "akismet"))
        # The must-use plugin README.md tells a blog owner to install, and the test's own.
        shutil.copy(os.path.join(REPO, "etc", "wordpress", "greyflux-akismet.php"),
                    os.path.join(content, "mu-plugins"))
        shutil.copy(os.path.join(HERE, "greyflux-test-mu.php"), os.path.join(content, "mu-plugins"))
        salts = "".join(f"define('{k}', '{os.urandom(24).hex()}');\n" for k in (
            "AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY", "AUTH_SALT",
            "SECURE_AUTH_SALT", "LOGGED_IN_SALT", "NONCE_SALT"))
        with open(os.path.join(self.root, "wp-config.php"), "w", encoding="utf-8") as f:
            f.write(f"""<?php
// The test's own config (Debian keeps it in /etc/wordpress/config-HOST.php).
define('DB_NAME', 'wordpress');
define('DB_USER', 'root');
define('DB_PASSWORD', '');
define('DB_HOST', 'localhost:{self.db_sock}');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
{salts}$table_prefix = 'wp_';
define('WP_CONTENT_DIR', '{content}');
define('WP_HOME', '{self.url}');
define('WP_SITEURL', '{self.url}');
// Test-only: no cron spawn, no updater, and no outgoing HTTP beyond this blog's own host: an
// Akismet call that the must-use plugin did not send to greyflux fails instead of leaving.
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_HTTP_BLOCK_EXTERNAL', true);

// What README.md tells a blog owner to add, verbatim but for greyflux's port:
{readme_wp_config(self.greyflux_port)}
require_once ABSPATH . 'wp-settings.php';
""")
        with open(os.path.join(self.tmp, "prepend.php"), "w", encoding="utf-8") as f:
            f.write(f"<?php\nif (!defined('ABSPATH')) {{ define('ABSPATH', '{self.root}/'); }}\n")

    def php(self, *args, **kw):
        return ["php", "-d", "memory_limit=256M", "-d", f"auto_prepend_file={self.tmp}/prepend.php",
                *args]

    def install(self, blog_name="greyflux test blog"):
        r = subprocess.run(self.php(os.path.join(HERE, "install.php"), self.root, self.url,
                                    blog_name, self.admin_user, self.admin_password),
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0 or "installed" not in r.stdout:
            raise RuntimeError(f"install.php failed ({r.returncode}): {r.stdout}\n{r.stderr}")
        return r.stdout

    def start_php(self):
        env = dict(os.environ, PHP_CLI_SERVER_WORKERS="4")
        self._spawn("php", self.php("-S", f"127.0.0.1:{self.port}", "-t", self.root), env=env)

        def up():
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return True
            except OSError:
                return False
        wait_until("php -S", up, self.procs["php"])

    # --- processes ---------------------------------------------------------------------------
    def _spawn(self, name, cmd, env=None):
        log = open(os.path.join(self.tmp, f"{name}.log"), "wb")
        self.logs[name] = log.name
        self.procs[name] = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                            start_new_session=True)
        log.close()

    def log_text(self, name):
        try:
            with open(self.logs[name], encoding="utf-8", errors="replace") as f:
                return f.read()
        except (KeyError, FileNotFoundError):
            return ""

    def stop(self):
        """Stops PHP (its worker processes are its process group) and MariaDB, by PID."""
        for name in ("php", "mariadbd"):
            p = self.procs.get(name)
            if p is None or p.poll() is not None:
                continue
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
