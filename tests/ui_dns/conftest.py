"""Fixtures for the DNS panel tests.

The real DNS world of ``tests/dns`` (an NSD on loopback, an HTTPS policy server with
trustme certificates) is reused as is. A second NSD serves a zone whose records
hold markup, for the "untrusted text stays plain" tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings

import tests.dns.conftest as dns_fixtures
from tests.dns.conftest import DnsWorld, run_nsd
from tlsrpt_gui.ui.dns_tab import DnsTab
from tlsrpt_gui.ui.preferences import ResolverSettings

# The loopback world of tests/dns: NSD + HTTPS policy server (session fixtures).
pki = dns_fixtures.pki
https_world = dns_fixtures.https_world
dns_world = dns_fixtures.dns_world

HOSTILE_RPT = "v=TLSRPTv1; rua=mailto:<b>x</b>@hostile.test"
HOSTILE_STS = "v=STSv1; id=<img src=x>"


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    """Private settings (an INI file): the tests never touch the user's."""
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def world_resolver(world: DnsWorld, timeout: float = 3.0) -> ResolverSettings:
    return ResolverSettings(use_system=False, nameserver="127.0.0.1", port=world.port,
                            timeout=timeout)


MakeTab = Callable[..., DnsTab]


@pytest.fixture
def make_tab(qtbot: Any, settings: QSettings, dns_world: DnsWorld) -> Iterator[MakeTab]:
    """``make_tab(resolver=..., **option_overrides)``: a shown DnsTab on the test world.

    The resolver settings (default: the world's NSD) are written to the tab's
    QSettings, as the Preferences dialog would; the base options carry the policy
    server's port and CA.
    """
    tabs: list[DnsTab] = []

    def make(resolver: ResolverSettings | None = None, **overrides: Any) -> DnsTab:
        (resolver or world_resolver(dns_world)).save(settings)
        options = dns_world.options(**overrides)
        tab = DnsTab(settings=settings, options=options)
        qtbot.addWidget(tab)
        tab.resize(1280, 800)
        tab.show()
        qtbot.waitExposed(tab)
        tabs.append(tab)
        return tab

    yield make
    for tab in tabs:  # let abandoned checks end before the world is torn down
        task = tab.task
        if task is not None:
            task.cancel()


@dataclass
class HostileWorld:
    port: int


@pytest.fixture(scope="session")
def hostile_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileWorld]:
    """An NSD on loopback serving ``hostile.test``, whose TXT records hold markup."""
    root = tmp_path_factory.mktemp("nsd-hostile")
    zone = (
        "$ORIGIN test.\n$TTL 86400\n"
        "@ SOA ns.test. hostmaster.test. 1 3600 600 86400 300\n"
        "@ NS ns.test.\n"
        "ns.test. A 127.0.0.1\n"
        "hostile.test. MX 10 mx1.hostile.test.\n"
        "mx1.hostile.test. A 127.0.0.1\n"
        f'_smtp._tls.hostile.test. TXT "{HOSTILE_RPT}"\n'
        f'_mta-sts.hostile.test. TXT "{HOSTILE_STS}"\n'
    )
    with run_nsd(root, {"test.": zone}) as (port, _log):
        yield HostileWorld(port)
