"""Logging for the ``relay`` command: JSON lines on stderr, stdlib records included.

User-facing lines (listening addresses, ready time) are written to stdout by the commands
themselves; everything else is a structured log event, rendered like the services' own
(:func:`relay_shared.telemetry.configure_telemetry`), so even a library's warning before a
service has started is a JSON line.
"""

from __future__ import annotations

import logging

from relay_shared.telemetry import configure_telemetry


def configure_logging(level: int = logging.INFO) -> None:
    """Render structlog events (and stdlib records) as JSON on stderr."""
    configure_telemetry("relay", logging.getLevelName(level))
