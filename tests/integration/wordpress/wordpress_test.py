#!/usr/bin/env python3
"""A real WordPress blog's comments through greyflux, end to end in a browser.

Debian's WordPress 6.1 with its bundled Akismet plugin (unchanged), PHP's built-in server and a
private MariaDB (wpstack.py); greyflux serves the Akismet API on a free loopback port and the
blog reaches it through README.md's wp-config.php line and must-use plugin (etc/wordpress). In
headless chromium (browser.js) the owner enters a `greyflux keys add` key on the plugin's
settings page, visitors post a normal and a pharmacy-spam comment, the owner marks the first as
spam and the second as not spam, and two later visitors post the same texts. Then greyflux is
stopped, a visitor's comment is held for moderation, greyflux comes back (with a usage limit
below this month's usage) and the owner presses "Check for Spam"; the plugin shows greyflux's
usage-limit alert, and the owner deactivates the plugin. This script checks greyflux's side:
the stored checks and their reasons, the recheck and its recheck_reason, the usage counters,
the daemon's counters, the training log (replayed across the restart) and the deactivate call.

Usage: wordpress_test.py GREYFLUX_BINARY NPM_DIR ARTIFACT_DIR
Budget: about 130 s (the measured figure and its command are in CMakeLists.txt beside it).
Everything it starts (greyflux, mariadbd, php and its workers, node and chromium) is stopped by
PID, and its temp dir is removed, also when a step fails.
"""
import json
import os
import shutil
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "akismet"))
from gfakismet import AkismetDaemon  # noqa: E402
from wpstack import WordPress  # noqa: E402

BROWSER_TIMEOUT_S = 300
USAGE_LIMIT = 5  # this month's API calls are well over it by the time greyflux restarts


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


