#!/usr/bin/env python3
"""Writes greyflux(8) and greyflux.toml(5) from the program itself: the commands from
`greyflux --help`, every setting (section, key, default, doc) from `greyflux dump-config`, which
prints the one settings table (src/app/settings.cpp). Nothing here repeats a setting by hand, so
the man page cannot drift from the binary.

Usage: man_pages.py GREYFLUX_BINARY OUT_DIR   (writes OUT_DIR/greyflux.8, OUT_DIR/greyflux.toml.5)
"""
import os
import re
import subprocess
import sys


def run(binary, *args):
    # The installed config path, not the build tree's, in anything the binary prints.
    env = dict(os.environ, GREYFLUX_CONFIG="/etc/greyflux/greyflux.toml")
    return subprocess.run([binary, *args], check=True, capture_output=True, text=True,
                          env=env).stdout


def esc(text):
    """Roff-escapes running text: backslashes, and a leading '.' or "'"."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return re.sub(r"^([.'])", r"\\&\1", text, flags=re.M)


def subcommands(help_text):
    """(name, description) pairs of the "Subcommands:" block of a CLI11 --help."""
    out, inside = [], False
    for line in help_text.splitlines():
        if line.startswith("Subcommands:"):
            inside = True
        elif inside and line.strip():
            name, _, desc = line.strip().partition(" ")
            out.append((name, desc.strip()))
        elif inside:
            break
    return out


def settings(dump):
    """[(section, [(key, default, doc)])] from dump-config's "# doc" / "key = value" lines."""
    sections, doc = [], []
    for line in dump.splitlines():
        if line.startswith("[") and line.endswith("]"):
            sections.append((line[1:-1], []))
            doc = []
        elif line.startswith("# ") and sections:
            doc.append(line[2:])
        elif "=" in line and sections:
            key, _, value = line.partition("=")
            sections[-1][1].append((key.strip(), value.strip(), " ".join(doc)))
            doc = []
    return sections


