#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""HTTP/1.0 server of tests/e2e/test_noharm.sh.

    noharm_server.py PORT [--tag TAG] [--mptcp]

Listens on 0.0.0.0:PORT and [::]:PORT (IPV6_V6ONLY, so one socket per
family), with IPPROTO_MPTCP (262) when --mptcp is given (plain TCP clients
still connect to an MPTCP listener: the kernel falls back). For each
connection: reads the request head, answers "GET /N[?...]" with N bytes
(default 1000) of content derived from TAG and no Content-Length, then
closes first, as HTTP/1.0 servers do: the client reads until the server's
FIN, so the server side of every connection ends in TIME_WAIT.

The body of N bytes is the same for the same TAG, whichever server sends
it, so a client's checksum says which server answered and that every byte
arrived. Writes "ready" to stdout once both sockets listen.
"""
import argparse
import hashlib
import socket
import sys
import threading

IPPROTO_MPTCP = 262
BODIES = {}
BODIES_LOCK = threading.Lock()


def body(tag, n):
    with BODIES_LOCK:
        b = BODIES.get(n)
        if b is None:
            out, i = bytearray(), 0
            seed = tag.encode()
            while len(out) < n:
                out += hashlib.sha256(seed + i.to_bytes(8, "little")).digest()
                i += 1
            b = BODIES[n] = bytes(out[:n])
        return b


def serve_conn(c, tag):
    try:
        c.settimeout(10)
        req = b""
        while b"\r\n\r\n" not in req and len(req) < 16384:
            d = c.recv(4096)
            if not d:
                return
            req += d
        parts = req.split(b"\r\n", 1)[0].split()
        n = 1000
        path = parts[1].split(b"?")[0] if len(parts) >= 2 else b""
        if path[:1] == b"/" and path[1:].isdigit():
            n = int(path[1:])
        data = body(tag, n)
        # no Content-Length: the body ends where the server closes, so the
        # client cannot close first (its side would then hold TIME_WAIT)
        c.sendall(b"HTTP/1.0 200 OK\r\nX-Server: %s\r\nConnection: close\r\n\r\n"
                  % tag.encode() + data)
    except OSError:
        pass
    finally:
        c.close()


def listen(family, port, mptcp):
    s = socket.socket(family, socket.SOCK_STREAM, IPPROTO_MPTCP if mptcp else 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind(("::", port))
    else:
        s.bind(("0.0.0.0", port))
    s.listen(1024)
    return s


def accept_loop(s, tag):
    while True:
        try:
            c, _ = s.accept()
        except OSError:
            continue
        threading.Thread(target=serve_conn, args=(c, tag), daemon=True).start()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--tag", default="noharm")
    ap.add_argument("--mptcp", action="store_true")
    a = ap.parse_args()
    socks = [listen(f, a.port, a.mptcp) for f in (socket.AF_INET, socket.AF_INET6)]
    for s in socks[1:]:
        threading.Thread(target=accept_loop, args=(s, a.tag), daemon=True).start()
    print("ready", flush=True)
    accept_loop(socks[0], a.tag)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
