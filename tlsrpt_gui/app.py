"""The one entry point: ``tlsrpt-gui [COMMAND …]`` or ``tlsrpt-gui [PATH …]``.

With a headless command (import, stats, export, check) it runs the CLI, which loads
no GUI (import, stats and export load QtCore alone, to read the window's Preferences).
Otherwise it opens the window (optionally importing PATHs).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

#: the headless commands (the CLI itself is imported only for them: it loads the
#: DNS checks, which the window does not need before its first paint)
COMMANDS = ("import", "stats", "export", "check")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if (args and args[0] in COMMANDS) or args == ["--version"]:
        from tlsrpt_gui import cli

        return cli.main(args)
    from tlsrpt_gui.ui.application import run_gui

    return run_gui(args)


if __name__ == "__main__":
    sys.exit(main())
