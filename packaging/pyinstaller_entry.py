"""Entry script for the PyInstaller bundle: the same entry point as the installed command."""

import sys

from tlsrpt_gui.app import main

if __name__ == "__main__":
    sys.exit(main())
