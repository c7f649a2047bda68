#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Send crafted TCP SYNs and count what comes back (tests/e2e/test_noharm.sh).

    noharm_probe.py -i IFACE --dport PORT [--wait SECS] [--count N]
                    [--sniff-netns PATH --sniff-iface IFACE] PROBE...
    PROBE: LABEL=DSTMAC,SRC,DST

Each PROBE is an Ethernet + IPv4/IPv6 + TCP SYN (MSS option) frame with any
source address, including ones the kernel would never send (0.0.0.0,
127.0.0.1, ::, ::1, the target's own address), to any destination MAC
(broadcast, multicast, another host's), from its own random source port.
Each is sent COUNT times (default 1) on IFACE with an AF_PACKET socket.
A second AF_PACKET socket counts, for WAIT seconds (default 0.5) after the
last one, the TCP segments that come back from PORT to each probe's source
port, whatever their addresses and MACs, and prints one line per probe:

    LABEL synack=N rst=N other=N

It listens on IFACE, or on --sniff-iface in the network namespace
--sniff-netns: e.g. the switch's port facing the target, which sees every
frame the target sends, even one the bridge then drops (a reply from a
broadcast source MAC).

Refuses (exit 2) any address outside the lab's: sources in 10.201.0.0/16,
fd00:201::/64 or one of the martians above; destinations in 10.201.0.0/16
or fd00:201::/64 (the project's network rule: multicast to a group MAC is
probed with a lab address; a multicast IP destination is the unit and fuzz
tests' job, which send nothing).
Run it inside a network namespace of the lab.
"""
import argparse
import ctypes
import fcntl
import ipaddress
import os
import random
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
ETH_P_IPV6 = 0x86DD
SIOCGIFHWADDR = 0x8927
PACKET_OUTGOING = 4

LAB_NETS = (ipaddress.ip_network("10.201.0.0/16"), ipaddress.ip_network("fd00:201::/64"))
MARTIAN_SRC = {ipaddress.ip_address(a) for a in ("0.0.0.0", "127.0.0.1", "::", "::1")}
GROUP_DST = set()


def in_lab(a):
    return any(a.version == n.version and a in n for n in LAB_NETS)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def mac_bytes(m):
    b = bytes(int(x, 16) for x in m.split(":"))
    if len(b) != 6:
        raise ValueError(m)
    return b


def if_mac(sock, ifname):
    req = struct.pack("16s16x", ifname.encode()[:15])
    res = fcntl.ioctl(sock.fileno(), SIOCGIFHWADDR, req)
    return res[18:24]


def syn_frame(dmac, smac, src, dst, sport, dport):
    seq = random.getrandbits(32)
    opts = b"\x02\x04" + struct.pack("!H", 1460 if src.version == 4 else 1440)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, (5 + len(opts) // 4) << 4,
                      0x02, 64240, 0, 0) + opts
    if src.version == 4:
        pseudo = src.packed + dst.packed + struct.pack("!BBH", 0, 6, len(tcp))
        tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), random.getrandbits(16),
                         0x4000, 64, 6, 0, src.packed, dst.packed)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        etype = ETH_P_IP
    else:
        pseudo = src.packed + dst.packed + struct.pack("!I3xB", len(tcp), 6)
        tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
        ip = struct.pack("!IHBB16s16s", 0x60000000, len(tcp), 6, 255, src.packed, dst.packed)
        etype = ETH_P_IPV6
    return dmac + smac + struct.pack("!H", etype) + ip + tcp


def reply_flags(frame, dport):
    """(destination port, TCP flags) of a TCP frame from dport, or None."""
    if len(frame) < 14:
        return None
    etype = struct.unpack_from("!H", frame, 12)[0]
    if etype == ETH_P_IP and len(frame) >= 34:
        ihl = (frame[14] & 0xF) * 4
        if frame[23] != 6:
            return None
        off = 14 + ihl
    elif etype == ETH_P_IPV6 and len(frame) >= 54:
        if frame[20] != 6:
            return None
        off = 54
    else:
        return None
    if len(frame) < off + 14:
        return None
    sp, dp = struct.unpack_from("!HH", frame, off)
    if sp != dport:
        return None
    return dp, frame[off + 13]


def setns(fd):
    if ctypes.CDLL(None, use_errno=True).setns(fd, 0x40000000) != 0:  # CLONE_NEWNET
        raise OSError(ctypes.get_errno(), "setns")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-i", "--iface", required=True)
    ap.add_argument("--dport", type=int, required=True)
    ap.add_argument("--wait", type=float, default=0.5)
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--sniff-netns")
    ap.add_argument("--sniff-iface")
    ap.add_argument("probes", nargs="+", metavar="LABEL=DSTMAC,SRC,DST")
    a = ap.parse_args()
    if not 1 <= a.count <= 100 or not 0 < a.wait <= 10 or len(a.probes) > 64:
        print("noharm_probe: --count 1..100, --wait 0..10, at most 64 probes", file=sys.stderr)
        return 2
    probes = []
    sports = random.sample(range(20000, 60000), len(a.probes))
    for spec, sport in zip(a.probes, sports):
        try:
            label, rest = spec.split("=", 1)
            dmac, src, dst = rest.split(",")
            dmac, src, dst = mac_bytes(dmac), ipaddress.ip_address(src), ipaddress.ip_address(dst)
        except ValueError:
            print("noharm_probe: '%s' is not LABEL=DSTMAC,SRC,DST" % spec, file=sys.stderr)
            return 2
        if src.version != dst.version:
            print("noharm_probe: %s: source and destination of different families" % label,
                  file=sys.stderr)
            return 2
        if not (in_lab(src) or src in MARTIAN_SRC):
            print("noharm_probe: refusing source %s outside the lab" % src, file=sys.stderr)
            return 2
        if not (in_lab(dst) or dst in GROUP_DST):
            print("noharm_probe: refusing destination %s outside the lab" % dst, file=sys.stderr)
            return 2
        probes.append((label, dmac, src, dst, sport))
    if a.sniff_netns:  # the socket stays in the namespace it was made in
        home = os.open("/proc/self/ns/net", os.O_RDONLY)
        there = os.open(a.sniff_netns, os.O_RDONLY)
        setns(there)
    sniff = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sniff.bind((a.sniff_iface or a.iface, ETH_P_ALL))
    if a.sniff_netns:
        setns(home)
        os.close(home)
        os.close(there)
    tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    tx.bind((a.iface, 0))
    smac = if_mac(tx, a.iface)
    frames = [syn_frame(d, smac, s, t, sp, a.dport) for _, d, s, t, sp in probes]
    for i in range(a.count):
        if i:
            time.sleep(0.02)
        for f in frames:
            tx.send(f)
    seen = {sp: [0, 0, 0] for *_, sp in probes}
    end = time.monotonic() + a.wait
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        sniff.settimeout(left)
        try:
            data, addr = sniff.recvfrom(65536)
        except socket.timeout:
            break
        if addr[2] == PACKET_OUTGOING:
            continue
        r = reply_flags(data, a.dport)
        if r is None or r[0] not in seen:
            continue
        f = r[1]
        seen[r[0]][0 if f & 0x04 == 0 and f & 0x12 == 0x12 else 1 if f & 0x04 else 2] += 1
    for label, *_, sp in probes:
        print("%s synack=%d rst=%d other=%d" % (label, *seen[sp]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
