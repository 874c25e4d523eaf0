#!/usr/bin/env python3
"""`greyflux learn` and `greyflux classify` from the outside: train a model from directories,
then score single files, standard input, several files, a directory and an mbox. Checked: the
exit status (0 spam, 1 ham for one message; neither for an unreadable input), one output line
per message in input order with its verdict, and clear errors.

Labels are checked only as far as they name the input (a directory's messages are labelled
under the directory's path), so the test holds whether a message in a directory is shown as
DIR#n or by its file path.

Usage: mail_cli_test.py GREYFLUX_BINARY
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

BINARY = None
LINE = re.compile(r"^(\S+) ([SH]) score=(-?[0-9.]+)/([0-9.]+) p=(-?[0-9.]+) tests=(\S+)$")


def spam(i):
    return (f"From: win{i}@prize.example\nSubject: claim your prize {i}\n\n"
            f"Claim your casino bonus at http://casino-bonus.example/{i} now! Free jackpot.\n")


def ham(i):
    return (f"From: carol@example.org\nSubject: minutes {i}\n\n"
            f"Minutes of the project meeting number {i}; see you next week for lunch.\n")


PROBE_SPAM = ("From: x@prize.example\nSubject: claim your prize\n\n"
              "Claim your casino bonus at http://casino-bonus.example/zz now! jackpot\n")
PROBE_HAM = ("From: carol@example.org\nSubject: minutes\n\n"
             "Minutes of the project meeting; see you next week.\n")


class MailCliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="gf-mail-cli-")
        cls.config = cls.path("greyflux.toml")
        cls.model = cls.path("mail.model")
        with open(cls.config, "w") as f:
            f.write(f'[spamd]\nmodel = "{cls.model}"\n')
        for kind, make in (("spam", spam), ("ham", ham)):
            os.makedirs(cls.path(kind))
            for i in range(1, 13):
                cls.write(f"{kind}/{i}.eml", make(i))
        cls.write("probe_spam.eml", PROBE_SPAM)
        cls.write("probe_ham.eml", PROBE_HAM)
        cls.write("box.mbox", "From a@b Mon Jan  1 00:00:00 2024\n" + PROBE_HAM + "\n"
                  "From b@c Mon Jan  1 00:00:00 2024\n" + PROBE_SPAM)
        r = cls.run_cli("learn", "--spam", cls.path("spam"), "--ham", cls.path("ham"))
        cls.learned = r

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def path(cls, name):
        return os.path.join(cls.tmp, name)

    @classmethod
    def write(cls, name, text):
        with open(cls.path(name), "w") as f:
            f.write(text)

    @classmethod
    def run_cli(cls, *args, stdin=None):
        return subprocess.run([BINARY, *args, "--config", cls.config], input=stdin,
                              capture_output=True, text=True, timeout=60)

    def lines(self, r):
        out = []
        for line in r.stdout.splitlines():
            m = LINE.match(line)
            self.assertIsNotNone(m, line)
            out.append((m.group(1), m.group(2)))
        return out

    def test_learn_trains_the_model_file(self):
        r = self.learned
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("read 12 spam and 12 ham, learned 24 (0 already known", r.stdout)
        self.assertIn(self.model, r.stdout)
        self.assertGreater(os.path.getsize(self.model), 0)

    def test_one_spam_exits_0_and_one_ham_exits_1(self):
        r = self.run_cli("classify", self.path("probe_spam.eml"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.lines(r), [(self.path("probe_spam.eml"), "S")])
        self.assertIn("URI_LOCAL_SPAM", r.stdout)  # the learned model's URI evidence
        r = self.run_cli("classify", self.path("probe_ham.eml"))
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertEqual(self.lines(r), [(self.path("probe_ham.eml"), "H")])

    def test_standard_input(self):
        r = self.run_cli("classify", "-", stdin=PROBE_SPAM)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual([v for _, v in self.lines(r)], ["S"])
        r = self.run_cli("classify", "-", stdin=PROBE_HAM)
        self.assertEqual(r.returncode, 1, r.stderr)

    def test_one_line_per_file_in_input_order(self):
        r = self.run_cli("classify", self.path("probe_spam.eml"), self.path("probe_ham.eml"),
                         self.path("probe_spam.eml"))
        self.assertEqual(self.lines(r), [(self.path("probe_spam.eml"), "S"),
                                         (self.path("probe_ham.eml"), "H"),
                                         (self.path("probe_spam.eml"), "S")], r.stderr)

    def test_a_directory_and_an_mbox_give_one_line_per_message(self):
        r = self.run_cli("classify", self.path("ham"))
        got = self.lines(r)
        self.assertEqual(len(got), 12, r.stdout + r.stderr)
        for label, verdict in got:
            self.assertTrue(label.startswith(self.path("ham")), label)
            self.assertEqual(verdict, "H", label)
        self.assertEqual(len({label for label, _ in got}), 12)  # each message named apart
        r = self.run_cli("classify", self.path("box.mbox"))
        got = self.lines(r)
        self.assertEqual([v for _, v in got], ["H", "S"], r.stdout + r.stderr)
        self.assertTrue(all(label.startswith(self.path("box.mbox")) for label, _ in got))

    def test_an_untrained_model_is_named_on_stderr(self):
        empty = self.path("untrained.model")  # no file yet: an empty model
        r = subprocess.run([BINARY, "classify", self.path("probe_spam.eml"), "--config",
                            "/dev/null", "--set", f"spamd.model={empty}"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(self.lines(r), [(self.path("probe_spam.eml"), "H")], r.stderr)
        self.assertIn("p=-1.0000", r.stdout)
        self.assertIn(f"the mail model ({empty}) has learned 0 spam and 0 ham", r.stderr)
        self.assertIn("greyflux learn", r.stderr)
        r = self.run_cli("classify", self.path("probe_ham.eml"))  # the trained one: no note
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertNotIn("has learned", r.stderr)

    def test_errors_are_clear_and_never_a_verdict(self):
        missing = self.path("nosuch.eml")
        r = self.run_cli("classify", missing)
        self.assertNotIn(r.returncode, (0, 1))
        self.assertIn(missing, r.stderr)
        r = self.run_cli("learn", "--spam", missing)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(missing, r.stderr)
        r = self.run_cli("learn")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--spam", r.stderr)


if __name__ == "__main__":
    BINARY = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
