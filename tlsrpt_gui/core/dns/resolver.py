"""dnspython set-up and one lookup helper that never raises for DNS outcomes.

:class:`DnsClient` wraps a :class:`dns.resolver.Resolver` configured either from
the system (``/etc/resolv.conf``) or with one given nameserver and port. Queries
set the EDNS DO bit and the AD flag so that a validating resolver tells us
whether an answer is DNSSEC-authenticated (RFC 6840 §5.7).
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Final, Literal

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.nameserver
import dns.rcode
import dns.rdata
import dns.rdatatype
import dns.resolver

from tlsrpt_gui.core.dns.records import is_ip_address

log = logging.getLogger(__name__)

LookupStatus = Literal["ok", "nodata", "nxdomain", "error"]

#: Longest CNAME chain we follow across queries.
MAX_CNAME_HOPS: Final = 8
DEFAULT_TIMEOUT: Final = 5.0


class ResolverSetupError(Exception):
    """The resolver cannot be set up (bad nameserver, no system configuration)."""


def parse_nameserver(value: str) -> tuple[str, int | None]:
    """Parse ``IP``, ``IPv4:PORT``, ``IPv6``, ``[IPv6]`` or ``[IPv6]:PORT``.

    Returns the address and the port (``None`` when not given). Raises
    ``ValueError`` with a readable reason.
    """
    text = value.strip()
    host: str
    port_text: str | None = None
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ValueError(f"missing ']' in {value!r}")
        host, rest = text[1:end], text[end + 1:]
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"unexpected text after ']' in {value!r}")
            port_text = rest[1:]
        try:
            if ipaddress.ip_address(host).version != 6:
                raise ValueError(f"only IPv6 addresses go in brackets: {value!r}")
        except ValueError as exc:
            raise ValueError(f"not an IPv6 address: {value!r}") from exc
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host = text
    try:
        address = str(ipaddress.ip_address(host))
    except ValueError:
        raise ValueError(f"not an IP address: {host!r} (give the nameserver's IP)") from None
    if port_text is None:
        return address, None
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"invalid port {port_text!r} in {value!r}")
    return address, int(port_text)


@dataclass(frozen=True, slots=True)
class Lookup:
    """The outcome of one query, CNAMEs followed.

    ``authenticated`` is the AD flag of every response involved (all must have
    it). ``cname_chain`` lists the names the query was redirected to, in order.
    ``rcode`` is the server's response code (``NOERROR``, ``NXDOMAIN``, ``SERVFAIL``,
    ``REFUSED``, ...), ``TIMEOUT`` when no answer came, ``None`` when it is not known.
    """

    name: str
    rdtype: str
    status: LookupStatus
    rdatas: tuple[dns.rdata.Rdata, ...] = ()
    ttl: int | None = None
    authenticated: bool = False
    cname_chain: tuple[str, ...] = ()
    error: str | None = None
    rcode: str | None = None

    @property
    def canonical_name(self) -> str:
        return self.cname_chain[-1] if self.cname_chain else self.name

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "type": self.rdtype,
            "status": self.status,
            "ttl": self.ttl,
            "authenticated": self.authenticated,
            "cname_chain": list(self.cname_chain),
            "error": self.error,
            "rcode": self.rcode,
        }


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One answer-section record as it came off the wire (rdata not interpreted)."""

    owner: str
    rdtype: int
    ttl: int
    rdata: bytes


