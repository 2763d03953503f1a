"""The headless commands: ``import``, ``stats``, ``export`` (and ``check``).

They share the engine with the window. Output meant for scripts goes to stdout;
progress and messages go to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Protocol, TextIO

from tlsrpt_gui import __version__, app, cli_check
from tlsrpt_gui.core.export import export_table
from tlsrpt_gui.core.index import SCHEMA_VERSION, ImportResult, Index, IndexError_, Progress
from tlsrpt_gui.core.paths import resolve_db_path
from tlsrpt_gui.core.sources import DEFAULT_LIMITS, Limits
from tlsrpt_gui.logsetup import setup_logging

COMMANDS = app.COMMANDS

EXIT_OK = 0
EXIT_SOME_FAILED = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tlsrpt-gui",
        description="Read SMTP TLS reports (RFC 8460) into a local index and check TLS-RPT/MTA-STS DNS. "
        "Without a command, the window opens.",
    )
    parser.add_argument("--version", action="version", version=f"tlsrpt-gui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    db_help = "the index file (default: $TLSRPT_GUI_DB, else the one set in the window's Preferences, else in the user data folder)"

    p = sub.add_parser("import", help="import report files, folders, mails and mailboxes")
    p.add_argument("paths", nargs="+", metavar="PATH", help="json, gz, zip, eml, mbox file or folder (searched recursively)")
    p.add_argument("--db", metavar="FILE", help=db_help)
    p.add_argument("--json", action="store_true", help="print one JSON object with the outcome")
    p.add_argument("--workers", type=_positive_int, default=None, metavar="N",
                   help="parser processes (default: one per core)")

    p = sub.add_parser("stats", help="print the index totals")
    p.add_argument("--db", metavar="FILE", help=db_help)
    p.add_argument("--json", action="store_true", help="print a JSON object")

    p = sub.add_parser("export", help="export reports, policies or failure details as flat rows")
    p.add_argument("table", choices=("reports", "policies", "failures"))
    p.add_argument("--format", choices=("csv", "json", "ndjson"), default="csv")
    p.add_argument("--db", metavar="FILE", help=db_help)
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")

    cli_check.register(sub)
    return parser


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"{n}: at least 1")
    return n


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(stderr_level=logging.WARNING)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        if args.command == "import":
            return _flushed(cmd_import(args))
        if args.command == "stats":
            return _flushed(cmd_stats(args))
        if args.command == "export":
            return _flushed(cmd_export(args))
        if args.command == "check":
            return int(cli_check.run(args))
    except IndexError_ as exc:
        print(f"tlsrpt-gui: {exc}", file=sys.stderr)
        return EXIT_SOME_FAILED
    except KeyboardInterrupt:
        print("tlsrpt-gui: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `tlsrpt-gui export … | head`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except _OutputError as exc:
        print(f"tlsrpt-gui: {exc}", file=sys.stderr)
        return EXIT_SOME_FAILED
    parser.error(f"unknown command {args.command}")
    return EXIT_USAGE  # pragma: no cover


class _OutputError(Exception):
    """The output (a file, or stdout) cannot be written: a full disk, a missing folder."""

    @classmethod
    def of(cls, exc: OSError, what: str) -> _OutputError:
        return cls(f"cannot write {_plain(str(exc.filename or what))}: {exc.strerror or exc}")


@contextmanager
def _to_stdout() -> Iterator[None]:
    """Writes to stdout whose failure (a full disk behind a redirection) is said plainly."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise _OutputError.of(exc, "the standard output") from exc


def _emit(text: str) -> None:
    """Write a command's output to stdout."""
    with _to_stdout():
        sys.stdout.write(text)


def _flushed(code: int) -> int:
    """``code``, once stdout is written out (so that a failed write is seen and said)."""
    with _to_stdout():
        sys.stdout.flush()
    return code


def _existing_index(db: Path) -> Index:
    """The index at ``db`` for reading out (stats, export): never a new empty one made by
    a mistyped ``--db``; read-only if the file cannot be written."""
    if not db.is_file():
        raise IndexError_(f"there is no index at {db}: import reports into it first, or give the right --db")
    # Read-only unless it needs an upgrade: nothing written, and an import running
    # meanwhile is left alone (a writable open would build the indexes it deferred).
    index = Index(db, read_only=True)
    if index.schema_version < SCHEMA_VERSION and os.access(db, os.W_OK):
        index.close()
        return Index(db)
    return index


def _is_index_file(output: str, db: Path) -> bool:
    """True if writing ``output`` would overwrite the index ``db`` or its journal files."""
    target = os.path.realpath(output)
    for path in (db, *(db.with_name(db.name + suffix) for suffix in ("-wal", "-shm", "-journal"))):
        if target == os.path.realpath(path):
            return True
        with suppress(OSError):
            if os.path.samefile(output, path):  # (a hard link)
                return True
    return False


class _TerminalText:
    """Writes to a terminal without the control characters that untrusted text may hold
    (escape sequences that retitle or clear it, bidi overrides): each shows as ``?``.
    Line ends and tabs stay."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def write(self, text: str) -> int:
        return self.out.write(_plain(text, keep="\r\n\t"))


class _ProgressPrinter:
    """Live progress on a terminal; a line every few seconds otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.started = time.monotonic()
        self.last = 0.0

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        if now - self.started < 1.0:
            return
        interval = 0.2 if self.tty else 5.0
        if now - self.last < interval and p.done != p.total:
            return
        self.last = now
        current = _plain(p.current)
        name = current if len(current) <= 60 else "…" + current[-59:]
        if self.tty:
            self.stream.write(f"\r\x1b[K[{p.done}/{p.total}] {name}")
            if p.done == p.total:
                self.stream.write("\n")
        else:
            self.stream.write(f"[{p.done}/{p.total}] {name}\n")
        self.stream.flush()


