"""tlsrpt-gui: a desktop viewer for SMTP TLS Reporting (RFC 8460) reports."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tlsrpt-gui")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

APP_ID = "io.github.tlsrptgui.TlsrptGui"
APP_NAME = "tlsrpt-gui"
#: the name people see (window titles, About, the desktop entry and the welcome page)
DISPLAY_NAME = "TLS-RPT Viewer"