def _name_text(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower()


@dataclass(slots=True)
class DnsClient:
    """A configured resolver. Not thread-safe: use one per check."""

    nameserver: str | None = None
    port: int = 53
    timeout: float = DEFAULT_TIMEOUT
    dnssec: bool = True
    _resolver: dns.resolver.Resolver = field(init=False, repr=False)
    _cd_resolver: dns.resolver.Resolver = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.timeout <= 0:
            raise ResolverSetupError("the timeout must be positive")
        self._resolver = self._make(checking_disabled=False)
        self._cd_resolver = self._make(checking_disabled=True)

    def _make(self, *, checking_disabled: bool) -> dns.resolver.Resolver:
        try:
            if self.nameserver is None:
                resolver = dns.resolver.Resolver(configure=True)
            else:
                address = str(ipaddress.ip_address(self.nameserver))
                resolver = dns.resolver.Resolver(configure=False)
                resolver.nameservers = [address]
                resolver.port = self.port
        except ValueError as exc:
            raise ResolverSetupError(f"invalid nameserver {self.nameserver!r}") from exc
        except dns.resolver.NoResolverConfiguration as exc:
            raise ResolverSetupError(
                "no system DNS resolver is configured; give a nameserver"
            ) from exc
        resolver.lifetime = self.timeout
        resolver.timeout = min(self.timeout, 2.0)  # per attempt; retries within lifetime
        resolver.cache = None
        flags = dns.flags.RD
        if self.dnssec:
            flags |= dns.flags.AD
            resolver.use_edns(0, dns.flags.DO, 1232)
        if checking_disabled:
            flags |= dns.flags.CD
        resolver.set_flags(flags)
        return resolver

    def describe(self) -> str:
        if self.nameserver is None:
            return "system resolver"
        host = f"[{self.nameserver}]" if ":" in self.nameserver else self.nameserver
        return f"nameserver {host}:{self.port}"

    def lookup(
        self, name: str, rdtype: str, *, checking_disabled: bool = False
    ) -> Lookup:
        """Query *name*/*rdtype*, following CNAMEs across queries (RFC 8461 §8.2)."""
        resolver = self._cd_resolver if checking_disabled else self._resolver
        qtype = dns.rdatatype.from_text(rdtype)
        chain: list[str] = []
        authenticated = True
        current = name
        seen = {name.lower()}
        for _hop in range(MAX_CNAME_HOPS + 1):
            try:
                answer = resolver.resolve(
                    current, qtype, raise_on_no_answer=False, search=False
                )
            except dns.resolver.NXDOMAIN as exc:
                responses: dict[dns.name.Name, dns.message.Message] = exc.kwargs.get(
                    "responses", {}
                )
                ad = bool(responses) and all(
                    bool(r.flags & dns.flags.AD) for r in responses.values()
                )
                try:
                    target = _name_text(exc.canonical_name)
                except TypeError:
                    target = current
                if target != current.lower():
                    chain.append(target)
                return Lookup(name, rdtype, "nxdomain", authenticated=authenticated and ad,
                              cname_chain=tuple(chain), rcode="NXDOMAIN")
            except dns.resolver.NoNameservers as exc:
                return Lookup(name, rdtype, "error", cname_chain=tuple(chain),
                              error=_server_errors(exc), rcode=_server_rcode(exc))
            except dns.exception.Timeout:
                return Lookup(name, rdtype, "error", cname_chain=tuple(chain),
                              error=f"no answer within {self.timeout:g} s (timeout)",
                              rcode="TIMEOUT")
            except dns.exception.DNSException as exc:
                return Lookup(name, rdtype, "error", cname_chain=tuple(chain),
                              error=f"{type(exc).__name__}: {exc}")
            authenticated = authenticated and bool(answer.response.flags & dns.flags.AD)
            for cname_rrset in answer.chaining_result.cnames:
                for rd in cname_rrset:
                    chain.append(_name_text(rd.target))
                    break
            if answer.rrset is not None:
                return Lookup(name, rdtype, "ok", rdatas=tuple(answer.rrset),
                              ttl=answer.rrset.ttl, authenticated=authenticated,
                              cname_chain=tuple(chain), rcode="NOERROR")
            target = _name_text(answer.canonical_name)
            if target == current.lower() or target in seen:
                return Lookup(name, rdtype, "nodata", authenticated=authenticated,
                              cname_chain=tuple(chain), rcode="NOERROR")
            # The server returned a CNAME without the target's data (an authoritative
            # server for another zone): ask again for the target.
            seen.add(target)
            current = target
        return Lookup(name, rdtype, "error", cname_chain=tuple(chain),
                      error=f"CNAME chain longer than {MAX_CNAME_HOPS}")

    # ------------------------------------------------------------ raw queries
    #
    # dnspython refuses to parse a whole response when one record in it is
    # malformed (e.g. a TLSA record whose digest length does not fit its matching
    # type). Exactly those records must be reported, so TLSA is fetched raw: the
    # query is built by dnspython, the answer section is walked here.

    def _servers(self) -> list[tuple[str, int]]:
        if self.nameserver is not None:
            return [(str(ipaddress.ip_address(self.nameserver)), self.port)]
        servers: list[tuple[str, int]] = []
        for ns in self._resolver.nameservers:
            if isinstance(ns, str):
                if is_ip_address(ns):
                    port = self._resolver.nameserver_ports.get(ns, self._resolver.port)
                    servers.append((ns, port))
            elif isinstance(ns, dns.nameserver.Do53Nameserver):
                servers.append((ns.address, ns.port))
        return servers

    def query_raw(
        self, name: str, rdtype: str, *, checking_disabled: bool = False
    ) -> tuple[bytes | None, str | None]:
        """Send one query (UDP, TCP when truncated) and return the response bytes."""
        query = dns.message.make_query(
            name, rdtype, want_dnssec=self.dnssec, id=secrets.randbelow(65536)
        )
        flags = dns.flags.RD
        if self.dnssec:
            flags |= dns.flags.AD
        if checking_disabled:
            flags |= dns.flags.CD
        query.flags = dns.flags.Flag(flags)
        wire = query.to_wire()
        deadline = time.monotonic() + self.timeout
        errors: list[str] = []
        for address, port in self._servers():
            try:
                response = _udp_exchange(wire, address, port, deadline)
                if len(response) >= 4 and response[2] & 0x02:  # TC: retry over TCP
                    response = _tcp_exchange(wire, address, port, deadline)
                return response, None
            except TimeoutError:
                errors.append(f"{address} port {port}: no answer within {self.timeout:g} s")
            except (OSError, ValueError) as exc:
                errors.append(f"{address} port {port}: {exc}")
        if not errors:
            errors.append("no usable nameserver configured")
        return None, "; ".join(errors)

    def lookup_records(
        self, name: str, rdtype: str, *, checking_disabled: bool = False
    ) -> tuple[Lookup, list[RawRecord]]:
        """Like :meth:`lookup`, but return the raw records of the final owner name."""
        qtype = int(dns.rdatatype.from_text(rdtype))
        chain: list[str] = []
        authenticated = True
        current = name.lower().rstrip(".")
        seen = {current}
        for _hop in range(MAX_CNAME_HOPS + 1):
            wire, error = self.query_raw(current, rdtype, checking_disabled=checking_disabled)
            if wire is None:
                return Lookup(name, rdtype, "error", cname_chain=tuple(chain), error=error,
                              rcode="TIMEOUT"), []
            try:
                rcode, ad, records = parse_answer(wire)
            except (ValueError, IndexError, struct.error, dns.exception.DNSException) as exc:
                return Lookup(name, rdtype, "error", cname_chain=tuple(chain),
                              error=f"malformed DNS response ({exc})", rcode="FORMERR"), []
            authenticated = authenticated and ad
            owner = current
            while True:
                cname = next(
                    (r for r in records if r.owner == owner and r.rdtype == dns.rdatatype.CNAME),
                    None,
                )
                if cname is None:
                    break
                owner = _name_text(dns.name.from_wire(cname.rdata, 0)[0])
                if owner in seen:
                    break
                chain.append(owner)
                seen.add(owner)
            found = [r for r in records if r.owner == owner and r.rdtype == qtype]
            if found:
                return Lookup(name, rdtype, "ok", ttl=min(r.ttl for r in found),
                              authenticated=authenticated, cname_chain=tuple(chain), rcode="NOERROR"), found
            if rcode == dns.rcode.NXDOMAIN:
                return Lookup(name, rdtype, "nxdomain", authenticated=authenticated,
                              cname_chain=tuple(chain), rcode="NXDOMAIN"), []
            if rcode != dns.rcode.NOERROR:
                text = dns.rcode.to_text(dns.rcode.Rcode(rcode))
                return Lookup(name, rdtype, "error", cname_chain=tuple(chain),
                              error=f"the DNS server answered {text}", rcode=text), []
            if owner == current:
                return Lookup(name, rdtype, "nodata", authenticated=authenticated,
                              cname_chain=tuple(chain), rcode="NOERROR"), []
            current = owner  # CNAME without the target's data: ask for the target
        return Lookup(name, rdtype, "error", cname_chain=tuple(chain),
                      error=f"CNAME chain longer than {MAX_CNAME_HOPS}"), []

    def addresses(self, host: str) -> tuple[list[str], Lookup, Lookup]:
        """IPv4 then IPv6 addresses of *host*, with both lookups."""
        a = self.lookup(host, "A")
        aaaa = self.lookup(host, "AAAA")
        found = [rd.to_text() for rd in a.rdatas] + [rd.to_text() for rd in aaaa.rdatas]
        return found, a, aaaa


def _family(address: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left


def _udp_exchange(wire: bytes, address: str, port: int, deadline: float) -> bytes:
    with socket.socket(_family(address), socket.SOCK_DGRAM) as sock:
        sock.connect((address, port))
        sock.settimeout(_left(deadline))
        sock.send(wire)
        while True:
            sock.settimeout(_left(deadline))
            response = sock.recv(65535)
            if len(response) >= 2 and response[:2] == wire[:2]:  # same query id
                return response


def _tcp_exchange(wire: bytes, address: str, port: int, deadline: float) -> bytes:
    with socket.create_connection((address, port), timeout=_left(deadline)) as sock:
        sock.settimeout(_left(deadline))
        sock.sendall(struct.pack("!H", len(wire)) + wire)

        def read(count: int) -> bytes:
            data = b""
            while len(data) < count:
                sock.settimeout(_left(deadline))
                chunk = sock.recv(count - len(data))
                if not chunk:
                    raise ValueError("connection closed by the DNS server")
                data += chunk
            return data

        (length,) = struct.unpack("!H", read(2))
        return read(length)


def parse_answer(wire: bytes) -> tuple[int, bool, list[RawRecord]]:
    """Rcode, AD flag and answer records of a DNS response, rdata left raw.

    CNAME rdata is returned decompressed (a plain wire-format name) so that it can
    be read without the message.
    """
    if len(wire) < 12:
        raise ValueError("response shorter than a DNS header")
    _id, flags, qdcount, ancount = struct.unpack("!HHHH", wire[:8])
    if not flags & 0x8000:
        raise ValueError("not a response")
    rcode = flags & 0x000F
    ad = bool(flags & 0x0020)
    offset = 12
    for _ in range(qdcount):
        _name, used = dns.name.from_wire(wire, offset)
        offset += used + 4
    records: list[RawRecord] = []
    for _ in range(ancount):
        owner, used = dns.name.from_wire(wire, offset)
        offset += used
        rdtype, _rdclass, ttl, rdlen = struct.unpack("!HHIH", wire[offset:offset + 10])
        offset += 10
        rdata = wire[offset:offset + rdlen]
        if len(rdata) != rdlen:
            raise ValueError("record data runs past the end of the response")
        if rdtype == dns.rdatatype.CNAME:
            target, _ = dns.name.from_wire(wire, offset)
            rdata = target.to_wire() or b""
        offset += rdlen
        records.append(RawRecord(_name_text(owner), rdtype, ttl, rdata))
    return rcode, ad, records


def _server_rcode(exc: dns.resolver.NoNameservers) -> str | None:
    """The response code of the last answer a server gave (SERVFAIL, REFUSED, ...);
    ``None`` when none answered."""
    for err in reversed(exc.kwargs.get("errors") or []):
        response = err[4] if len(err) > 4 else None
        if isinstance(response, dns.message.Message):
            return str(dns.rcode.to_text(response.rcode()))
    return None


def _server_errors(exc: dns.resolver.NoNameservers) -> str:
    errors = exc.kwargs.get("errors") or []
    parts = []
    for err in errors:
        server = err[0]
        parts.append(f"{server} answered {err[3]}")
    detail = "; ".join(parts) if parts else str(exc)
    return f"the DNS server gave no usable answer ({detail})"
