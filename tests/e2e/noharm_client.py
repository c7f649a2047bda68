#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""HTTP/1.0 client of tests/e2e/test_noharm.sh that also reports what the
handshake negotiated, as the client's kernel sees it (TCP_INFO).

    noharm_client.py ADDR[,ADDR...] PORT [-n N] [--size BYTES]
                     [--timeout SECS] [--local-port PORT]

N sequential connections to each ADDR in turn (a comma-separated list: one
interpreter start for both families where a start is slow, as in the
kernel VMs); each sends "GET /BYTES HTTP/1.0" (noharm_server.py answers
with BYTES bytes) and reads until the server closes. One line per
connection (each from --local-port when given: a client coming back from
the port of a connection the server closed first, whose tuple the server
holds in TIME_WAIT):

    ok sha=HASH12 len=BYTES opts=ts,sack,wscale,ecn wscale=SND,RCV mss=N
    refused | reset | timeout | error=ERRNO_NAME [after connect]

where opts/wscale/mss are the client socket's TCP_INFO right after connect:
tcpi_options, the server's (SND) and the client's (RCV) window scale and
tcpi_snd_mss. Exit status 0 when every connection was "ok".
"""
import argparse
import errno
import hashlib
import socket
import struct
import sys
import time

TCP_INFO = 11
OPT_NAMES = ((1, "ts"), (2, "sack"), (4, "wscale"), (8, "ecn"))


def tcp_info(s):
    raw = s.getsockopt(socket.IPPROTO_TCP, TCP_INFO, 104)
    options, wscale = raw[5], raw[6]
    snd_mss = struct.unpack_from("=I", raw, 16)[0]
    opts = ",".join(n for b, n in OPT_NAMES if options & b) or "none"
    ws = "%d,%d" % (wscale & 0xF, wscale >> 4) if options & 4 else "0,0"
    return "opts=%s wscale=%s mss=%d" % (opts, ws, snd_mss)


def one(addr, port, size, timeout, lport=0):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    stage = ""
    try:
        if lport:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", lport))
        for _ in range(40):
            try:
                s.connect((addr, port))
                break
            except OSError as e:
                # --local-port: our own previous connection from that port
                # may still be closing (LAST_ACK, its FIN not yet acked on
                # a slow VM); wait for it, up to 2 s
                if not lport or e.errno != errno.EADDRNOTAVAIL:
                    raise
                time.sleep(0.05)
        else:
            s.connect((addr, port))
        stage = " after connect"
        info = tcp_info(s)
        s.sendall(b"GET /%d HTTP/1.0\r\nHost: noharm\r\n\r\n" % size)
        data = bytearray()
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
        head, sep, bodyb = bytes(data).partition(b"\r\n\r\n")
        if not sep or not head.startswith(b"HTTP/1.0 200"):
            return "bad-response len=%d" % len(data)
        return "ok sha=%s len=%d %s" % (hashlib.sha256(bodyb).hexdigest()[:12],
                                        len(bodyb), info)
    except socket.timeout:
        return "timeout" + stage
    except ConnectionRefusedError:
        return "refused" + stage
    except ConnectionResetError:
        return "reset" + stage
    except OSError as e:
        return "error=%s%s" % (errno.errorcode.get(e.errno, str(e.errno)), stage)
    finally:
        s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("addr")
    ap.add_argument("port", type=int)
    ap.add_argument("-n", type=int, default=1)
    ap.add_argument("--size", type=int, default=1000)
    ap.add_argument("--timeout", type=float, default=5)
    ap.add_argument("--local-port", type=int, default=0)
    a = ap.parse_args()
    bad = 0
    for addr in a.addr.split(","):
        for _ in range(a.n):
            r = one(addr, a.port, a.size, a.timeout, a.local_port)
            bad += not r.startswith("ok ")
            print(r, flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