def read_line(proc, deadline):
    """The next line node prints, or AssertionError at the deadline."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"browser.js took over {BROWSER_TIMEOUT_S} s")
        ready, _, _ = select.select([proc.stdout], [], [], min(left, 1.0))
        if ready:
            return proc.stdout.readline()


def show(gf, guid):
    r = gf.cli("akismet", "show", guid)
    check(r.returncode == 0, f"akismet show {guid}: {r.stderr}")
    return json.loads(r.stdout)


def run(binary, npm_dir, art, used):
    """The test; `used` gets the temp dir and ports it took, for check_cleaned_up()."""
    t0 = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="gf-wordpress-")
    os.makedirs(os.path.join(tmp, "greyflux"))
    gf = AkismetDaemon(binary, tmp=os.path.join(tmp, "greyflux"))
    wp = WordPress(tmp, gf.http_port)
    used.update(tmp=tmp, ports=[gf.http_port, gf.port, wp.port])
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
        err_path = os.path.join(tmp, "browser.stderr")
        with open(err_path, "wb") as err_file:
            node = subprocess.Popen(["node", os.path.join(HERE, "browser.js")], env=env,
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=err_file, text=True, bufsize=1)
        deadline = time.monotonic() + BROWSER_TIMEOUT_S
        out_lines, mid = [], {}
        while True:
            line = read_line(node, deadline)
            if not line:
                break
            out_lines.append(line)
            if line.startswith("GF-ASK "):
                answer_ask(line.split()[1], gf, key, wp, mid)
                node.stdin.write("ok\n")
                node.stdin.flush()
        node_rc = node.wait(timeout=max(1, deadline - time.monotonic()))
        leftover = descendants(node.pid)
        node = None
        with open(err_path, encoding="utf-8", errors="replace") as f:
            err = f.read()
        check(node_rc == 0, f"browser.js failed ({node_rc}):\n{err}\nphp log:\n"
              + wp.log_text("php")[-3000:])
        check(not leftover, f"chromium processes left behind: {leftover}")
        out = "".join(out_lines)
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
        # The plugin's history of the spam comment: caught on arrival ('true'), then, as the
        # owner marked it not spam, rechecked by "Check for Spam" as ham (akismet_result now
        # 'false').
        def akismet_meta(comment_id, meta_key):
            return "".join(v for _, v in wp.rows(
                f"SELECT comment_id, meta_value FROM wp_commentmeta WHERE comment_id={comment_id} "
                f"AND meta_key='{meta_key}'"))
        spam_history = akismet_meta(ids["spam"], "akismet_history")
        check('"check-spam"' in spam_history and '"recheck-ham"' in spam_history,
              f"the plugin's history of the spam comment: {spam_history[:600]}")
        check(akismet_meta(ids["spam"], "akismet_result") == "false",
              "akismet_result of the rechecked not-spam comment")

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

        # "Check for Spam": the held comment was rechecked with its reason and moved to spam.
        held = ids["held"] = c["held"]["id"]
        check(status.get(held) == "spam", f"held comment after Check for Spam: {status.get(held)}")
        history = akismet_meta(held, "akismet_history")
        check('"recheck-spam"' in history, f"held comment's Akismet history: {history[:500]}")
        # Both pending comments were rechecked: the held one (spam) and the one the owner
        # marked not spam (pending since; still ham).
        rechecks = [line for line in gf.log_text().splitlines()
                    if "comment-check recheck_reason=recheck_queue" in line]
        check(len(rechecks) == 2 and all(f"blog={wp.url}" in line for line in rechecks),
              f"greyflux's recheck log lines: {rechecks}")
        rechecked = {}
        for line in rechecks:
            r = show(gf, line.split("guid=")[1].split()[0])
            check(r["fields"].get("recheck_reason") == "recheck_queue", f"recheck: {r}")
            rechecked[r["fields"].get("comment_author")] = r
        rec["held"] = rechecked.get("Dee Held", {})
        check(rec["held"].get("verdict") == "spam" and
              "TEXT_REPORTED_SPAM" in rec["held"]["reasons"], f"recheck: {rechecked}")
        check(rechecked.get("Cheap Meds", {}).get("verdict") == "ham" and
              status[ids["spam"]] == "0", f"recheck of the not-spam comment: {rechecked}")

        # The usage alert reached WordPress (the browser saw the plugin's notice).
        alert = dict(wp.rows("SELECT option_name, option_value FROM wp_options WHERE option_name "
                             "IN ('akismet_alert_code', 'akismet_alert_usage_limit')"))
        check(alert.get("akismet_alert_code") == "10501" and
              alert.get("akismet_alert_usage_limit") == str(USAGE_LIMIT), f"alert options: {alert}")

        # Deactivating the plugin called /1.1/deactivate with the blog's key (the line is written
        # only for a valid key, and this greyflux has one); no part of the key is logged.
        deact = [line for line in gf.log_text().splitlines() if "deactivate blog=" in line]
        check(len(deact) == 1 and deact[0].endswith(f"deactivate blog={wp.url}") and
              key[:4] not in deact[0], f"greyflux's deactivate log lines: {deact}")

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


def check_cleaned_up(used):
    """Nothing the test started outlives it: its temp dir is gone, no process names that dir
    (greyflux, mariadbd, php and its workers all run from it), and its ports are closed."""
    check(not os.path.exists(used["tmp"]), f"{used['tmp']} was not removed")
    left = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if used["tmp"].encode() in f.read():
                    left.append(int(entry))
        except OSError:
            continue
    check(not left, f"processes left running from {used['tmp']}: {left}")
    for port in used["ports"]:
        with socket.socket() as s:
            s.settimeout(0.5)
            check(s.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still answers")


def answer_ask(what, gf, key, wp, mid):
    """What browser.js asks of the test between its steps."""
    if what == "stop-greyflux":
        check_feedback_counters(gf, key, wp)
        check(gf.stop() == 0, "greyflux did not stop cleanly")
        mid["trained_before"] = len(trained_lines(gf))
    elif what == "start-greyflux-over-usage-limit":
        gf.start("--set", f"akismet.usage_limit={USAGE_LIMIT}")
        # The training log: after a restart the two reports are replayed or in the snapshot.
        deadline = time.monotonic() + 10
        while len(trained_lines(gf)) == mid["trained_before"] and time.monotonic() < deadline:
            time.sleep(0.05)
        training = trained_lines(gf)[mid["trained_before"]:]
        check(training and "1 spam and 1 ham" in training[-1], f"training log: {training}")
    else:
        raise AssertionError(f"browser.js asked for {what}")


def trained_lines(gf):
    return [line for line in gf.log_text().splitlines() if "model trained on" in line]


def check_feedback_counters(gf, key, wp):
    """The owner's two corrections as missed spam and false positive in the usage counters,
    and as submits in the daemon's counters (read before greyflux stops: they are per run)."""
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


def main():
    if len(sys.argv) != 4:
        print(next(line for line in __doc__.splitlines() if line.startswith("Usage:")), file=sys.stderr)
        return 2
    binary, npm_dir, art = sys.argv[1:]
    shutil.rmtree(art, ignore_errors=True)
    used, failures = {}, []
    try:
        run(binary, npm_dir, art, used)
    except AssertionError as e:
        failures.append(str(e))
    if used:  # also after a failure: a failing run must not leave anything behind either
        try:
            check_cleaned_up(used)
            print(f"wordpress: cleaned up: {used['tmp']} removed, no process left, ports "
                  f"{used['ports']} closed")
        except AssertionError as e:
            failures.append(str(e))
    for f in failures:
        print(f"wordpress: FAILED: {f}", file=sys.stderr)
    if failures:
        return 1
    print("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
