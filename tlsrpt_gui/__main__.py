"""``python -m tlsrpt_gui``: the same entry point as the ``tlsrpt-gui`` command."""

import sys

from tlsrpt_gui.app import main

sys.exit(main())
