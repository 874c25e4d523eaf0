-- greyflux's milter against Debian's miltertest (libmilter's own test client), an independent
-- MTA side: every callback, negotiation with skipped and refused steps, macros, abort in the
-- middle of a message, several messages on one connection, a 20 MiB body in 64 KiB chunks.
-- Run by run_miltertest.sh, which starts greyflux with greylist.mode = "always", recipients in
-- example.org whitelisted, and passes -D tcp=inet:PORT@127.0.0.1 -D unix=unix:PATH.
mt.set_timeout(30)

local GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"

local function check(cond, what)
  if not cond then
    error("FAILED: " .. what)
  end
  mt.echo("ok - " .. what)
end

local function ok(r, what)
  if r ~= nil then
    error("FAILED: " .. what .. ": " .. tostring(r))
  end
end

local function replied(conn, code, what)
  check(mt.getreply(conn) == code, what)
end

local function open(spec, version, actions, steps)
  local conn = mt.connect(spec, 40, 0.25)
  check(conn ~= nil, "connect to " .. spec)
  if version ~= nil then
    -- Debian's miltertest 2.11 puts its third argument in the protocol-steps field of the
    -- packet and its fourth in the actions field (seen on the wire), the reverse of its man
    -- page: pass them so that the MTA offers `actions` and `steps`.
    ok(mt.negotiate(conn, version, steps, actions), "negotiate")
  end
  return conn
end

-- One message from MAIL to end of message; returns after mt.eom.
local function message(conn, rcpt, headers, body)
  ok(mt.mailfrom(conn, "<a@sender.test>", "SIZE=1000", "BODY=8BITMIME"), "mailfrom")
  replied(conn, SMFIR_CONTINUE, "MAIL answered continue")
  ok(mt.rcptto(conn, rcpt), "rcptto")
  replied(conn, SMFIR_CONTINUE, "RCPT " .. rcpt .. " answered continue")
  ok(mt.data(conn), "data")
  for _, h in ipairs(headers) do
    ok(mt.header(conn, h[1], h[2]), "header " .. h[1])
  end
  ok(mt.eoh(conn), "eoh")
  ok(mt.bodystring(conn, body), "body")
  ok(mt.eom(conn), "eom")
end

local plain = {
  { "From", "a@sender.test" }, { "To", "user@example.org" }, { "Subject", "lunch" },
  { "Message-ID", "<m1@sender.test>" }, { "X-Spam-Status", "No, forged by the sender" },
}

---------------------------------------------------------------------------------------------
-- 1. Every callback over TCP with miltertest's default (full) offer.
local conn = open(tcp)
mt.macro(conn, SMFIC_CONNECT, "j", "mx.miltertest.test", "{daemon_name}", "smtpd",
  "_", "client.test [192.0.2.10]")
ok(mt.conninfo(conn, "client.test", "192.0.2.10"), "conninfo")
replied(conn, SMFIR_CONTINUE, "connect answered continue")
check(mt.test_action(conn, SMFIF_ADDHDRS), "greyflux asked for ADDHDRS")
check(mt.test_action(conn, SMFIF_CHGHDRS), "greyflux asked for CHGHDRS")
check(mt.test_action(conn, SMFIF_QUARANTINE), "greyflux asked for QUARANTINE")
check(mt.test_option(conn, SMFIP_NR_HDR), "greyflux skips replies to headers")
check(mt.test_option(conn, SMFIP_NOUNKNOWN), "greyflux skips unknown commands")
local sent, err = pcall(mt.unknown, conn, "XFOO bar")
check(not sent or err ~= nil, "a skipped step (unknown) is not sent to greyflux")
mt.macro(conn, SMFIC_HELO, "{tls_version}", "TLSv1.3", "{cipher}", "TLS_AES_256_GCM_SHA384")
ok(mt.helo(conn, "client.test"), "helo")
replied(conn, SMFIR_CONTINUE, "HELO answered continue")
mt.macro(conn, SMFIC_MAIL, "i", "QID0001", "{auth_authen}", "", "{mail_addr}", "a@sender.test")
ok(mt.mailfrom(conn, "<a@sender.test>"), "mailfrom")
replied(conn, SMFIR_CONTINUE, "MAIL answered continue")
mt.macro(conn, SMFIC_RCPT, "{rcpt_addr}", "user@example.test")
ok(mt.rcptto(conn, "<user@example.test>"), "rcptto greylisted")
replied(conn, SMFIR_REPLYCODE, "a new triplet is greylisted at RCPT (mode always)")
ok(mt.rcptto(conn, "<user@example.org>"), "rcptto whitelisted")
replied(conn, SMFIR_CONTINUE, "a whitelisted recipient is accepted")
ok(mt.data(conn), "data")
for _, h in ipairs(plain) do
  ok(mt.header(conn, h[1], h[2]), "header " .. h[1])
end
ok(mt.eoh(conn), "eoh")
ok(mt.bodystring(conn, "Lunch at noon on Friday?\r\n"), "body")
ok(mt.eom(conn), "eom")
replied(conn, SMFIR_CONTINUE, "a plain note is accepted")
check(mt.eom_check(conn, MT_HDRADD, "X-Spam-Status"), "X-Spam-Status added")
check(mt.eom_check(conn, MT_HDRADD, "X-Spam-Score"), "X-Spam-Score added")
check(mt.eom_check(conn, MT_HDRADD, "X-Spam-Symbols"), "X-Spam-Symbols added")
check(mt.eom_check(conn, MT_HDRDELETE, "X-Spam-Status"), "the forged X-Spam-Status removed")
local status = mt.getheader(conn, "X-Spam-Status", 0)
check(status ~= nil and string.find(status, "^No, score=") ~= nil,
  "X-Spam-Status says No: " .. tostring(status))

-- 2. A second message on the same connection: GTUBE, rejected at end of message.
message(conn, "<user@example.org>", plain, "test " .. GTUBE .. "\r\n")
-- (miltertest's MT_SMTPREPLY check cannot read an end-of-message reply code; the text,
-- 550 5.7.1, is checked through Postfix in postfix_milter.sh and in the unit tests.)
replied(conn, SMFIR_REPLYCODE, "GTUBE is refused with a reply code at end of message")

-- 3. Abort in the middle of a message: its GTUBE body must not leak into the next one.
ok(mt.mailfrom(conn, "<a@sender.test>"), "mailfrom before abort")
replied(conn, SMFIR_CONTINUE, "MAIL answered continue")
ok(mt.rcptto(conn, "<user@example.org>"), "rcptto before abort")
ok(mt.data(conn), "data before abort")
ok(mt.header(conn, "Subject", "aborted"), "header before abort")
ok(mt.eoh(conn), "eoh before abort")
ok(mt.bodystring(conn, GTUBE .. "\r\n"), "body before abort")
ok(mt.abort(conn), "abort")
message(conn, "<user@example.org>", plain, "after the abort\r\n")
replied(conn, SMFIR_CONTINUE, "the message after an abort is accepted (GTUBE not carried over)")
check(mt.eom_check(conn, MT_HDRADD, "X-Spam-Status"), "the message after the abort is scanned")

-- 4. A 20 MiB body in 64 KiB chunks (milter.max_scan is raised to 32 MiB: it is scanned).
ok(mt.mailfrom(conn, "<big@sender.test>"), "mailfrom big")
replied(conn, SMFIR_CONTINUE, "MAIL big")
ok(mt.rcptto(conn, "<user@example.org>"), "rcptto big")
ok(mt.data(conn), "data big")
ok(mt.header(conn, "Subject", "twenty megabytes"), "header big")
ok(mt.eoh(conn), "eoh big")
local line = string.rep("0123456789abcdef", 4) .. "\r\n"             -- 66 bytes
local chunk = string.rep(line, 993)                                  -- 65,538 bytes
chunk = string.sub(chunk, 1, 65536)
for _ = 1, 320 do                                                    -- 20 MiB
  ok(mt.bodystring(conn, chunk), "body chunk")
end
ok(mt.eom(conn), "eom big")
replied(conn, SMFIR_CONTINUE, "a 20 MiB message is accepted")
check(mt.eom_check(conn, MT_HDRADD, "X-Spam-Status"), "the 20 MiB message was scanned")
mt.disconnect(conn)

---------------------------------------------------------------------------------------------
-- 5. An MTA that offers no skips and no no-reply steps (version 6, add-headers only), on the
--    unix socket: greyflux answers every step, and asks for nothing it was not offered.
conn = open(unix, 6, SMFIF_ADDHDRS, 0)
check(not mt.test_option(conn, SMFIP_NR_HDR), "NR_HDR not granted when not offered")
check(not mt.test_action(conn, SMFIF_QUARANTINE), "QUARANTINE not granted when not offered")
ok(mt.conninfo(conn, "client.test", "192.0.2.11"), "conninfo")
replied(conn, SMFIR_CONTINUE, "connect")
ok(mt.helo(conn, "client.test"), "helo")
replied(conn, SMFIR_CONTINUE, "helo")
ok(mt.unknown(conn, "XFOO bar"), "unknown")
replied(conn, SMFIR_CONTINUE, "an unknown command is answered when it cannot be skipped")
ok(mt.mailfrom(conn, "<a@sender.test>"), "mailfrom")
replied(conn, SMFIR_CONTINUE, "mail")
ok(mt.rcptto(conn, "<user@example.org>"), "rcpt")
replied(conn, SMFIR_CONTINUE, "rcpt")
ok(mt.data(conn), "data")
replied(conn, SMFIR_CONTINUE, "DATA answered")
ok(mt.header(conn, "Subject", "no skips"), "header")
replied(conn, SMFIR_CONTINUE, "a header is answered")
ok(mt.header(conn, "X-Spam-Status", "Yes, forged"), "header")
replied(conn, SMFIR_CONTINUE, "a second header is answered")
ok(mt.eoh(conn), "eoh")
replied(conn, SMFIR_CONTINUE, "end of headers is answered")
ok(mt.bodystring(conn, "hello\r\n"), "body")
replied(conn, SMFIR_CONTINUE, "a body chunk is answered")
ok(mt.eom(conn), "eom")
replied(conn, SMFIR_CONTINUE, "eom")
check(mt.eom_check(conn, MT_HDRADD, "X-Spam-Status"), "headers added")
check(not mt.eom_check(conn, MT_HDRDELETE), "no header deleted without CHGHDRS")
mt.disconnect(conn)

-- 6. A protocol-2 MTA (Sendmail 8.13 era) is served too.
conn = open(tcp, 2, 0x1f, 0x7f)
ok(mt.conninfo(conn, "client.test", "192.0.2.12"), "conninfo v2")
replied(conn, SMFIR_CONTINUE, "a version-2 MTA is served")
mt.disconnect(conn)

-- 7. Macros on a fresh connection, many of them and for every stage: kept, no error.
conn = open(tcp)
mt.macro(conn, SMFIC_CONNECT, "j", "mx.test", "{daemon_name}", "smtpd", "{if_name}", "lo",
  "{if_addr}", "127.0.0.1", "_", "client.test [192.0.2.14]", "{client_ptr}", "client.test")
ok(mt.conninfo(conn, "client.test", "192.0.2.14"), "conninfo with connect macros")
replied(conn, SMFIR_CONTINUE, "connect with macros answered")
mt.macro(conn, SMFIC_MAIL, "i", "QID2", "{auth_type}", "PLAIN", "{auth_authen}", "joe",
  "{mail_mailer}", "smtp", "{mail_host}", "sender.test", "{mail_addr}", "a@sender.test")
ok(mt.mailfrom(conn, "<a@sender.test>"), "mailfrom with macros")
replied(conn, SMFIR_CONTINUE, "MAIL with macros answered")
mt.macro(conn, SMFIC_RCPT, "{rcpt_mailer}", "virtual", "{rcpt_host}", "example.org",
  "{rcpt_addr}", "user@example.org")
ok(mt.rcptto(conn, "<user@example.org>"), "rcptto with macros")
replied(conn, SMFIR_CONTINUE, "RCPT with macros answered")
mt.disconnect(conn)

mt.echo("miltertest: all checks passed")
