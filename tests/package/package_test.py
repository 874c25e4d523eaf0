"""The Debian package end to end, on this machine (needs root; `make test-package`).

1. `apt-get install ./greyflux_*.deb`: the greyflux system user (sysusers.d), /var/lib/greyflux
   owned by it, the conffile, the unit, the man pages; the unit's `systemd-analyze security`
   exposure is at most 2.0.
2. The service is started the way the unit starts it. systemd is not running on a build or CI
   machine, so the [Service] lines are applied by hand: setpriv gives the process User=, Group=
   (with its supplementary groups), AmbientCapabilities=, CapabilityBoundingSet= and
   NoNewPrivileges=, then ExecStartPre= and ExecStart= run in WorkingDirectory= with UMask=.
   The listeners are moved to free ports by editing the conffile, as an admin would (spamd on a
   port below 1024, which needs the ambient CAP_NET_BIND_SERVICE).
3. Traffic through each front door with the clients of tests/: a Postfix policy request
   (gfdaemon.Conn), an Akismet comment-check (gfakismet), spamc (Debian's) with a GTUBE mail.
   The daemon runs as greyflux with no capability left.
   The installed binary has Debian's hardening (hardening-check, and readelf's view of it).
4. `apt-get purge greyflux`: nothing of greyflux is left on the file system; only the greyflux
   user and group remain, as Debian policy keeps system users.

Usage: package_test.py PATH/greyflux_VERSION_ARCH.deb
"""
import glob
import http.client
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "daemon"))
sys.path.insert(0, os.path.join(HERE, "..", "integration", "akismet"))
sys.path.insert(0, os.path.join(HERE, "..", "integration", "spamd"))
from gfdaemon import Conn, free_port  # noqa: E402
from gfakismet import COMMENT  # noqa: E402
from spamdlib import SPAM_MAIL, HAM_MAIL  # noqa: E402

UNIT = "/lib/systemd/system/greyflux.service"
CONF = "/etc/greyflux/greyflux.toml"
APT_ENV = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
APT_WAIT = ["-o", "DPkg::Lock::Timeout=300"]  # another apt-get on the machine finishes first
# Everything the package puts on the machine; after purge none of it may exist.
PACKAGE_PATHS = ["/usr/bin/greyflux", "/etc/greyflux", CONF, "/usr/share/greyflux",
                 "/usr/share/doc/greyflux", "/usr/share/man/man8/greyflux.8.gz",
                 "/usr/share/man/man5/greyflux.toml.5.gz", UNIT,
                 "/usr/lib/sysusers.d/greyflux.conf", "/usr/lib/tmpfiles.d/greyflux.conf",
                 "/var/lib/greyflux", "/run/greyflux", "/var/log/greyflux",
                 "/etc/systemd/system/multi-user.target.wants/greyflux.service"]


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok:", what)


def sh(*cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)


def installed():
    r = sh("dpkg-query", "-W", "-f=${Status}", "greyflux")
    return r.returncode == 0 and "installed" in r.stdout and "not-installed" not in r.stdout


def unit_service_lines():
    """The [Service] section of the installed unit: {key: [values]} in order."""
    out, section = {}, None
    with open(UNIT) as f:
        for line in f:
            line = line.strip()
            if line.startswith("["):
                section = line
            elif section == "[Service]" and "=" in line and not line.startswith("#"):
                k, _, v = line.partition("=")
                out.setdefault(k, []).append(v)
    return out


def free_low_port():
    for port in range(999, 900, -1):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise SystemExit("no free port below 1024 on 127.0.0.1")


def set_listen(text, section, value):
    """Replaces `listen = ...` of [section] in the conffile text."""
    pattern = re.compile(r"(^\[" + section + r"\]\n(?:(?!^\[).*\n)*?)^listen = .*$", re.M)
    new, n = pattern.subn(lambda m: m.group(1) + f"listen = {value}", text, count=1)
    check(n == 1, f"conffile: [{section}] listen set to {value}")
    return new


def as_unit(svc, argv):
    """argv under the unit's User=, Group=, capabilities and NoNewPrivileges= (setpriv)."""
    user, group = svc["User"][0], svc["Group"][0]
    cmd = ["setpriv", f"--reuid={user}", f"--regid={group}", "--init-groups"]
    caps = [c.strip().lower().removeprefix("cap_") for v in svc.get("AmbientCapabilities", [])
            for c in v.split()]
    if caps:
        plus = ",".join("+" + c for c in caps)
        cmd += [f"--inh-caps={plus}", f"--ambient-caps={plus}"]
    bounding = [c.strip().lower().removeprefix("cap_")
                for v in svc.get("CapabilityBoundingSet", []) for c in v.split()]
    cmd.append("--bounding-set=-all" + "".join(",+" + c for c in bounding))
    if svc.get("NoNewPrivileges", ["no"])[-1] == "yes":
        cmd.append("--no-new-privs")
    return cmd + argv


def wait_port(port, proc, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError("greyflux exited: " + proc.stderr.read())
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"port {port} never answered")