def page_8(binary, version, date):
    top = run(binary, "--help")
    lines = [f'.TH GREYFLUX 8 "{date}" "greyflux {version}" "System Administration"',
             ".SH NAME", "greyflux \\- greylisting policy server, comment and mail spam filter",
             ".SH SYNOPSIS",
             ".B greyflux serve", "[\\fB\\-\\-config\\fR \\fIFILE\\fR] "
             "[\\fB\\-\\-set\\fR \\fISECTION.KEY=VALUE\\fR]...", ".br",
             ".B greyflux", "\\fICOMMAND\\fR [\\fIOPTIONS\\fR]",
             ".SH DESCRIPTION", esc(top.splitlines()[0].split(": ", 1)[-1]) + ".",
             "One daemon serves the Postfix policy protocol (greylisting), the milter protocol, "
             "SpamAssassin's spamd protocol and an Akismet-compatible comment API, with its state "
             "in LMDB under \\fI/var/lib/greyflux\\fR or in Redis. Every setting is described in "
             "\\fBgreyflux.toml\\fR(5).",
             ".SH COMMANDS"]
    for name, desc in subcommands(top):
        lines += [".TP", f"\\fB{name}\\fR", esc(desc) + "."]
        if name == "flux":
            for sub, sdesc in subcommands(run(binary, "flux", "--help")):
                lines += [".TP", f"\\fBflux {sub}\\fR", esc(sdesc) + "."]
    lines += [
        ".SH OPTIONS",
        ".TP", "\\fB\\-c\\fR, \\fB\\-\\-config\\fR \\fIFILE\\fR",
        "The configuration file (TOML). Default: \\fB$GREYFLUX_CONFIG\\fR, else "
        "\\fI/etc/greyflux/greyflux.toml\\fR.",
        ".TP", "\\fB\\-\\-set\\fR \\fISECTION.KEY=VALUE\\fR",
        "Overrides one setting of the file; repeatable.",
        ".TP", "\\fB\\-h\\fR, \\fB\\-\\-help\\fR", "Prints the options of a command.",
        ".TP", "\\fB\\-\\-version\\fR", "Prints the version.",
        ".SH SIGNALS",
        ".TP", "\\fBSIGHUP\\fR",
        "Reloads the reloadable settings; a bad file keeps the old configuration.",
        ".TP", "\\fBSIGTERM\\fR, \\fBSIGINT\\fR",
        "Drains every connection, saves the models, commits the stores and exits 0.",
        ".SH PRIVILEGES",
        "Started as root, \\fBgreyflux serve\\fR opens its listeners and files, gives "
        "\\fBdaemon.data_dir\\fR to \\fBdaemon.user\\fR and drops to it: its groups, no "
        "capabilities, no_new_privs. Started as root with no \\fBdaemon.user\\fR it refuses to "
        "run. The systemd unit starts it as the \\fBgreyflux\\fR user with only "
        "CAP_NET_BIND_SERVICE, which it drops once its listeners are bound.",
        ".SH EXIT STATUS",
        "\\fBserve\\fR exits 0 after a signal and 2 when it cannot start (one line on standard "
        "error saying why). \\fBcheck\\-config\\fR exits 1 for an invalid file.",
        ".SH FILES",
        ".TP", "\\fI/etc/greyflux/greyflux.toml\\fR", "The configuration.",
        ".TP", "\\fI/var/lib/greyflux\\fR",
        "State (\\fBdaemon.data_dir\\fR): greylist and comment stores, the mail model, the "
        "admin socket.",
        ".TP", "\\fI/usr/share/greyflux\\fR", "Shipped data (flux\\-allowlist.txt).",
        ".TP", "\\fI/usr/share/doc/greyflux\\fR", "README.md and the design notes.",
        ".SH SEE ALSO",
        "\\fBgreyflux.toml\\fR(5), \\fBpostconf\\fR(5), \\fBspamc\\fR(1), "
        "\\fBsystemd.exec\\fR(5)"]
    return "\n".join(lines) + "\n"


def page_5(binary, version, date):
    lines = [f'.TH GREYFLUX.TOML 5 "{date}" "greyflux {version}" "File Formats"',
             ".SH NAME", "greyflux.toml \\- configuration of greyflux",
             ".SH DESCRIPTION",
             "\\fI/etc/greyflux/greyflux.toml\\fR is a TOML file of sections and keys. Every key "
             "is optional; the values below are the defaults. Durations take units (ms, s, m, h, "
             "d, w: \"300s\", \"2d\"); sizes take B, KiB, MiB, GiB. \\fBgreyflux dump\\-config\\fR "
             "prints this list, and \\fBgreyflux check\\-config\\fR \\fIFILE\\fR validates a file. "
             "SIGHUP reloads the settings that say so; the others need a restart."]
    for section, keys in settings(run(binary, "dump-config")):
        lines += [f".SH [{section}]"]
        for key, default, doc in keys:
            lines += [".TP", f"\\fB{key}\\fR = {esc(default)}", esc(doc)]
    lines += [".SH SEE ALSO", "\\fBgreyflux\\fR(8)"]
    return "\n".join(lines) + "\n"


def main():
    binary, out = sys.argv[1], sys.argv[2]
    version = run(binary, "--version").split()[-1]
    date = os.environ.get("GF_MAN_DATE", "2026-12-06")
    os.makedirs(out, exist_ok=True)
    for name, text in (("greyflux.8", page_8(binary, version, date)),
                       ("greyflux.toml.5", page_5(binary, version, date))):
        with open(os.path.join(out, name), "w") as f:
            f.write(text)
    count = sum(len(k) for _, k in settings(run(binary, "dump-config")))
    print(f"man_pages: greyflux.8 and greyflux.toml.5 ({count} settings) in {out}")


if __name__ == "__main__":
    main()
