"""Logging for the ``relay`` command: JSON lines, stdlib records included.

By default every command writes its structured events as JSON lines on stderr, rendered like
the services' own (:func:`relay_shared.telemetry.configure_telemetry`), so even a library's
warning before a service has started is a JSON line.

``relay up`` and ``relay demo`` are run by a person at a terminal, which is not a log sink:
inside :func:`terminal_logging` their JSON lines go to ``<log folder>/relay.log`` (next to
the services' own logs) and only a short human line per warning or error reaches stderr.
``--json-logs`` keeps the JSON on stderr instead. The commands write their own short lines
(what started where, progress, failures) themselves.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import structlog

from relay_shared.telemetry import configure_telemetry

#: The ``relay`` process's own JSON log, in the log folder of ``relay up``/``relay demo``.
RELAY_LOG_NAME = "relay.log"
#: Fields of a JSON line that its human form leaves out.
_QUIET_FIELDS = frozenset({"event", "level", "timestamp", "service", "logger"})
_TERMINAL_LEVELS = frozenset({"warning", "error", "critical", "exception"})
#: A field on an event the command has already told the person in its own words
#: (``log.warning("service_died", ..., **SHOWN)``): the terminal gets no second line for it.
SHOWN_ON_TERMINAL = "shown_on_terminal"
SHOWN: dict[str, bool] = {SHOWN_ON_TERMINAL: True}


def configure_logging(level: int = logging.INFO) -> None:
    """Render structlog events (and stdlib records) as JSON on stderr."""
    configure_telemetry("relay", logging.getLevelName(level))


def add_json_logs_flag(parser: argparse.ArgumentParser) -> None:
    """``--json-logs`` of ``relay up`` and ``relay demo``."""
    parser.add_argument(
        "--json-logs",
        action="store_true",
        help="also write the services' and relay's JSON log lines to stderr (default: short "
        "lines on the terminal, the JSON only in the log folder)",
    )


def human_line(json_line: str) -> str | None:
    """``relay: warning: process_kill_after_grace process=sheets grace=10.0`` for a warning
    or worse; None for a quieter line, one already shown (:data:`SHOWN_ON_TERMINAL`) or one
    that is not a JSON object."""
    try:
        record: Any = json.loads(json_line)
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    level = str(record.get("level", "")).lower()
    if level not in _TERMINAL_LEVELS or record.get(SHOWN_ON_TERMINAL) is True:
        return None
    fields = " ".join(f"{k}={v}" for k, v in record.items() if k not in _QUIET_FIELDS)
    return f"relay: {level}: {record.get('event', '')}{' ' + fields if fields else ''}"


class _LogSink:
    """What the JSON renderers write to: every line to the log file, a short human line for
    each warning or error to the terminal."""

    def __init__(self, log_file: TextIO, terminal: TextIO) -> None:
        self._log_file = log_file
        self._terminal = terminal

    def write(self, text: str) -> int:
        self._log_file.write(text)
        for line in text.splitlines():
            short = human_line(line)
            if short is not None:
                self._terminal.write(short + "\n")
        return len(text)

    def flush(self) -> None:
        self._log_file.flush()
        self._terminal.flush()


@contextmanager
def terminal_logging(
    json_logs: bool, log_dir: Path, terminal: TextIO | None = None
) -> Iterator[Path | None]:
    """Inside the block, the ``relay`` process logs for a person at ``terminal`` (stderr):
    its JSON lines in ``log_dir/relay.log`` (yielded), or on ``terminal`` with ``json_logs``
    (yields None). The logging set up before is back afterwards."""
    stream = sys.stderr if terminal is None else terminal
    with _restored_logging():
        if json_logs:
            _log_to(stream)
            yield None
            return
        log_dir.mkdir(parents=True, exist_ok=True)
        path = log_dir / RELAY_LOG_NAME
        with path.open("a", encoding="utf-8") as log_file:
            _log_to(_LogSink(log_file, stream))
            yield path


@contextmanager
def _restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved_config, saved_handlers, saved_level = structlog.get_config(), root.handlers[:], root.level
    try:
        yield
    finally:
        structlog.configure(**saved_config)
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


def _log_to(stream: Any) -> None:
    """JSON lines (structlog's and the stdlib's) to ``stream``, at the current level."""
    root = logging.getLogger()
    configure_telemetry("relay", logging.getLevelName(root.level or logging.INFO))
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=stream))
    for handler in root.handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(stream)