def post(port, path, fields):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("POST", path, body=urllib.parse.urlencode(fields),
              headers={"Content-Type": "application/x-www-form-urlencoded"})
    r = c.getresponse()
    body = r.read().decode()
    c.close()
    return r.status, body


def test_install(deb):
    r = sh("apt-get", *APT_WAIT, "install", "-y", "-q", "--no-install-recommends",
           "./" + os.path.basename(deb),
           cwd=os.path.dirname(os.path.abspath(deb)), env=APT_ENV)
    check(r.returncode == 0, "apt-get install ./" + os.path.basename(deb) + "\n" + r.stdout +
          r.stderr)
    pw = pwd.getpwnam("greyflux")
    check(pw.pw_uid < 1000 and pw.pw_shell in ("/usr/sbin/nologin", "/sbin/nologin"),
          f"greyflux is a system user (uid {pw.pw_uid}, shell {pw.pw_shell})")
    st = os.stat("/var/lib/greyflux")
    check(st.st_uid == pw.pw_uid and (st.st_mode & 0o777) == 0o750,
          "/var/lib/greyflux is greyflux's, mode 0750")
    conffiles = sh("dpkg-query", "-W", "-f=${Conffiles}", "greyflux").stdout
    check(CONF in conffiles, CONF + " is a conffile")
    with open(CONF) as f:
        check('\nuser = "greyflux"\n' in f.read(), "the packaged config drops to greyflux")
    for path in ("/usr/bin/greyflux", "/usr/share/greyflux/flux-allowlist.txt", UNIT,
                 "/usr/share/man/man8/greyflux.8.gz", "/usr/share/man/man5/greyflux.toml.5.gz",
                 "/usr/share/doc/greyflux/README.md"):
        check(os.path.exists(path), path + " installed")
    r = sh("systemd-analyze", "security", "--offline=true", "--no-pager", UNIT)
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", r.stdout)
    check(m is not None and float(m.group(1)) <= 2.0,
          f"systemd-analyze security: exposure {m.group(1) if m else r.stdout + r.stderr}")
    return pw


def test_service(pw):
    policy, web, mail = free_port(), free_port(), free_low_port()
    with open(CONF) as f:
        text = f.read()
    text = set_listen(text, "policy", f'["127.0.0.1:{policy}"]')
    text = set_listen(text, "http", f'["127.0.0.1:{web}"]')
    text = set_listen(text, "spamd", f'["127.0.0.1:{mail}"]')
    with open(CONF, "w") as f:
        f.write(text)

    svc = unit_service_lines()
    cwd = svc["WorkingDirectory"][0]
    umask = int(svc.get("UMask", ["0022"])[0], 8)
    for pre in svc.get("ExecStartPre", []):
        r = subprocess.run(as_unit(svc, pre.split()), cwd=cwd, capture_output=True, text=True,
                           timeout=60, preexec_fn=lambda: os.umask(umask))
        check(r.returncode == 0, "ExecStartPre: " + pre + " " + r.stdout.strip() + r.stderr)
    # An admin adds a comment API key as the service user (the store is greyflux's).
    r = subprocess.run(as_unit(svc, ["/usr/bin/greyflux", "keys", "add", "--blog",
                                     COMMENT["blog"]]), cwd=cwd, capture_output=True, text=True,
                       timeout=60)
    check(r.returncode == 0, "greyflux keys add, as greyflux " + r.stderr)
    key = r.stdout.strip()

    argv = svc["ExecStart"][0].split()
    proc = subprocess.Popen(as_unit(svc, argv), cwd=cwd, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: os.umask(umask))
    try:
        wait_port(policy, proc)
        conn = Conn(port=policy)
        reply = conn.ask(client_address="192.0.2.77", sender="a@sender.example",
                         recipient="b@example.org")
        conn.close()
        check(reply.startswith("action=DEFER_IF_PERMIT"), "policy: a new triplet is deferred")
        check(post(web, "/1.1/verify-key", {"key": key, "blog": COMMENT["blog"]}) ==
              (200, "valid"), "comment API: verify-key valid")
        status, body = post(web, "/1.1/comment-check", dict(COMMENT, api_key=key))
        check(status == 200 and body in ("true", "false"), f"comment API: comment-check {body}")
        spamc = shutil.which("spamc")
        check(spamc is not None, "spamc installed (scripts/deps.sh test)")
        spam = subprocess.run([spamc, "-d", "127.0.0.1", "-p", str(mail), "-c"],
                              input=SPAM_MAIL, capture_output=True, text=True, timeout=30)
        ham = subprocess.run([spamc, "-d", "127.0.0.1", "-p", str(mail), "-c"],
                             input=HAM_MAIL, capture_output=True, text=True, timeout=30)
        check(spam.returncode == 1 and ham.returncode == 0,
              f"spamd on port {mail}: spamc -c says GTUBE {spam.stdout.strip()}, "
              f"ham {ham.stdout.strip()}")
        for tid in os.listdir(f"/proc/{proc.pid}/task"):
            with open(f"/proc/{proc.pid}/task/{tid}/status") as f:
                st = dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)
            check(st["Uid"].split() == [str(pw.pw_uid)] * 4 and
                  int(st["CapEff"], 16) == int(st["CapPrm"], 16) == int(st["CapAmb"], 16) == 0
                  and st["NoNewPrivs"].strip() == "1",
                  f"thread {tid}: greyflux, no capabilities, no_new_privs")
        proc.send_signal(signal.SIGTERM)
        check(proc.wait(timeout=30) == 0, "SIGTERM: exit 0")
        err = proc.stderr.read()
        check("ready" in err and "greyflux stopped" in err, "log on standard error (the journal)")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_purge(uid):
    r = sh("apt-get", *APT_WAIT, "purge", "-y", "-q", "greyflux", env=APT_ENV)
    check(r.returncode == 0, "apt-get purge greyflux " + r.stderr)
    check(not installed(), "greyflux is no longer installed")
    left = [p for p in PACKAGE_PATHS if os.path.lexists(p)]
    check(left == [], f"nothing of the package is left ({left})")
    found = sh("find", "/etc", "/var", "/run", "/usr", "/lib", "-xdev",
               "(", "-name", "*greyflux*", "-o", "-uid", str(uid), ")", "-print").stdout.split()
    check(found == [], f"no file named greyflux or owned by it ({found})")
    check(pwd.getpwnam("greyflux").pw_uid == uid, "the greyflux system user stays (policy)")


