"""A whole mail-domain world on loopback for the DNS checker tests.

- An authoritative NSD (installed by ``scripts/system-test-deps.sh``) on
  127.0.0.1 and ::1, a free high port, serving the zones in :mod:`world`.
- An HTTPS server (``ssl`` + ``http.server``) on 127.0.0.1 with trustme
  certificates; it picks the response by Host header and the certificate by SNI.
- A "black hole" port that accepts TCP connections but never answers TLS, and a
  closed port.

Everything is started once per session and stopped at the end. No address other
than 127.0.0.1 and ::1 is ever used.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import dns.message
import dns.query
import dns.rcode
import pytest
import trustme

from tests.dns import world
from tlsrpt_gui.core.dns import CheckOptions, CheckResult, check_domain

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"


def free_port() -> int:
    """A port free for TCP and UDP on both 127.0.0.1 and ::1."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        try:
            for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
                for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                    with socket.socket(family, kind) as s:
                        s.bind((host, port))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port on loopback")


# --------------------------------------------------------------------------- HTTPS


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    trickle: float = 0.0  # seconds between single bytes of the status line


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _TlsServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _record(self) -> str:
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].lower()
        self.server.requests.append((self.command, host, self.path))
        return host

    def do_POST(self) -> None:  # the checker must never post: recorded, then refused
        self._record()
        self.send_error(405)

    do_PUT = do_POST

    def do_GET(self) -> None:
        host = self._record()
        route = self.server.routes.get((host, self.path))
        if route is None:
            route = Route(status=404, body=b"not here\n")
        if route.trickle:
            line = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" + route.body
            try:
                for byte in line[:60]:  # bounded: 60 bytes at most
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(route.trickle)
            except OSError:
                pass
            self.close_connection = True
            return
        self.send_response(route.status)
        self.send_header("Content-Type", route.content_type)
        self.send_header("Content-Length", str(len(route.body)))
        for key, value in route.headers.items():
            self.send_header(key, value)
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(route.body)
        self.close_connection = True


class _TlsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.context = context
        self.routes: dict[tuple[str, str], Route] = {}
        self.requests: list[tuple[str, str, str]] = []  # method, host, path
        self.sni_seen: list[str | None] = []  # server names of TLS handshakes

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(10)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # the client rejected our certificate, or went away
        try:
            self.RequestHandlerClass(tls, client_address, self)
        except OSError:
            pass
        finally:
            tls.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


@dataclass
class Pki:
    ca: trustme.CA
    cafile: Path

    def client_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.cafile))
        return ctx


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    ca = trustme.CA()
    path = tmp_path_factory.mktemp("pki") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return Pki(ca, path)


@dataclass
class HttpsWorld:
    port: int
    server: _TlsServer
    blackhole_port: int
    closed_port: int


