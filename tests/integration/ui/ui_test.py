#!/usr/bin/env python3
"""The web dashboard end to end in headless Debian chromium (issue 15).

A real greyflux (uistack.py) with its policy, HTTP, spamd and dnstap doors on loopback is fed
real traffic: greylist triplets deferred and passed, comment-checks, spamc TELL training and a
CHECK that scans as spam, and a dnstap stream with a fast-flux name over several seconds. Then
browser.js logs in with a `greyflux admin-token create` token and works the dashboard; this
script checks greyflux's side when it asks:
  - comment-check-is-spam: the comment it marked spam in History, sent again, answers "true";
  - mail-scan-below-threshold: the mail it marked ham, scanned again, is below required_score.
It also checks the asset serving over HTTP (CSP, 308, 304 with If-None-Match) and that the
browser's answers (learned counts, churn points) match the API's.

Usage: ui_test.py GREYFLUX NPM_DIR ARTIFACT_DIR
Exit 77 (skipped, with the reason) when /usr/bin/chromium or node is missing, or while this
build lacks one of the API routes the dashboard reads (the admin API, metrics and history
pieces of issue 15 land separately; the skip names the missing routes).
"""
import http.client
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import uistack  # noqa: E402
from uistack import Stack  # noqa: E402

BROWSER_TIMEOUT_S = 240


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def get(port, path, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, body


def check_assets(stack):
    status, hdrs, body = get(stack.http_port, "/ui")
    check(status == 308 and hdrs.get("location") == "/ui/", f"/ui: {status} {hdrs}")
    status, hdrs, body = get(stack.http_port, "/ui/")
    check(status == 200 and hdrs["content-type"].startswith("text/html"), f"/ui/: {status}")
    check(b'<script type="module" src="js/app.js">' in body, "/ui/ is not the dashboard")
    check("script-src 'self'" in hdrs.get("content-security-policy", ""), f"no CSP: {hdrs}")
    etag = hdrs.get("etag")
    check(etag, "no ETag on /ui/")
    status, _, body = get(stack.http_port, "/ui/", {"If-None-Match": etag})
    check(status == 304 and body == b"", f"If-None-Match {etag}: {status}")
    status, hdrs, _ = get(stack.http_port, "/ui/js/app.js")
    check(status == 200 and hdrs["content-type"].startswith("text/javascript"), f"app.js: {status}")
    status, _, _ = get(stack.http_port, "/ui/../etc/passwd")
    check(status == 404, f"/ui/../etc/passwd: {status}")
    # The pages load nothing from elsewhere: no absolute URL in any asset.
    for name in ("index.html", "app.css"):
        _, _, body = get(stack.http_port, f"/ui/{name}")
        check(b"http://" not in body and b"https://" not in body, f"{name} names another host")


def missing_routes(stack):
    """The issue-15 API routes the dashboard reads that this greyflux answers 404 (the admin
    API, metrics and history pieces landed separately)."""
    missing = []
    for path in ("status", "stats/series?range=hour", "history?limit=1", "flux?limit=1"):
        status, _ = stack.api("GET", path)
        if status == 404:
            missing.append(f"GET /api/v1/{path}")
    return missing


def run(binary, npm_dir, art):
    stack = Stack(binary)
    node = None
    try:
        t0 = time.monotonic()
        usage = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30)
        if "admin-token" not in usage.stdout + usage.stderr:
            print("SKIPPED: this greyflux has no `admin-token` command (the admin API the "
                  "dashboard logs in through is not in this build yet)")
            return 77
        stack.start()
        missing = missing_routes(stack)
        if missing:
            print("SKIPPED: the dashboard's API routes are not all in this build yet: "
                  + ", ".join(missing))
            return 77
        fed = stack.feed()
        check(all(a.startswith("action=") for a in fed["policy"]), fed["policy"])
        check(fed["comments"][-1] == "false", f"the comment to report was judged {fed['comments'][-1]}")
        is_spam, score = fed["mail"]
        check(is_spam and score >= uistack.REQUIRED_SCORE,
              f"the mail to relearn scans {score} before relearning (want spam)")
        status, body = stack.wait_api(f"flux/{uistack.FLUX_NAME}",
                                      lambda s, b: s == 200 and isinstance(b, dict) and b.get("flux"))
        check(status == 200 and body.get("flux"), f"flux/{uistack.FLUX_NAME}: {status} {body}")
        check_assets(stack)
        t_fed = time.monotonic()

        shutil.rmtree(art, ignore_errors=True)
        env = dict(os.environ, GF_URL=stack.url, GF_TOKEN=stack.token, ART=art,
                   NODE_PATH=os.path.join(npm_dir, "node_modules"),
                   GF_COMMENT_SPAM_IP=uistack.COMMENT_SPAM_IP,
                   GF_COMMENT_HAM_IP=uistack.COMMENT_HAM_IP,
                   GF_MAIL_SENDER=uistack.MAIL_SENDER, GF_FLUX_NAME=uistack.FLUX_NAME,
                   GF_FLUX_PARTNER=uistack.FLUX_PARTNER,
                   GF_POLICY_CLIENT="203.0.113.20")
        node = subprocess.Popen(["node", os.path.join(HERE, "browser.js")], env=env,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                start_new_session=True)
        deadline = time.monotonic() + BROWSER_TIMEOUT_S
        asked = []
        result = None
        while True:
            left = deadline - time.monotonic()
            check(left > 0, f"browser.js took over {BROWSER_TIMEOUT_S} s")
            ready, _, _ = select.select([node.stdout], [], [], min(left, 1.0))
            if not ready:
                continue
            line = node.stdout.readline()
            if not line:
                break
            if line.startswith("GF-ASK "):
                what = line.split(" ", 1)[1].strip()
                asked.append(what)
                answer = "ok"
                if what == "comment-check-is-spam":
                    got = stack.comment_check(uistack.COMMENT_TEXT, uistack.COMMENT_SPAM_IP,
                                              "Sam Spammer")
                    if got != "true":
                        answer = f"the same comment now answers {got}, not true"
                elif what == "mail-scan-below-threshold":
                    is_spam, score = stack.scan(uistack.MAIL)
                    if is_spam or score >= uistack.REQUIRED_SCORE:
                        answer = f"the same mail now scans {score} (spam {is_spam})"
                    print(f"mail rescanned after 'not spam': {score} < {uistack.REQUIRED_SCORE}")
                else:
                    answer = f"unknown question {what}"
                node.stdin.write(answer + "\n")
                node.stdin.flush()
            elif line.startswith("{"):
                result = json.loads(line)
        rc = node.wait(timeout=30)
        node = None
        if result:
            for s in result.get("screenshots", []):
                print("screenshot:", s)
        check(rc == 0, f"browser.js failed (exit {rc}); result: {json.dumps(result)[:2000]}")
        check(asked == ["comment-check-is-spam", "mail-scan-below-threshold"], asked)
        check("Learned 1 as spam" in result["comment"]["said"], result["comment"])
        check(result["mail"]["reasons"] > 0, result["mail"])
        check(result["mail"]["learned"] == "learned as not spam", result["mail"])
        # The API agrees with what the page showed.
        status, row = stack.api("GET", f"history/{result['comment']['id']}")
        check(status == 200 and row.get("learned") == "spam", f"history row: {status} {row}")
        status, series = stack.api("GET", f"flux/{uistack.FLUX_NAME}/series")
        churn = next(c for c in result["churn"] if c["title"].startswith("Distinct addresses"))
        check(status == 200 and len(series["points"]) * 3 >= churn["points"] > 0,
              f"churn points: page {churn}, API {status}")
        print(f"fed in {t_fed - t0:.1f} s, browser {time.monotonic() - t_fed:.1f} s; "
              f"{len(result['screenshots'])} screenshots in {art}")
        print(json.dumps({k: result[k] for k in ("charts", "bulk", "keyboard", "phoneScrollWidth")}))
        return 0
    finally:
        if node is not None and node.poll() is None:
            os.killpg(node.pid, signal.SIGKILL)
            node.wait()
        log = stack.log
        if os.path.exists(log):
            with open(log, encoding="utf-8", errors="replace") as f:
                errors = [l for l in f if " error" in l.lower() or "[critical]" in l]
            for l in errors[-10:]:
                print("greyflux log:", l.rstrip())
        stack.cleanup()


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    if not os.access("/usr/bin/chromium", os.X_OK):
        print("SKIPPED: /usr/bin/chromium is missing (scripts/deps.sh test installs chromium)")
        return 77
    if shutil.which("node") is None:
        print("SKIPPED: node is missing (scripts/deps.sh test installs nodejs)")
        return 77
    return run(*sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
