#!/usr/bin/env python3
"""A real WordPress blog's comments through greyflux, end to end in a browser.

Debian's WordPress 6.1 with its bundled Akismet plugin (unchanged), PHP's built-in server and a
private MariaDB (wpstack.py); greyflux serves the Akismet API on a free loopback port and the
blog reaches it through README.md's wp-config.php line and must-use plugin (etc/wordpress). In
headless chromium (browser.js) the owner enters a `greyflux keys add` key on the plugin's
settings page, visitors post a normal and a pharmacy-spam comment, the owner marks the first as
spam and the second as not spam, and two later visitors post the same texts. This script then
checks greyflux's side: the stored checks and their reasons, the usage counters, the daemon's
counters and the training log.

Usage: wordpress_test.py GREYFLUX_BINARY NPM_DIR ARTIFACT_DIR
Budget: about a minute warm (the figure with the command is in the closing note of issue 16).
Everything it starts (greyflux, mariadbd, php and its workers, node and chromium) is stopped by
PID, and its temp dir is removed, also when a step fails.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "akismet"))
from gfakismet import AkismetDaemon  # noqa: E402
from wpstack import WordPress  # noqa: E402

BROWSER_TIMEOUT_S = 240


def descendants(pid):
    """PIDs of every live process below `pid` (chromium runs in its own process group)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def kill_tree(proc):
    if proc is None:
        return
    pids = descendants(proc.pid)
    for pid in [proc.pid, *pids]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def show(gf, guid):
    r = gf.cli("akismet", "show", guid)
    check(r.returncode == 0, f"akismet show {guid}: {r.stderr}")
    return json.loads(r.stdout)


