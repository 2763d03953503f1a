"""``tlsrpt-gui [PATH…]``: the window, and the offscreen screenshot mode."""

from __future__ import annotations

import argparse
import logging
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from tlsrpt_gui import APP_ID, APP_NAME, DISPLAY_NAME, __version__
from tlsrpt_gui.core.paths import resolve_db_path

if TYPE_CHECKING:
    from PySide6.QtCore import QSettings
    from PySide6.QtGui import QIcon

    from tlsrpt_gui.ui.main_window import MainWindow
    from tlsrpt_gui.ui.prompts import PromptService

log = logging.getLogger(__name__)

TABS = ("reports", "policies", "failures", "charts", "dns")
SCREENSHOT_SIZE = (1280, 800)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tlsrpt-gui", description="Desktop viewer for SMTP TLS reports (RFC 8460).",
        epilog="Without a window: tlsrpt-gui import|stats|export|check … (see tlsrpt-gui COMMAND --help).",
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or folders to import on start")
    p.add_argument(
        "--db", metavar="FILE", help="the index file (default: $TLSRPT_GUI_DB, else the one set in Preferences, else in the user data dir)"
    )
    p.add_argument(
        "--screenshot",
        metavar="OUT.png",
        help="render the window offscreen at 1280×800, save, exit",
    )
    p.add_argument("--tab", choices=TABS, help="the tab to show")
    p.add_argument("--verbose", action="store_true", help="log debug messages")
    return p


def _qt_message_handler(mode: object, context: object, message: str) -> None:
    from PySide6.QtCore import QtMsgType

    level = {
        QtMsgType.QtDebugMsg: logging.DEBUG,
        QtMsgType.QtInfoMsg: logging.INFO,
        QtMsgType.QtWarningMsg: logging.WARNING,
        QtMsgType.QtCriticalMsg: logging.ERROR,
        QtMsgType.QtFatalMsg: logging.CRITICAL,
    }.get(mode, logging.WARNING)  # type: ignore[call-overload]
    logging.getLogger("qt").log(level, "%s", message)


def app_icon() -> QIcon:
    """The application icon at every size we ship."""
    from PySide6.QtGui import QIcon, QPixmap

    from tlsrpt_gui.assets import ICON_SIZES, read_bytes

    icon = QIcon()
    for size in ICON_SIZES:
        pixmap = QPixmap()
        if pixmap.loadFromData(read_bytes("icons", f"tlsrpt-gui-{size}.png")):
            icon.addPixmap(pixmap)
    return icon


def run_gui(args: list[str]) -> int:
    opts = build_parser().parse_args(args)
    from tlsrpt_gui.logsetup import setup_logging

    log_file = setup_logging(verbose=opts.verbose)
    screenshot = Path(opts.screenshot) if opts.screenshot else None
    if (
        screenshot is not None
        and not os.environ.get("DISPLAY")
        and not os.environ.get("WAYLAND_DISPLAY")
    ):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

    from PySide6.QtCore import QCoreApplication, QSettings, qInstallMessageHandler, qVersion
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from tlsrpt_gui.ui.prompts import QtPromptService

    qInstallMessageHandler(_qt_message_handler)
    QCoreApplication.setOrganizationName(APP_NAME)
    QCoreApplication.setApplicationName(APP_NAME)
    QCoreApplication.setApplicationVersion(__version__)
    QGuiApplication.setDesktopFileName(APP_ID)
    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    app.setWindowIcon(app_icon())
    from tlsrpt_gui.ui.crash import CrashHandler

    crash_handler = CrashHandler(log_file, parent=app)
    crash_handler.install()

    tmp: tempfile.TemporaryDirectory[str] | None = None
    if screenshot is not None:
        # A screenshot never reads nor writes the user's settings.
        tmp = tempfile.TemporaryDirectory(prefix="tlsrpt-gui-shot-")
        settings = QSettings(os.path.join(tmp.name, "settings.ini"), QSettings.Format.IniFormat)
    else:
        settings = QSettings()
    from tlsrpt_gui.ui.general_prefs import GeneralSettings, apply_theme

    general = GeneralSettings.load(settings)
    if general.theme != "system":
        apply_theme(general.theme)
    db = resolve_db_path(opts.db, lambda: general.index_path)
    log.info("tlsrpt-gui %s starting (Qt %s); index %s; log %s", __version__, qVersion(), db, log_file)
    window = open_window(db, settings, QtPromptService(), interactive=screenshot is None)
    if window is None:
        return 2
    if opts.tab:
        window.set_tab(opts.tab)
    if opts.paths:
        window.import_paths([os.path.abspath(p) for p in opts.paths])
    if screenshot is not None:
        try:
            return take_screenshot(window, screenshot, opts.tab)
        finally:
            window.shutdown()
            if tmp is not None:
                tmp.cleanup()
    if os.environ.get(QUIT_AFTER_PAINT_ENV):
        _quit_after_first_paint(window)
    window.show()
    return int(app.exec())


