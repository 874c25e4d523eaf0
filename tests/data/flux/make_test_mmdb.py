#!/usr/bin/env python3
"""Writes asn-test.mmdb: a tiny MaxMind DB (IPv4 tree, 24-bit records) in the GeoLite2-ASN
layout ("autonomous_system_number", "autonomous_system_organization"), for the MmdbAsn tests.
Documentation ranges and private-use ASNs only. Follows the public MaxMind DB format
description: search tree, 16 zero bytes, data section, metadata after "\\xAB\\xCD\\xEFMaxMind.com".
Usage: make_test_mmdb.py OUT.mmdb
"""
import ipaddress
import struct
import sys

PREFIXES = [("192.0.2.0/25", 64496, "TEST-NET-1-LOW"), ("192.0.2.128/25", 64497, "TEST-NET-1-HIGH"),
            ("198.51.100.0/24", 64498, "TEST-NET-2"), ("203.0.113.0/24", 64499, "TEST-NET-3"),
            ("10.0.0.0/16", 4200000000, "SYNTHETIC-RESIDENTIAL-0")]


def ctrl(kind, size):
    # Sizes from 29 on take one more byte after the control (and extended type) byte.
    assert size < 29 + 256
    low, extra = (size, b"") if size < 29 else (29, bytes([size - 29]))
    if kind <= 7:
        return bytes([(kind << 5) | low]) + extra
    return bytes([low, kind - 7]) + extra


def enc(v):
    if isinstance(v, str):
        b = v.encode()
        return ctrl(2, len(b)) + b
    if isinstance(v, dict):
        out = ctrl(7, len(v))
        for k, x in v.items():
            out += enc(k) + enc(x)
        return out
    if isinstance(v, list):
        out = ctrl(11, len(v))
        for x in v:
            out += enc(x)
        return out
    if isinstance(v, tuple):  # (type, int)
        kind, n = v
        width = {5: 2, 6: 4, 9: 8}[kind]
        b = n.to_bytes(width, "big").lstrip(b"\0")
        return ctrl(kind, len(b)) + b
    raise TypeError(v)


def main():
    nodes = [[None, None]]
    data = b""
    for cidr, asn, org in PREFIXES:
        net = ipaddress.ip_network(cidr)
        bits = format(int(net.network_address), "032b")[: net.prefixlen]
        offset = len(data)
        data += enc({"autonomous_system_number": (6, asn), "autonomous_system_organization": org})
        node = 0
        for depth, bit in enumerate(bits):
            b = int(bit)
            if depth == len(bits) - 1:
                nodes[node][b] = ("data", offset)
            else:
                if nodes[node][b] is None:
                    nodes.append([None, None])
                    nodes[node][b] = len(nodes) - 1
                node = nodes[node][b]
    n = len(nodes)
    tree = b""
    for left, right in nodes:
        vals = []
        for r in (left, right):
            if r is None:
                vals.append(n)
            elif isinstance(r, tuple):
                vals.append(n + 16 + r[1])
            else:
                vals.append(r)
        tree += vals[0].to_bytes(3, "big") + vals[1].to_bytes(3, "big")
    meta = enc({"node_count": (6, n), "record_size": (5, 24), "ip_version": (5, 4),
                "database_type": "GreyFlux-Test-ASN", "languages": ["en"],
                "binary_format_major_version": (5, 2), "binary_format_minor_version": (5, 0),
                "build_epoch": (9, 1767225600), "description": {"en": "greyflux test ASN table"}})
    with open(sys.argv[1], "wb") as f:
        f.write(tree + b"\0" * 16 + data + b"\xab\xcd\xefMaxMind.com" + meta)


if __name__ == "__main__":
    main()
