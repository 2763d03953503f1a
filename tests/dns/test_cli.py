"""The ``check`` subcommand: register()/run() with our own parser, and the module as a
subprocess (with SSL_CERT_FILE pointing at the test CA)."""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.dns.conftest import DnsWorld
from tlsrpt_gui import cli_check

pytestmark = pytest.mark.dns

REPO = Path(__file__).resolve().parents[2]


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tlsrpt-gui")
    commands = parser.add_subparsers(dest="command", required=True)
    cli_check.register(commands)
    return parser


def world_args(dns_world: DnsWorld, domain: str, *extra: str) -> list[str]:
    return [
        "check", domain, "--nameserver", f"127.0.0.1:{dns_world.port}",
        "--mta-sts-port", str(dns_world.https.port), "--timeout", "2", *extra,
    ]


@pytest.fixture
def trust_test_ca(dns_world: DnsWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI uses the system trust store, which honours SSL_CERT_FILE."""
    monkeypatch.setenv("SSL_CERT_FILE", str(dns_world.pki.cafile))


def run_check(argv: list[str]) -> tuple[int, str]:
    args = make_parser().parse_args(argv)
    out = io.StringIO()
    code = cli_check.run(args, stdout=out)
    return code, out.getvalue()


@pytest.mark.usefixtures("trust_test_ca")
def test_text_report_records_first_then_findings(dns_world: DnsWorld) -> None:
    code, out = run_check(world_args(dns_world, "valid.test"))
    assert code == 0
    lines = out.splitlines()
    heads = [next(i for i, line in enumerate(lines) if line.startswith(h))
             for h in ("TLS-RPT", "MTA-STS", "MX", "TLSA", "Findings:")]
    assert heads == sorted(heads)
    assert '  TXT "v=TLSRPTv1; rua=mailto:tlsrpt@va" "lid.test,https://reports.valid.test/v1"' in lines
    assert "  id: 20240101T000000" in lines
    assert "    | mode: enforce" in lines
    assert any(line.startswith("  10 mx1.valid.test  127.0.0.1") for line in lines)
    assert "Findings: 0 error(s), 0 warning(s), 2 info" in lines


@pytest.mark.usefixtures("trust_test_ca")
def test_text_findings_sorted_by_severity_and_exit_1_on_error(dns_world: DnsWorld) -> None:
    code, out = run_check(world_args(dns_world, "testing.test"))
    assert code == 0  # warnings only
    code, out = run_check(world_args(dns_world, "notcovered.test"))
    assert code == 1
    labels = [line.split()[0] for line in out.splitlines()
              if line.startswith("  ") and line.split()[0] in ("ERROR", "WARNING", "INFO")]
    assert labels[0] == "ERROR" and "INFO" in labels
    rank = {"ERROR": 0, "WARNING": 1, "INFO": 2}
    assert [rank[x] for x in labels] == sorted(rank[x] for x in labels)
    assert "sts-mx-not-covered  (RFC 8461 §4.1, §5)" in out


@pytest.mark.usefixtures("trust_test_ca")
def test_json_output(dns_world: DnsWorld) -> None:
    code, out = run_check(world_args(dns_world, "testing.test", "--json"))
    assert code == 0
    data = json.loads(out)
    assert list(data) == ["domain", "tlsrpt", "mta_sts", "mx", "tlsa", "findings"]
    assert data["mta_sts"]["policy"]["mode"] == "testing"
    assert data["tlsrpt"]["record"] == "v=TLSRPTv1; rua=mailto:tlsrpt@valid.test"
    codes = {(f["code"], f["severity"]) for f in data["findings"]}
    assert ("sts-mode-testing", "info") in codes
    assert ("sts-mx-not-covered", "warning") in codes
    assert all(f["rfc"].startswith("RFC") and f["message"] for f in data["findings"])


def test_json_lookups_give_the_response_code(dns_world: DnsWorld) -> None:
    """Each lookup in the JSON says how the server answered (it said only ok / error)."""
    _, out = run_check(world_args(dns_world, "bare.test", "--json"))
    data = json.loads(out)
    assert (data["mx"]["status"], data["mx"]["rcode"]) == ("ok", "NOERROR")
    assert (data["tlsrpt"]["status"], data["tlsrpt"]["rcode"]) == ("nxdomain", "NXDOMAIN")
    _, out = run_check(world_args(dns_world, "outside.invalid", "--json"))
    data = json.loads(out)  # not served here: the server refuses
    assert {(data[k]["status"], data[k]["rcode"]) for k in ("mx", "tlsrpt", "mta_sts")} == {("error", "REFUSED")}


def test_json_exit_1_on_certificate_error(dns_world: DnsWorld,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)  # test CA not trusted
    code, out = run_check(world_args(dns_world, "valid.test", "--json"))
    assert code == 1
    assert "sts-policy-certificate" in {f["code"] for f in json.loads(out)["findings"]}


@pytest.mark.usefixtures("trust_test_ca")
def test_ipv6_nameserver_with_port(dns_world: DnsWorld) -> None:
    argv = world_args(dns_world, "valid.test", "--json")
    argv[3] = f"[::1]:{dns_world.port}"
    code, out = run_check(argv)
    assert code == 0
    assert json.loads(out)["mta_sts"]["id"] == "20240101T000000"


@pytest.mark.usefixtures("trust_test_ca")
def test_control_characters_never_reach_the_terminal(dns_world: DnsWorld) -> None:
    code, out = run_check(world_args(dns_world, "escape.test"))
    assert code == 1  # a control character is a syntax error
    assert "\x1b" not in out
    assert "a@valid.test\\x1b[2J" in out
    code, out = run_check(world_args(dns_world, "escape.test", "--json"))
    assert code == 1
    assert "\x1b" not in out
    assert json.loads(out)["tlsrpt"]["record"].endswith("\x1b[2J")
    # a bidi override too, in the text (it was printed raw) and in the JSON (now ASCII)
    for extra in ((), ("--json",)):
        _, out = run_check(world_args(dns_world, "bidi.test", *extra))
        assert "\u202e" not in out and (out.isascii() or not extra)
        assert ("x=\\u202elive" in out) if not extra else json.loads(out)["tlsrpt"]["record"].endswith("x=\u202elive")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("127.0.0.1", ("127.0.0.1", None)),
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("::1", ("::1", None)),
        ("[::1]", ("::1", None)),
        ("[::1]:5353", ("::1", 5353)),
        ("2001:db8::53", ("2001:db8::53", None)),
    ],
)
def test_nameserver_forms(value: str, expected: tuple[str, int | None]) -> None:
    args = make_parser().parse_args(["check", "example.com", "--nameserver", value])
    assert args.nameserver == expected
    assert (args.timeout, args.mta_sts_port, args.json) == (5.0, 443, False)


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "example.com", "--nameserver", "ns.example.com"],
        ["check", "example.com", "--nameserver", "127.0.0.1:0"],
        ["check", "example.com", "--nameserver", "127.0.0.1:70000"],
        ["check", "example.com", "--nameserver", "[::1"],
        ["check", "example.com", "--nameserver", "[127.0.0.1]:53"],
        ["check", "example.com", "--nameserver", "::1]:53"],
        ["check", "example.com", "--timeout", "0"],
        ["check", "example.com", "--timeout", "soon"],
        ["check", "example.com", "--mta-sts-port", "0"],
        ["check", "example.com", "--mta-sts-port", "https"],
        ["check"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        make_parser().parse_args(argv)
    assert exc.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_invalid_domain_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_check(["check", "not a domain", "--nameserver", "127.0.0.1:9"])
    assert code == 2 and out == ""
    assert "not a valid domain name" in capsys.readouterr().err


def test_module_as_a_subprocess(dns_world: DnsWorld) -> None:
    env = {**os.environ, "SSL_CERT_FILE": str(dns_world.pki.cafile),
           "PYTHONPATH": str(REPO)}
    argv = world_args(dns_world, "cname.test", "--json")[1:]
    proc = subprocess.run(
        [sys.executable, "-m", "tlsrpt_gui.cli_check", *argv],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["mta_sts"]["cname_chain"] == ["_mta-sts.provider.example"]
    assert data["mta_sts"]["policy"]["status"] == 200
    bad = subprocess.run(
        [sys.executable, "-m", "tlsrpt_gui.cli_check", "x.test", "--nameserver", "nope"],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=60,
    )
    assert bad.returncode == 2 and "--nameserver" in bad.stderr
