"""The first-run page: what to drop, where it goes, and a way to try sample reports."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from tlsrpt_gui import DISPLAY_NAME
from tlsrpt_gui.assets import read_bytes, resources

WELCOME_TITLE = f"Welcome to {DISPLAY_NAME}"
WELCOME_TEXT = (
    "Drop SMTP TLS reports here: .json or .json.gz files, .zip archives, mails (.eml), "
    "mbox files or whole folders and Maildirs. Or use File → Open.\n\n"
    "Reports go into a local index on this computer and stay there between runs; "
    "nothing is sent anywhere. Only the DNS tab uses the network, and only when you "
    "ask it to check a domain."
)
SAMPLES_NAME = "tlsrpt-samples.zip"


def sample_reports_path() -> Path:
    """The shipped sample reports, as a real file (copied out if the package is zipped)."""
    res = resources() / "samples" / SAMPLES_NAME
    if isinstance(res, Path):
        return res
    out = Path(tempfile.mkdtemp(prefix="tlsrpt-gui-samples-")) / SAMPLES_NAME
    with res.open("rb") as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst)
    return out


class WelcomePage(QWidget):
    """Shown instead of an empty table while the index holds no report."""

    open_files_requested = Signal()
    open_folder_requested = Signal()
    samples_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcome_page")
        icon = QLabel(self)
        pixmap = QPixmap()
        pixmap.loadFromData(read_bytes("icons", "tlsrpt-gui-128.png"))
        icon.setPixmap(pixmap)
        icon.setAlignment(Qt.AlignmentFlag.AlignCenter)

        title = QLabel(WELCOME_TITLE, self)
        title.setTextFormat(Qt.TextFormat.PlainText)
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        f = title.font()
        f.setPointSizeF(f.pointSizeF() * 1.6)
        f.setBold(True)
        title.setFont(f)

        text = QLabel(WELCOME_TEXT, self)
        text.setTextFormat(Qt.TextFormat.PlainText)
        text.setWordWrap(True)
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text.setFixedWidth(600)
        text.setMinimumHeight(text.heightForWidth(600))

        self.open_files_button = QPushButton("&Open Files…", self)
        self.open_folder_button = QPushButton("Open Fo&lder…", self)
        self.samples_button = QPushButton("Open &Sample Reports", self)
        self.samples_button.setToolTip("Import seventeen days of sample reports from fictional senders, to look around")
        self.samples_button.setDefault(True)
        self.open_files_button.clicked.connect(self.open_files_requested)
        self.open_folder_button.clicked.connect(self.open_folder_requested)
        self.samples_button.clicked.connect(self.samples_requested)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.open_files_button, self.open_folder_button, self.samples_button):
            buttons.addWidget(b)
        buttons.addStretch(1)

        lay = QVBoxLayout(self)
        lay.addStretch(2)
        lay.addWidget(icon)
        lay.addSpacing(12)
        lay.addWidget(title)
        lay.addSpacing(8)
        lay.addWidget(text, 0, Qt.AlignmentFlag.AlignHCenter)
        lay.addSpacing(16)
        lay.addLayout(buttons)
        lay.addStretch(3)