#: benchmarks/bench_startup.py sets this to time a cold start to the first painted window
QUIT_AFTER_PAINT_ENV = "TLSRPT_GUI_QUIT_AFTER_PAINT"
#: what the window then prints, with the wall-clock time (``time.time()``) its first paint was done
PAINTED_AT = "tlsrpt-gui: first paint done at"


def _quit_after_first_paint(window: object) -> None:
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QWidget

    def painted() -> None:  # (once the paint is done: the next turn of the event loop)
        print(f"{PAINTED_AT} {time.time():.6f}", flush=True)
        # closed as a user closes it: its background work (counting the rows, reading the
        # signposts) is stopped and waited for, not left running as the interpreter ends
        assert isinstance(window, QWidget)
        window.close()

    class _FirstPaint(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and not getattr(self, "seen", False):
                self.seen = True
                QTimer.singleShot(0, painted)
            return False

    assert isinstance(window, QObject)
    watcher = _FirstPaint(window)
    window.installEventFilter(watcher)


#: set by Edit → Check Index when the user asks for a rebuild: the index path
REBUILD_KEY = "index/rebuild_requested"


@contextmanager
def _upgrade_notice(db: Path, interactive: bool) -> Iterator[None]:
    """While an older index is upgraded (once), a busy note instead of a silent wait."""
    from tlsrpt_gui.core.maintenance import pending_upgrade

    old = pending_upgrade(db)
    if old is None or not interactive:
        yield
        return
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication, QProgressDialog

    log.info("upgrading the index %s from schema %d", db, old)
    note = QProgressDialog("Upgrading the index to this version's format…\n"
                           "This happens once; it takes about 20 seconds per million reports.", "", 0, 0)
    note.setWindowTitle(DISPLAY_NAME)
    note.setCancelButton(None)  # type: ignore[arg-type]
    note.setMinimumDuration(0)
    note.show()
    QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    QApplication.processEvents()
    try:
        yield
    finally:
        QGuiApplication.restoreOverrideCursor()
        note.close()


def open_window(db: Path, settings: QSettings, prompts: PromptService, *, interactive: bool = True) -> MainWindow | None:
    """The main window on *db*; a damaged index is offered for rebuilding, never deleted.

    Returns None (after saying why) when the index cannot be opened.
    """
    from tlsrpt_gui.core.index import IndexError_
    from tlsrpt_gui.core.maintenance import check_index, rebuild_index
    from tlsrpt_gui.ui.main_window import MainWindow

    # Edit → Check Index asks for a rebuild at the next start, when nothing holds the file.
    requested = str(settings.value(REBUILD_KEY, "") or "") == str(db)
    if requested:
        settings.remove(REBUILD_KEY)
    first_error = ""
    if not requested:
        try:
            with _upgrade_notice(db, interactive):
                return MainWindow(db, settings=settings, prompts=prompts)
        except (IndexError_, sqlite3.DatabaseError) as exc:  # damage can surface on the first query
            first_error = str(exc)
    health = check_index(db)
    if requested and health.status != "damaged":
        return MainWindow(db, settings=settings, prompts=prompts)
    if health.status != "damaged":
        print(f"tlsrpt-gui: {first_error}", file=sys.stderr)
        if interactive:
            prompts.error(None, "Cannot open the index", first_error)
        return None
    log.error("damaged index %s: %s", db, "; ".join(health.problems))
    question = (f"{health.message}\n\nRebuild it now? The reports are read again from their source files "
                "and from the raw JSON the index kept.")
    if not interactive or not prompts.question(None, "The index is damaged", question, "Rebuild Index"):
        print(f"tlsrpt-gui: {health.message}", file=sys.stderr)
        return None
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication

    QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        result = rebuild_index(db)
    except IndexError_ as exc:
        prompts.error(None, "Rebuild failed", str(exc))
        return None
    finally:
        QGuiApplication.restoreOverrideCursor()
    prompts.information(None, "Index rebuilt", result.message)
    return MainWindow(db, settings=settings, prompts=prompts)


def settle(window: object, rounds: int = 50) -> None:
    """Let background work finish and its results arrive (imports, counts, charts)."""
    from PySide6.QtCore import QThreadPool
    from PySide6.QtWidgets import QApplication

    pool = QThreadPool.globalInstance()
    for _ in range(rounds):
        pool.waitForDone()
        QApplication.processEvents()
        QApplication.sendPostedEvents()
        QApplication.processEvents()
        if pool.activeThreadCount() == 0 and not getattr(window, "busy", False):
            break


def take_screenshot(window: object, out: Path, tab: str | None) -> int:
    from PySide6.QtWidgets import QApplication

    from tlsrpt_gui.ui.main_window import MainWindow

    assert isinstance(window, MainWindow)
    window.resize(*SCREENSHOT_SIZE)
    window.show()
    settle(window)
    page = window.current_page()
    if page is not None and page.model.rowCount() > 0:
        page.view.selectRow(0)
    charts = window.charts
    if charts is not None and tab == "charts":
        charts.refresh()  # type: ignore[attr-defined]
    settle(window)
    QApplication.processEvents()
    image = window.grab()
    out.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(out), "PNG"):
        print(f"tlsrpt-gui: cannot write {out}", file=sys.stderr)
        return 1
    return 0
