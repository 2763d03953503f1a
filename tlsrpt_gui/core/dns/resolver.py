"""dnspython set-up and one lookup helper that never raises for DNS outcomes.

:class:`DnsClient` wraps a :class:`dns.resolver.Resolver` configured either from
the system (``/etc/resolv.conf``) or with one given nameserver and port. Queries
set the EDNS DO bit and the AD flag so that a validating resolver tells us
whether an answer is DNSSEC-authenticated (RFC 6840 §5.7).
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass, field
from typing import Final, Literal

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdatatype
import dns.resolver

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
        }


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
                              error=_server_errors(exc), rcode="SERVFAIL")
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
                              cname_chain=tuple(chain))
            target = _name_text(answer.canonical_name)
            if target == current.lower() or target in seen:
                return Lookup(name, rdtype, "nodata", authenticated=authenticated,
                              cname_chain=tuple(chain))
            # The server returned a CNAME without the target's data (an authoritative
            # server for another zone): ask again for the target.
            seen.add(target)
            current = target
        return Lookup(name, rdtype, "error", cname_chain=tuple(chain),
                      error=f"CNAME chain longer than {MAX_CNAME_HOPS}")

    def addresses(self, host: str) -> tuple[list[str], Lookup, Lookup]:
        """IPv4 then IPv6 addresses of *host*, with both lookups."""
        a = self.lookup(host, "A")
        aaaa = self.lookup(host, "AAAA")
        found = [rd.to_text() for rd in a.rdatas] + [rd.to_text() for rd in aaaa.rdatas]
        return found, a, aaaa


def _server_errors(exc: dns.resolver.NoNameservers) -> str:
    errors = exc.kwargs.get("errors") or []
    parts = []
    for err in errors:
        server = err[0]
        parts.append(f"{server} answered {err[3]}")
    detail = "; ".join(parts) if parts else str(exc)
    return f"the DNS server gave no usable answer ({detail})"