class _Preferences(Protocol):
    """What the commands read of the window's Preferences (``settings.GeneralSettings``)."""

    @property
    def index_path(self) -> str: ...

    def limits(self) -> Limits: ...


class _Defaults:
    index_path = ""

    @staticmethod
    def limits() -> Limits:
        return DEFAULT_LIMITS


def _preferences() -> _Preferences:
    """The window's Preferences: the commands use the index it uses (if neither
    ``--db`` nor ``$TLSRPT_GUI_DB`` names one) and its import caps. The defaults if Qt
    cannot be loaded."""
    try:
        from tlsrpt_gui.settings import GeneralSettings, user_settings
    except ImportError:  # pragma: no cover - PySide6 is a dependency
        return _Defaults()
    return GeneralSettings.load(user_settings())


def _index_path(args: argparse.Namespace, preferences: _Preferences | None = None) -> Path:
    """The index the command uses: as the window finds it (see resolve_db_path)."""
    return resolve_db_path(args.db, lambda: (preferences or _preferences()).index_path)


def cmd_import(args: argparse.Namespace) -> int:
    preferences = _preferences()
    db = _index_path(args, preferences)
    try:
        with Index(db) as index:
            result = index.import_paths(args.paths, limits=preferences.limits(), progress=_ProgressPrinter(sys.stderr),
                                        workers=args.workers)
    except IndexError_ as exc:
        if not args.json:
            raise
        # still the one JSON object promised: what was imported before it stopped, and why
        data = (exc.result or ImportResult()).as_json()
        data["error"] = str(exc)
        _emit(json.dumps(data, ensure_ascii=True) + "\n")
        print(f"tlsrpt-gui: {_plain(str(exc))}", file=sys.stderr)
        return EXIT_SOME_FAILED
    if args.json:
        # ASCII only: escape sequences or bidi controls from report names never reach a terminal raw
        _emit(json.dumps(result.as_json(), ensure_ascii=True) + "\n")
    else:
        lines = [f"Imported {result.imported} report(s), {result.duplicates} duplicate(s), "
                 f"{len(result.skipped)} skipped, {len(result.failed)} failed — index: {db}"]
        lines += [f"  skipped  {_plain(label)}: {_plain(reason)}" for label, reason in result.skipped]
        lines += [f"  FAILED   {_plain(label)}: {_plain(reason)}" for label, reason in result.failed]
        _emit("\n".join(lines) + "\n")
    return EXIT_SOME_FAILED if result.failed else EXIT_OK


def _plain(text: str, keep: str = "") -> str:
    """Untrusted text for a terminal: each control character (escape sequences, bidi
    overrides) but those in ``keep`` shows as ``?``."""
    return "".join(ch if ch.isprintable() or ch in keep else "?" for ch in text)


def cmd_stats(args: argparse.Namespace) -> int:
    db = _index_path(args)
    with _existing_index(db) as index:
        totals = index.totals()
    if args.json:
        data = totals.as_json()
        data["index"] = str(db)
        _emit(json.dumps(data) + "\n")
        return EXIT_OK
    total_sessions = totals.successful_sessions + totals.failed_sessions
    rate = f"{100.0 * totals.successful_sessions / total_sessions:.2f} %" if total_sessions else "n/a"
    lines = [
        f"Index:               {db}",
        f"Reports:             {totals.reports}",
        f"Reporters:           {totals.reporters}",
        f"Policy domains:      {totals.policy_domains}",
        f"Policies:            {totals.policies}",
        f"Failure details:     {totals.failure_details}",
        f"Successful sessions: {totals.successful_sessions}",
        f"Failed sessions:     {totals.failed_sessions}",
        f"Success rate:        {rate}",
        f"Reports from:        {_day(totals.first_day)} to {_day(totals.last_day)}",
        f"Inputs failed:       {totals.failed_inputs}",
        f"Inputs skipped:      {totals.skipped_inputs}",
    ]
    _emit("\n".join(lines) + "\n")
    return EXIT_OK


def _day(ts: int | None) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ts)) if ts is not None else "—"


def cmd_export(args: argparse.Namespace) -> int:
    db = _index_path(args)
    if args.output and _is_index_file(args.output, db):
        print(f"tlsrpt-gui: {args.output} is the index itself; choose another output file", file=sys.stderr)
        return EXIT_USAGE
    with _existing_index(db) as index:
        if args.output:
            try:
                with open(args.output, "w", encoding="utf-8", newline="") as out:
                    n = export_table(index.conn, args.table, args.format, out)
            except OSError as exc:
                raise _OutputError.of(exc, args.output) from exc
            print(f"Exported {n} {args.table} row(s) to {_plain(args.output)}", file=sys.stderr)
        else:
            # a terminal gets no control characters (JSON escapes them itself)
            out = _TerminalText(sys.stdout) if args.format == "csv" and sys.stdout.isatty() else sys.stdout
            with _to_stdout():
                export_table(index.conn, args.table, args.format, out)  # type: ignore[arg-type]
    return EXIT_OK
