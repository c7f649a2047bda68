#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Server and clients of tests/e2e/test_gateway.sh (gateway mode, issue 16).

    gw_peer.py serve --svc PORT --banner PORT
    gw_peer.py info ADDR[,ADDR...] PORT [--timeout S]
    gw_peer.py bulk ADDR PORT --bytes N [--timeout S]
    gw_peer.py banner ADDR PORT [-n N] [--timeout S]
    gw_peer.py req ADDR PORT [-n N] [--timeout S]
    gw_peer.py persist ADDR PORT [--lines N] [--interval S] [--hold S] [--timeout S]

serve: listens on both families (IPV6_V6ONLY sockets) on two ports:
  --svc: the client's first line names what it wants:
    INFO          the server answers with its own TCP_INFO of this
                  connection (as the server's kernel negotiated it) and
                  closes
    BULK N SEED   N bytes each way at once: the server sends N bytes of
                  stream SEED+1 while it reads the client's N bytes (stream
                  SEED), then sends one line "sha=HEX" (the SHA-256 of what
                  it received) and closes
    ECHO          echoes every line until the client closes
  --banner: sends a banner line as soon as it accepts (server speaks
    first), then echoes until the client closes.
  Writes "ready" on stdout once every socket listens.

Clients (one line per connection, exit status 0 when every one was ok):
  info     "cli opts=... wscale=S,R mss=N | srv opts=... wscale=S,R mss=N
           ms=T" (opts: ts,sack,wscale,ecn of tcpi_options; wscale:
           snd,rcv; mss: tcpi_snd_mss; T: connect() start to the server's
           answer), one line per ADDR
  bulk     "ok rx=SHA12 srv_rx=SHA12 sent=SHA12" when both ends received
           exactly what the other sent, else "bad ..." / error
  banner   "ok ms=T": connect() start to the banner's arrival
  req      "ok ms=T": connect() start to the end of an HTTP/1.0 response
           to a GET sent right after connect (noharm_server.py)
  persist  ECHO, --lines numbered lines, one every --interval, then idle
           for --hold seconds, then close: "ok lines=N sha=SHA12" when every
           echo came back right, else "reset after N lines" / "timeout
           after N lines" / "bad echo at line N"
  errors:  refused | reset | timeout | error=ERRNO [after connect]