@pytest.fixture(scope="session")
def https_world(pki: Pki) -> Iterator[HttpsWorld]:
    def context_for(*names: str, not_after: datetime | None = None) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        pki.ca.issue_cert(*names, not_after=not_after).configure_cert(ctx)
        return ctx

    main = context_for(*world.GOOD_CERT_NAMES)
    wrong = context_for("somebody-else.test")
    expiring = context_for(
        *world.EXPIRING_CERT_NAMES, not_after=datetime.now(UTC) + timedelta(days=5)
    )

    sni_seen: list[str | None] = []

    def pick_certificate(sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        sni_seen.append(name)
        if name in world.WRONG_CERT_NAMES:
            sock.context = wrong
        elif name in world.EXPIRING_CERT_NAMES:
            sock.context = expiring

    main.sni_callback = pick_certificate  # type: ignore[assignment]
    server = _TlsServer(main)
    server.sni_seen = sni_seen
    for (host, path), spec in world.ROUTES.items():
        server.routes[(host, path)] = Route(**spec)
    thread = threading.Thread(target=server.serve_forever, name="https-world", daemon=True)
    thread.start()
    blackhole = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    blackhole.bind(("127.0.0.1", 0))
    blackhole.listen(16)  # never accepted: TCP connects, TLS never answers
    closed = free_port()
    try:
        yield HttpsWorld(server.server_address[1], server, blackhole.getsockname()[1], closed)
    finally:
        server.shutdown()
        server.server_close()
        blackhole.close()
        thread.join(5)


# --------------------------------------------------------------------------- NSD


def _find_nsd() -> str:
    found = shutil.which("nsd") or (
        "/usr/sbin/nsd" if Path("/usr/sbin/nsd").exists() else None
    )
    if found is None:
        pytest.fail(
            "The NSD DNS server (Debian package 'nsd') is not installed; the DNS checker "
            "tests need it. Run 'bash scripts/system-test-deps.sh' as root (make test does).",
            pytrace=False,
        )
    return found


@dataclass
class DnsWorld:
    port: int
    https: HttpsWorld
    pki: Pki
    log: Path

    def options(self, **overrides: Any) -> CheckOptions:
        values: dict[str, Any] = {
            "nameserver": "127.0.0.1",
            "port": self.port,
            "timeout": 2.0,
            "mta_sts_port": self.https.port,
            "ssl_context": self.pki.client_context(),
        }
        values.update(overrides)
        return CheckOptions(**values)


def _wait_until_serving(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    query = dns.message.make_query("ns.test.", "A")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"nsd exited with {proc.returncode}:\n{_read(log)}", pytrace=False)
        try:
            response = dns.query.udp(query, "127.0.0.1", timeout=0.3, port=port)
            if response.rcode() == dns.rcode.NOERROR and response.answer:
                return
        except (OSError, dns.exception.Timeout):
            pass
        time.sleep(0.1)
    pytest.fail(f"nsd did not start serving on port {port}:\n{_read(log)}", pytrace=False)


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else "(no log)"


@contextlib.contextmanager
def run_nsd(root: Path, zones: dict[str, str]) -> Iterator[tuple[int, Path]]:
    """An NSD serving ``zones`` (origin -> zone text) on 127.0.0.1 and ::1; yields (port, log)."""
    nsd = _find_nsd()
    zone_conf = []
    for origin, text in zones.items():
        file = root / f"{origin}zone"
        file.write_text(text)
        zone_conf.append(f"zone:\n  name: {origin}\n  zonefile: {file.name}\n")
    port = free_port()
    log = root / "nsd.log"
    conf = root / "nsd.conf"
    conf.write_text(
        "server:\n"
        f"  ip-address: 127.0.0.1@{port}\n"
        f"  ip-address: ::1@{port}\n"
        f"  port: {port}\n"
        '  username: ""\n'
        '  chroot: ""\n'
        f'  zonesdir: "{root}"\n'
        '  database: ""\n'
        f'  pidfile: "{root}/nsd.pid"\n'
        f'  xfrdfile: "{root}/xfrd.state"\n'
        f'  zonelistfile: "{root}/zone.list"\n'
        f'  logfile: "{log}"\n'
        "  server-count: 1\n"
        "  verbosity: 1\n"
        "remote-control:\n"
        "  control-enable: no\n" + "".join(zone_conf)
    )
    with log.open("ab") as stderr:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen([nsd, "-d", "-c", str(conf)], stdout=subprocess.DEVNULL,
                                stderr=stderr)
    try:
        _wait_until_serving(proc, port, log)
        yield port, log
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture(scope="session")
def dns_world(
    tmp_path_factory: pytest.TempPathFactory, https_world: HttpsWorld, pki: Pki
) -> Iterator[DnsWorld]:
    root = tmp_path_factory.mktemp("nsd")
    with run_nsd(root, world.zones(https_world.closed_port)) as (port, log):
        yield DnsWorld(port, https_world, pki, log)


@pytest.fixture(scope="session")
def checked(dns_world: DnsWorld) -> Any:
    """``checked(domain)``: the check result for a world domain, computed once."""
    cache: dict[str, CheckResult] = {}

    def get(domain: str) -> CheckResult:
        if domain not in cache:
            cache[domain] = check_domain(domain, dns_world.options())
        return cache[domain]

    return get
