#!/usr/bin/env python3
"""A DNS stub for the milter benchmark: answers every query on 127.0.0.1:PORT (UDP and TCP)
with NXDOMAIN at once, so that an anchor's DNS-based checks (Rspamd's resolver) finish fast
and nothing ever leaves loopback. Counts the queries it answered and prints the count on
SIGTERM.

usage: dns_stub.py PORT
"""
import signal
import socket
import struct
import sys
import threading

answered = 0


def nxdomain(query):
    """The NXDOMAIN response to `query` (header + question echoed), or None if unparsable."""
    if len(query) < 12:
        return None
    qid, flags, qdcount = struct.unpack(">HHH", query[:6])
    pos = 12
    if qdcount >= 1:
        while pos < len(query) and query[pos] != 0:
            pos += 1 + query[pos]
        pos += 5  # the root label, QTYPE, QCLASS
        if pos > len(query):
            return None
    # QR, the opcode and RD copied, RA set, RCODE 3 (NXDOMAIN).
    rflags = 0x8000 | (flags & 0x7900) | 0x0080 | 3
    return struct.pack(">HHHHHH", qid, rflags, 1 if qdcount else 0, 0, 0, 0) + query[12:pos]


def serve_udp(sock):
    global answered
    while True:
        data, peer = sock.recvfrom(4096)
        reply = nxdomain(data)
        if reply:
            sock.sendto(reply, peer)
            answered += 1


def serve_tcp(sock):
    global answered
    while True:
        conn, _ = sock.accept()
        with conn:
            try:
                head = conn.recv(2)
                if len(head) == 2:
                    data = conn.recv(struct.unpack(">H", head)[0])
                    reply = nxdomain(data)
                    if reply:
                        conn.sendall(struct.pack(">H", len(reply)) + reply)
                        answered += 1
            except OSError:
                pass


def main():
    port = int(sys.argv[1])
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", port))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind(("127.0.0.1", port))
    tcp.listen(16)

    def stop(*_):
        print(f"dns stub: {answered} queries answered NXDOMAIN", flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    threading.Thread(target=serve_tcp, args=(tcp,), daemon=True).start()
    print(f"dns stub on 127.0.0.1:{port}", flush=True)
    serve_udp(udp)


if __name__ == "__main__":
    main()
