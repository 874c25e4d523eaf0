"""Numbered test mails for the spamd tests that train a model (spamc TELL) and score it again:
every spam shares one vocabulary and every ham another, so a few TELLs move the score, and
`extra` adds words a test wants to follow."""

SPAM_WORDS = "lottery winner claim prize money casino bonus viagra pills cheap offer jackpot"
HAM_WORDS = "seminar compilers parser design thursday notes agenda review lecture students"


def spam_mail(i, extra=""):
    return (f"From: Promo <promo{i}@lottery-prizes.example>\nTo: user@example.org\n"
            f"Subject: You won {i}\nMessage-ID: <s{i}@lottery-prizes.example>\n\n"
            f"{SPAM_WORDS} {extra}\n")


def ham_mail(i, extra=""):
    return (f"From: Carol <carol@university.example.edu>\nTo: user@example.org\n"
            f"Subject: Notes {i}\nMessage-ID: <h{i}@university.example.edu>\n\n"
            f"{HAM_WORDS} {extra}\n")