"""
import argparse
import errno
import hashlib
import random
import socket
import struct
import sys
import threading
import time

TCP_INFO = 11
OPT_NAMES = ((1, "ts"), (2, "sack"), (4, "wscale"), (8, "ecn"))


def tcp_info(s):
    raw = s.getsockopt(socket.IPPROTO_TCP, TCP_INFO, 104)
    options, wscale = raw[5], raw[6]
    snd_mss = struct.unpack_from("=I", raw, 16)[0]
    opts = ",".join(n for b, n in OPT_NAMES if options & b) or "none"
    ws = "%d,%d" % (wscale & 0xF, wscale >> 4) if options & 4 else "-"
    return "opts=%s wscale=%s mss=%d" % (opts, ws, snd_mss)


def stream(seed, n):
    return random.Random(seed).randbytes(n)


def readline(c, limit=256):
    buf = b""
    while not buf.endswith(b"\n") and len(buf) < limit:
        d = c.recv(1)
        if not d:
            break
        buf += d
    return buf


def recv_exact_hash(c, n):
    h, got = hashlib.sha256(), 0
    while got < n:
        d = c.recv(min(1 << 20, n - got))
        if not d:
            break
        h.update(d)
        got += len(d)
    return h.hexdigest(), got


def svc_conn(c):
    try:
        c.settimeout(60)
        line = readline(c).split()
        if not line:
            return
        if line[0] == b"INFO":
            c.sendall(tcp_info(c).encode() + b"\n")
        elif line[0] == b"BULK" and len(line) == 3:
            n, seed = int(line[1]), int(line[2])
            data = stream(seed + 1, n)
            t = threading.Thread(target=c.sendall, args=(data,), daemon=True)
            t.start()
            sha, got = recv_exact_hash(c, n)
            t.join()
            c.sendall(b"sha=%s got=%d\n" % (sha.encode(), got))
        elif line[0] == b"ECHO":
            echo(c)
    except OSError:
        pass
    finally:
        c.close()


def echo(c):
    while True:
        d = c.recv(65536)
        if not d:
            return
        c.sendall(d)


def banner_conn(c):
    try:
        c.settimeout(60)
        c.sendall(b"220 gw-peer banner\r\n")
        echo(c)
    except OSError:
        pass
    finally:
        c.close()


def listen(family, port):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind(("::", port))
    else:
        s.bind(("0.0.0.0", port))
    s.listen(1024)
    return s


def accept_loop(s, fn):
    while True:
        try:
            c, _ = s.accept()
        except OSError:
            continue
        threading.Thread(target=fn, args=(c,), daemon=True).start()


def serve(a):
    loops = []
    for port, fn in ((a.svc, svc_conn), (a.banner, banner_conn)):
        for fam in (socket.AF_INET, socket.AF_INET6):
            loops.append((listen(fam, port), fn))
    for s, fn in loops[1:]:
        threading.Thread(target=accept_loop, args=(s, fn), daemon=True).start()
    print("ready", flush=True)
    accept_loop(*loops[0])


# ---------------------------------------------------------------------------
# clients

def connect(addr, port, timeout):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((addr, port))
    return s


def guarded(fn):
    """Run fn(state) -> line; map socket errors to the outcome words."""
    st = {"stage": ""}
    try:
        return fn(st)
    except socket.timeout:
        return "timeout" + st["stage"]
    except ConnectionRefusedError:
        return "refused" + st["stage"]
    except ConnectionResetError:
        return "reset" + st["stage"]
    except OSError as e:
        return "error=%s%s" % (errno.errorcode.get(e.errno, str(e.errno)), st["stage"])


def recv_all(s):
    out = bytearray()
    while True:
        d = s.recv(1 << 20)
        if not d:
            return bytes(out)
        out += d


def c_info(a):
    res = []
    for addr in a.addr.split(","):
        def one(st):
            t0 = time.monotonic()
            s = connect(addr, a.port, a.timeout)
            st["stage"] = " after connect"
            try:
                mine = tcp_info(s)
                s.sendall(b"INFO\n")
                theirs = recv_all(s).decode().strip()
                return "cli %s | srv %s ms=%.1f" % (mine, theirs or "(nothing)",
                                                  (time.monotonic() - t0) * 1000)
            finally:
                s.close()
        res.append(guarded(one))
    return res


def c_bulk(a):
    seed = random.randrange(1 << 30)

    def one(st):
        s = connect(a.addr, a.port, a.timeout)
        st["stage"] = " after connect"
        try:
            mine = stream(seed, a.bytes)
            want_rx = hashlib.sha256(stream(seed + 1, a.bytes)).hexdigest()
            want_srv = hashlib.sha256(mine).hexdigest()
            err = []

            def send():
                try:
                    s.sendall(b"BULK %d %d\n" % (a.bytes, seed))
                    s.sendall(mine)
                except OSError as e:
                    err.append(e)
            t = threading.Thread(target=send, daemon=True)
            t.start()
            rx, got = recv_exact_hash(s, a.bytes)
            tail = recv_all(s).decode(errors="replace").strip()
            t.join()
            if err:
                raise err[0]
            srv = dict(kv.split("=", 1) for kv in tail.split() if "=" in kv)
            ok = rx == want_rx and srv.get("sha") == want_srv and got == a.bytes
            return "%s rx=%s srv_rx=%s sent=%s" % (
                "ok" if ok else "bad got=%d srv_got=%s" % (got, srv.get("got")),
                "match" if rx == want_rx else rx[:12],
                "match" if srv.get("sha") == want_srv else srv.get("sha", "none")[:12],
                want_srv[:12])
        finally:
            s.close()
    return [guarded(one)]


def c_banner(a):
    res = []
    for _ in range(a.n):
        def one(st):
            t0 = time.monotonic()
            s = connect(a.addr, a.port, a.timeout)
            st["stage"] = " after connect"
            try:
                b = readline(s)
                ms = (time.monotonic() - t0) * 1000
                if not b.startswith(b"220 "):
                    return "bad-banner %r" % b[:20]
                return "ok ms=%.1f" % ms
            finally:
                s.close()
        res.append(guarded(one))
    return res


def c_req(a):
    res = []
    for _ in range(a.n):
        def one(st):
            t0 = time.monotonic()
            s = connect(a.addr, a.port, a.timeout)
            st["stage"] = " after connect"
            try:
                s.sendall(b"GET /%d HTTP/1.0\r\nHost: gw\r\n\r\n" % a.size)
                d = recv_all(s)
                ms = (time.monotonic() - t0) * 1000
                head, sep, body = d.partition(b"\r\n\r\n")
                if not sep or not head.startswith(b"HTTP/1.0 200") or len(body) != a.size:
                    return "bad-response len=%d" % len(d)
                return "ok ms=%.1f sha=%s" % (ms, hashlib.sha256(body).hexdigest()[:12])
            finally:
                s.close()
        res.append(guarded(one))
    return res


def c_persist(a):
    def one(st):
        s = connect(a.addr, a.port, a.timeout)
        st["stage"] = " after connect"
        n, h = 0, hashlib.sha256()
        try:
            s.sendall(b"ECHO\n")
            while n < a.lines:
                line = b"line %06d %s\n" % (n, b"x" * (n % 97))
                try:
                    s.sendall(line)
                    back = b""
                    while len(back) < len(line):
                        d = s.recv(len(line) - len(back))
                        if not d:
                            return "closed after %d lines" % n
                        back += d
                except socket.timeout:
                    return "timeout after %d lines" % n
                except ConnectionResetError:
                    return "reset after %d lines" % n
                if back != line:
                    return "bad echo at line %d" % n
                h.update(back)
                n += 1
                time.sleep(a.interval)
            time.sleep(a.hold)
            s.shutdown(socket.SHUT_WR)
            if recv_all(s):
                return "bad: data after the last echo"
            return "ok lines=%d sha=%s" % (n, h.hexdigest()[:12])
        finally:
            s.close()
    return [guarded(one)]


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("serve")
    p.add_argument("--svc", type=int, required=True)
    p.add_argument("--banner", type=int, required=True)
    for name in ("info", "bulk", "banner", "req", "persist"):
        p = sub.add_parser(name)
        p.add_argument("addr")
        p.add_argument("port", type=int)
        p.add_argument("-n", type=int, default=1)
        p.add_argument("--timeout", type=float, default=5)
        p.add_argument("--bytes", type=int, default=1 << 20)
        p.add_argument("--size", type=int, default=1000)
        p.add_argument("--lines", type=int, default=40)
        p.add_argument("--hold", type=float, default=0)
        p.add_argument("--interval", type=float, default=0.05)
    a = ap.parse_args()
    if a.cmd == "serve":
        serve(a)
        return 0
    lines = {"info": c_info, "bulk": c_bulk, "banner": c_banner, "req": c_req,
             "persist": c_persist}[a.cmd](a)
    for line in lines:
        print(line, flush=True)
    return 0 if all(l.startswith(("ok", "cli ")) for l in lines) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(0)
