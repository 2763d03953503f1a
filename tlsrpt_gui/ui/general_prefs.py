"""The General page of Preferences: index location, theme and import size caps
(the settings themselves, and their keys: :mod:`tlsrpt_gui.settings`)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QStyleFactory,
    QVBoxLayout,
    QWidget,
)

from tlsrpt_gui.core.paths import default_db_path
from tlsrpt_gui.settings import CAP_RANGE, THEMES, GeneralSettings

__all__ = ["CAP_RANGE", "THEMES", "GeneralSection", "GeneralSettings", "apply_theme"]

def _palette(theme: str) -> QPalette:
    fusion = QStyleFactory.create("Fusion")
    base = fusion.standardPalette() if fusion is not None else QPalette()
    if theme != "dark":
        return base
    p = QPalette(base)
    roles = {
        QPalette.ColorRole.Window: "#2b2d30", QPalette.ColorRole.WindowText: "#e6e6e6",
        QPalette.ColorRole.Base: "#1e1f22", QPalette.ColorRole.AlternateBase: "#26282b",
        QPalette.ColorRole.Text: "#e6e6e6", QPalette.ColorRole.Button: "#393b40",
        QPalette.ColorRole.ButtonText: "#e6e6e6", QPalette.ColorRole.BrightText: "#ff6b6b",
        QPalette.ColorRole.Highlight: "#2f65ca", QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: "#393b40", QPalette.ColorRole.ToolTipText: "#e6e6e6",
        QPalette.ColorRole.PlaceholderText: "#8c8f94", QPalette.ColorRole.Link: "#6ea8fe",
        QPalette.ColorRole.Mid: "#4a4d52", QPalette.ColorRole.Dark: "#151618", QPalette.ColorRole.Light: "#4e5157",
    }
    for role, colour in roles.items():
        p.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7f8287"))
    return p


def apply_theme(theme: str) -> None:
    """Follow the system's colours, or force a light or dark palette.

    The colour-scheme hint (Qt ≥ 6.8) is set where the platform supports it; the
    palette is set too, so every platform (offscreen included) follows.
    """
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    hints = app.styleHints()
    if hasattr(hints, "setColorScheme"):
        scheme = {"light": Qt.ColorScheme.Light, "dark": Qt.ColorScheme.Dark}.get(theme, Qt.ColorScheme.Unknown)
        hints.setColorScheme(scheme)
    if theme in ("light", "dark"):
        app.setStyle("Fusion")
        app.setPalette(_palette(theme))
    else:
        app.setPalette(QPalette())  # back to the platform's own colours


class GeneralSection(QWidget):
    """Index location, theme and size caps."""

    validity_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("preferences_general")
        outer = QVBoxLayout(self)

        index_box = QGroupBox("Index", self)
        form = QFormLayout(index_box)
        row = QHBoxLayout()
        self.index_edit = QLineEdit(index_box)
        self.index_edit.setObjectName("index_path")
        self.index_edit.setPlaceholderText(str(default_db_path()))
        self.index_edit.setClearButtonEnabled(True)
        self.index_edit.setAccessibleName("Index file")
        browse = QPushButton("&Browse…", index_box)
        browse.clicked.connect(self._browse)
        row.addWidget(self.index_edit, 1)
        row.addWidget(browse)
        form.addRow("Index &file:", row)
        note = QLabel("Empty means the default location. A new location is used from the next start; "
                      "--db and TLSRPT_GUI_DB still take precedence.", index_box)
        note.setTextFormat(Qt.TextFormat.PlainText)
        note.setWordWrap(True)
        form.addRow(note)
        outer.addWidget(index_box)

        look = QGroupBox("Appearance", self)
        look_form = QFormLayout(look)
        self.theme_combo = QComboBox(look)
        self.theme_combo.setObjectName("theme")
        for value, label in (("system", "Follow the system"), ("light", "Light"), ("dark", "Dark")):
            self.theme_combo.addItem(label, value)
        look_form.addRow("&Theme:", self.theme_combo)
        outer.addWidget(look)

        caps = QGroupBox("Import size caps", self)
        caps_form = QFormLayout(caps)
        self.input_spin = QSpinBox(caps)
        self.input_spin.setObjectName("max_input")
        self.payload_spin = QSpinBox(caps)
        self.payload_spin.setObjectName("max_payload")
        for spin in (self.input_spin, self.payload_spin):
            spin.setRange(*CAP_RANGE)
            spin.setSuffix(" MiB")
        caps_form.addRow("Largest input file or &mail:", self.input_spin)
        caps_form.addRow("Largest report after &decompression:", self.payload_spin)
        caps_note = QLabel("Reports come from strangers: inputs over these caps are refused with a reason "
                           "instead of filling memory (RFC 8460 suggests about 10 MB).", caps)
        caps_note.setTextFormat(Qt.TextFormat.PlainText)
        caps_note.setWordWrap(True)
        caps_form.addRow(caps_note)
        outer.addWidget(caps)
        outer.addStretch(1)

    def value(self) -> GeneralSettings:
        return GeneralSettings(
            index_path=self.index_edit.text().strip(),
            theme=str(self.theme_combo.currentData() or "system"),
            max_input_mib=self.input_spin.value(),
            max_payload_mib=self.payload_spin.value(),
        )

    def set_value(self, value: GeneralSettings) -> None:
        self.index_edit.setText(value.index_path)
        self.theme_combo.setCurrentIndex(max(0, self.theme_combo.findData(value.theme)))
        self.input_spin.setValue(value.max_input_mib)
        self.payload_spin.setValue(value.max_payload_mib)

    def load(self, settings: QSettings) -> None:
        self.set_value(GeneralSettings.load(settings))

    def save(self, settings: QSettings) -> None:
        value = self.value()
        value.save(settings)
        apply_theme(value.theme)

    def restore_defaults(self) -> None:
        self.set_value(GeneralSettings())

    def is_valid(self) -> bool:
        return True

    def _browse(self) -> None:
        start = self.index_edit.text() or str(default_db_path())
        path, _ = QFileDialog.getSaveFileName(self, "Index File", start, "SQLite index (*.sqlite3 *.db);;All files (*)",
                                              options=QFileDialog.Option.DontConfirmOverwrite)
        if path:
            self.index_edit.setText(str(Path(path)))
