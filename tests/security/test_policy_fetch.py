"""A policy server that misbehaves: the MTA-STS fetch keeps one overall deadline and a size cap.

Real ``ssl`` servers on 127.0.0.1 with trustme certificates; nothing else is contacted.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import trustme

from tlsrpt_gui.core.dns.policy import MAX_POLICY_BYTES, fetch_policy, probe_tls

HOST = "mta-sts.example.test"
TIMEOUT = 1.5
SLACK = 1.5  # scheduling slack on a loaded machine


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def client_ctx(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    return ctx


Behaviour = Callable[[socket.socket, threading.Event], None]


@pytest.fixture
def server(ca: trustme.CA) -> Iterator[Callable[[Behaviour, bool], int]]:
    """Start a loopback server with a behaviour; returns its port."""
    stop = threading.Event()
    listeners: list[socket.socket] = []
    threads: list[threading.Thread] = []
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(HOST).configure_cert(server_ctx)

    def start(behaviour: Behaviour, tls: bool = True) -> int:
        lst = socket.create_server(("127.0.0.1", 0))
        lst.settimeout(0.2)
        listeners.append(lst)

        def serve() -> None:
            while not stop.is_set():
                try:
                    conn, _ = lst.accept()
                except (TimeoutError, OSError):
                    continue
                try:
                    conn.settimeout(5)
                    if tls:
                        conn = server_ctx.wrap_socket(conn, server_side=True)
                    behaviour(conn, stop)
                except (OSError, ssl.SSLError):
                    pass
                finally:
                    conn.close()

        t = threading.Thread(target=serve, daemon=True)
        t.start()
        threads.append(t)
        return int(lst.getsockname()[1])

    yield start
    stop.set()
    for t in threads:
        t.join(timeout=5)
    for lst in listeners:
        lst.close()


def read_request(conn: socket.socket) -> None:
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = conn.recv(4096)
        if not chunk:
            return
        buf += chunk


def trickle(data: bytes, conn: socket.socket, stop: threading.Event, every: float = 0.5) -> None:
    for i in range(len(data)):
        if stop.wait(every):
            return
        conn.sendall(data[i : i + 1])


POLICY = b"version: STSv1\r\nmode: enforce\r\nmx: mx1.example.test\r\nmax_age: 604800\r\n"
OK_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(POLICY)


def b_trickle_headers(conn: socket.socket, stop: threading.Event) -> None:
    read_request(conn)
    trickle(OK_HEAD + POLICY, conn, stop)


def b_trickle_body(conn: socket.socket, stop: threading.Event) -> None:
    read_request(conn)
    conn.sendall(OK_HEAD)
    trickle(POLICY, conn, stop)


def b_trickle_chunked(conn: socket.socket, stop: threading.Event) -> None:
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    while not stop.wait(0.3):
        conn.sendall(b"1\r\nx\r\n")


def b_silent(conn: socket.socket, stop: threading.Event) -> None:
    read_request(conn)
    stop.wait(10)


def b_endless_body(conn: socket.socket, stop: threading.Event) -> None:
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n")
    block = b"mx: a.example.test\r\n" * 1000
    while not stop.is_set():
        conn.sendall(block)


def b_endless_headers(conn: socket.socket, stop: threading.Event) -> None:
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    while not stop.is_set():
        conn.sendall(b"X-Junk: " + b"j" * 1000 + b"\r\n")


def b_huge_status_line(conn: socket.socket, stop: threading.Event) -> None:
    read_request(conn)
    while not stop.is_set():
        conn.sendall(b"H" * 65536)


def b_trickle_handshake(conn: socket.socket, stop: threading.Event) -> None:
    # plain TCP: a TLS record header, one byte every half second, never a ServerHello
    trickle(b"\x16\x03\x03\x00\x40" + b"\x00" * 64, conn, stop)


@pytest.mark.parametrize(
    ("behaviour", "tls", "kind"),
    [
        (b_trickle_headers, True, "timeout"),
        (b_trickle_body, True, "timeout"),
        (b_trickle_chunked, True, "timeout"),
        (b_silent, True, "timeout"),
        (b_trickle_handshake, False, "timeout"),
    ],
    ids=["headers-1B-per-0.5s", "body-1B-per-0.5s", "chunked-1B-per-0.3s", "silent-after-handshake", "handshake-1B-per-0.5s"],
)
def test_slow_policy_server_hits_the_overall_deadline(server: Callable[[Behaviour, bool], int], client_ctx: ssl.SSLContext,
                                                      behaviour: Behaviour, tls: bool, kind: str) -> None:
    port = server(behaviour, tls)
    t = time.monotonic()
    res = fetch_policy(HOST, ["127.0.0.1"], port=port, timeout=TIMEOUT, context=client_ctx)
    took = time.monotonic() - t
    assert took < TIMEOUT + SLACK, f"took {took:.1f} s"
    assert res.error_kind == kind and res.body is None, res.to_dict()
    assert res.error and "\x1b" not in res.error


def test_slow_handshake_probe_hits_the_deadline(server: Callable[[Behaviour, bool], int], client_ctx: ssl.SSLContext) -> None:
    port = server(b_trickle_handshake, False)
    t = time.monotonic()
    probe = probe_tls(HOST, ["127.0.0.1"], port=port, timeout=TIMEOUT, context=client_ctx)
    assert time.monotonic() - t < TIMEOUT + SLACK
    assert not probe.connected and probe.error


@pytest.mark.parametrize(
    ("behaviour", "check"),
    [
        (b_endless_body, lambda r: r.too_large and r.body is None and r.status == 200),
        (b_endless_headers, lambda r: r.error_kind == "http"),
        (b_huge_status_line, lambda r: r.error_kind == "http"),
    ],
    ids=["endless-body", "endless-headers", "endless-status-line"],
)
def test_flooding_policy_server_is_cut_off(server: Callable[[Behaviour, bool], int], client_ctx: ssl.SSLContext,
                                           behaviour: Behaviour, check: Callable[[object], bool]) -> None:
    port = server(behaviour, True)
    t = time.monotonic()
    res = fetch_policy(HOST, ["127.0.0.1"], port=port, timeout=5, context=client_ctx)
    assert time.monotonic() - t < 5 + SLACK
    assert check(res), res.to_dict()
    assert res.body is None or len(res.body) <= MAX_POLICY_BYTES


def test_well_behaved_server_still_works(server: Callable[[Behaviour, bool], int], client_ctx: ssl.SSLContext) -> None:
    """The fixture itself is sound: a prompt server gives the policy."""

    def prompt(conn: socket.socket, stop: threading.Event) -> None:
        read_request(conn)
        conn.sendall(OK_HEAD + POLICY)

    port = server(prompt, True)
    res = fetch_policy(HOST, ["127.0.0.1"], port=port, timeout=TIMEOUT, context=client_ctx)
    assert res.ok and res.body == POLICY, res.to_dict()
