"""The settings the window and the headless commands share (the General page of
Preferences), read with QtCore alone: the CLI imports this only to find the index
and the import caps the window uses, and never loads the GUI.

Keys:

``index/path``              the index file ("" = the default in the user data folder);
                            ``--db`` and ``$TLSRPT_GUI_DB`` still win over it
``appearance/theme``        ``system``, ``light`` or ``dark``
``limits/max_input_mib``    cap on one input file or mail before decompression
``limits/max_payload_mib``  cap on one report after decompression
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from PySide6.QtCore import QCoreApplication, QSettings

from tlsrpt_gui import APP_NAME
from tlsrpt_gui.core.sources import DEFAULT_LIMITS, Limits, MiB

KEY_INDEX: Final = "index/path"
KEY_THEME: Final = "appearance/theme"
KEY_MAX_INPUT: Final = "limits/max_input_mib"
KEY_MAX_PAYLOAD: Final = "limits/max_payload_mib"
THEMES: Final = ("system", "light", "dark")
CAP_RANGE: Final = (1, 1024)


def _int(value: Any, default: int) -> int:
    try:
        n = int(value)
    except (TypeError, ValueError):
        return default
    return n if CAP_RANGE[0] <= n <= CAP_RANGE[1] else default


@dataclass(frozen=True, slots=True)
class GeneralSettings:
    index_path: str = ""
    theme: str = "system"
    max_input_mib: int = DEFAULT_LIMITS.max_input_bytes // MiB
    max_payload_mib: int = DEFAULT_LIMITS.max_payload_bytes // MiB

    @classmethod
    def load(cls, settings: QSettings) -> GeneralSettings:
        theme = str(settings.value(KEY_THEME, "system") or "system")
        d = cls()
        return cls(
            index_path=str(settings.value(KEY_INDEX, "") or ""),
            theme=theme if theme in THEMES else "system",
            max_input_mib=_int(settings.value(KEY_MAX_INPUT), d.max_input_mib),
            max_payload_mib=_int(settings.value(KEY_MAX_PAYLOAD), d.max_payload_mib),
        )

    def save(self, settings: QSettings) -> None:
        settings.setValue(KEY_INDEX, self.index_path)
        settings.setValue(KEY_THEME, self.theme)
        settings.setValue(KEY_MAX_INPUT, self.max_input_mib)
        settings.setValue(KEY_MAX_PAYLOAD, self.max_payload_mib)

    def limits(self) -> Limits:
        return Limits(max_input_bytes=self.max_input_mib * MiB, max_payload_bytes=self.max_payload_mib * MiB)


def user_settings() -> QSettings:
    """The user's settings, where the window keeps them."""
    QCoreApplication.setOrganizationName(APP_NAME)
    QCoreApplication.setApplicationName(APP_NAME)
    return QSettings()