def test_hardening(binary="/usr/bin/greyflux"):
    """The installed binary carries Debian's hardening=+all: hardening-check (devscripts) finds
    every protection, and readelf (checksec's checks) agrees on each one."""
    # The CET note (IBT, SHSTK) is linked in only when every object has it, the C library's start
    # files too; Debian 12's (libc6-dev 2.36) do not, so it is checked only where they do
    # (debian/rules does the same).
    crt = glob.glob("/usr/lib/*-linux-gnu/Scrt1.o")
    cet = bool(crt) and "x86 feature: IBT, SHSTK" in sh("readelf", "-n", crt[0]).stdout
    hc = subprocess.run(["hardening-check", binary] + ([] if cet else ["--nocfprotection"]),
                        capture_output=True, text=True)
    print(hc.stdout.rstrip())
    check(hc.returncode == 0, "hardening-check passes: PIE, stack protector, fortify, RELRO, "
          "immediate binding" + (", control flow integrity" if cet else
                                 " (CET not checked: the C start files lack its note)"))
    check("Stack clash protection: yes" in hc.stdout, "stack clash protection (hardening-check)")
    head = sh("readelf", "-W", "-h", "-l", "-d", "-n", binary).stdout
    check(re.search(r"Type:\s+DYN", head) and "PIE" in head, "position independent executable")
    check("GNU_RELRO" in head and re.search(r"FLAGS_1.*\bNOW\b", head), "full RELRO (BIND_NOW)")
    stack = re.search(r"GNU_STACK(?:\s+\S+){5}\s+(\S+)", head)
    check(stack and "E" not in stack.group(1), f"non-executable stack ({stack and stack.group(1)})")
    if cet:
        check(re.search(r"x86 feature: IBT, SHSTK", head), "CET: IBT and SHSTK properties")
    syms = sh("readelf", "-W", "--dyn-syms", binary).stdout
    check("__stack_chk_fail" in syms, "stack protector (__stack_chk_fail)")
    check(re.search(r"__\w+_chk\b", syms.replace("__stack_chk_fail", "")),
          "fortified libc calls (__*_chk)")


def main():
    if os.geteuid() != 0:
        raise SystemExit("package_test.py: needs root (apt-get install, setpriv)")
    if shutil.which("setpriv") is None:
        raise SystemExit("package_test.py: setpriv (util-linux) is missing")
    debs = glob.glob(sys.argv[1]) if len(sys.argv) > 1 else []
    if len(debs) != 1:
        raise SystemExit("usage: package_test.py PATH/greyflux_*.deb (exactly one)")
    if installed():
        raise SystemExit("package_test.py: greyflux is already installed here; not touching it")
    # An empty directory (a greyflux run as root with the default data_dir creates
    # /var/lib/greyflux) holds nothing the purge could lose.
    before = [p for p in PACKAGE_PATHS if os.path.lexists(p)
              and not (os.path.isdir(p) and not os.path.islink(p) and not os.listdir(p))]
    if before:
        raise SystemExit(f"package_test.py: {before} exist before the install (a source install "
                         "or a greyflux run as root with the default data_dir?); the purge would "
                         "delete them, so not running")
    started = time.time()
    try:
        pw = test_install(debs[0])
        test_hardening()
        test_service(pw)
    finally:
        if installed():
            test_purge(pwd.getpwnam("greyflux").pw_uid)
    print(f"package test passed in {time.time() - started:.1f} s")


if __name__ == "__main__":
    main()