def run(binary, npm_dir, art):
    t0 = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="gf-wordpress-")
    os.makedirs(os.path.join(tmp, "greyflux"))
    gf = AkismetDaemon(binary, tmp=os.path.join(tmp, "greyflux"))
    wp = WordPress(tmp, gf.http_port)
    node = None
    try:
        gf.start()
        key = gf.add_key(wp.url)
        wp.start_db()
        wp.make_root()
        wp.install()
        wp.start_php()
        t_ready = time.monotonic()

        env = dict(os.environ, WP_URL=wp.url, WP_ADMIN=wp.admin_user,
                   WP_PASSWORD=wp.admin_password, GF_KEY=key, ART=art,
                   NODE_PATH=os.path.join(npm_dir, "node_modules"))
        node = subprocess.Popen(["node", os.path.join(HERE, "browser.js")], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            out, err = node.communicate(timeout=BROWSER_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            kill_tree(node)
            raise AssertionError(f"browser.js took over {BROWSER_TIMEOUT_S} s")
        node_rc = node.returncode
        leftover = descendants(node.pid)
        node = None
        check(node_rc == 0, f"browser.js failed ({node_rc}):\n{err}\nphp log:\n"
              + wp.log_text("php")[-3000:])
        check(not leftover, f"chromium processes left behind: {leftover}")
        res = json.loads(out.strip().splitlines()[-1])
        t_browser = time.monotonic()
        c = res["comments"]
        ids = {name: c[name]["id"] for name in ("ham", "spam", "hamAgain", "spamAgain")}

        # WordPress's own view: the statuses the Akismet plugin and the owner left.
        status = {int(i): s for i, s in wp.rows(
            "SELECT comment_ID, comment_approved FROM wp_comments")}
        check(status[ids["ham"]] == "spam", f"marked-spam comment is {status[ids['ham']]}")
        check(status[ids["spam"]] != "spam", "the not-spam comment is still spam")
        check(status[ids["hamAgain"]] == "spam", "repeat of reported spam not in spam")
        check(status[ids["spamAgain"]] == "1", f"repeat of reported ham is {status[ids['spamAgain']]}")
        guids = {int(i): g for i, g in wp.rows(
            "SELECT comment_id, meta_value FROM wp_commentmeta WHERE meta_key='greyflux_test_guid'")}
        check(all(ids[n] in guids for n in ids), f"no greyflux guid for some comments: {guids}")
        history = wp.rows("SELECT comment_id, meta_value FROM wp_commentmeta "
                          "WHERE meta_key='akismet_result'")
        check({int(i): v for i, v in history}.get(ids["spam"]) == "true",
              f"the plugin did not record Akismet's 'true' for the spam comment: {history}")

        # greyflux's stored checks and their reasons.
        rec = {n: show(gf, guids[ids[n]]) for n in ids}
        check(rec["ham"]["verdict"] == "ham", f"first comment: {rec['ham']}")
        check(rec["spam"]["verdict"] == "spam", f"spam comment: {rec['spam']}")
        check("LINKS_MANY" in rec["spam"]["reasons"], f"spam reasons: {rec['spam']['reasons']}")
        check(rec["spam"]["fields"]["comment_author"] == "Cheap Meds", rec["spam"]["fields"])
        check(rec["spam"]["fields"].get("blog") == wp.url, rec["spam"]["fields"])
        check(rec["hamAgain"]["verdict"] == "spam" and
              "TEXT_REPORTED_SPAM" in rec["hamAgain"]["reasons"], f"repeat: {rec['hamAgain']}")
        check(rec["spamAgain"]["verdict"] == "ham" and
              "TEXT_REPORTED_HAM" in rec["spamAgain"]["reasons"], f"repeat: {rec['spamAgain']}")

        # Usage counters: the owner's two corrections as missed spam and false positive.
        with urllib.request.urlopen(f"http://127.0.0.1:{gf.http_port}/1.2/key-sites?api_key={key}",
                                    timeout=10) as r:
            sites = json.loads(r.read())
        month = [k for k in sites if k not in ("limit", "offset", "total")][0]
        site = [s for s in sites[month] if s["site"] == wp.url]
        check(len(site) == 1, f"key-sites: {sites}")
        got = {k: site[0][k] for k in ("spam", "ham", "missed_spam", "false_positives")}
        check(got == {"spam": "2", "ham": "2", "missed_spam": "1", "false_positives": "1"},
              f"key-sites usage: {got}")
        stats = dict(line.split("\t", 1) for line in gf.cli("stats").stdout.splitlines()
                     if "\t" in line)
        check(stats.get("akismet.submits") == "2" and stats.get("akismet.trained") == "2",
              f"greyflux stats: {stats}")

        # The training log: after a restart the two reports are replayed or in the snapshot.
        def trained_lines():
            return [line for line in gf.log_text().splitlines() if "model trained on" in line]
        check(gf.stop() == 0, "greyflux did not stop cleanly")
        before = len(trained_lines())
        gf.start()
        deadline = time.monotonic() + 10
        while len(trained_lines()) == before and time.monotonic() < deadline:
            time.sleep(0.05)
        training = trained_lines()[before:]
        check(training and "1 spam and 1 ham" in training[-1], f"training log: {training}")

        t_end = time.monotonic()
        print(f"wordpress: stack ready in {t_ready - t0:.1f} s, browser {t_browser - t_ready:.1f} s,"
              f" total {t_end - t0:.1f} s; screenshots: {len(res['screenshots'])} in {art}")
        print("wordpress: settings notice:", res["settings"]["notice"][:200])
        for n in ids:
            print(f"wordpress: {n}: comment {ids[n]} {status[ids[n]]}, greyflux "
                  f"{rec[n]['verdict']} {rec[n].get('score')} {rec[n]['reasons']}")
    finally:
        kill_tree(node)
        gf.stop(signal.SIGKILL)
        wp.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    if len(sys.argv) != 4:
        print(__doc__.strip().splitlines()[-5], file=sys.stderr)
        return 2
    binary, npm_dir, art = sys.argv[1:]
    shutil.rmtree(art, ignore_errors=True)
    try:
        run(binary, npm_dir, art)
    except AssertionError as e:
        print(f"wordpress: FAILED: {e}", file=sys.stderr)
        return 1
    print("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
