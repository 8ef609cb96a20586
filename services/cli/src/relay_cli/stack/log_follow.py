"""Copy what services append to their log files onto a stream, line by line
(``relay up --json-logs``: the services' JSON lines on the terminal as well as in the log
folder). A background thread polls the files; restarts append, so one offset per file
follows every run of a service."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from relay_cli.stack.lifetime import HeldByBlock

#: Seconds between two looks at the files.
FOLLOW_INTERVAL = 0.2


class LogFollower(HeldByBlock):
    """Writes each complete line appended to ``paths`` (after entering) to ``out``."""

    def __init__(
        self, paths: Sequence[Path], out: TextIO, *, interval: float = FOLLOW_INTERVAL
    ) -> None:
        self._paths = list(paths)
        self._out = out
        self._interval = interval
        self._offsets: dict[Path, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="relay-log-follow", daemon=True)

    def _on_enter(self) -> None:
        self._offsets = {path: _size(path) for path in self._paths}
        self._thread.start()

    def _on_exit(self) -> None:
        self._stop.set()
        self._thread.join()
        self.pump()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.pump()

    def pump(self) -> None:
        """Copy the complete lines appended since the last call."""
        for path in self._paths:
            chunk = self._read_new(path)
            if chunk:
                self._out.write(chunk.decode("utf-8", "replace"))
                self._out.flush()

    def _read_new(self, path: Path) -> bytes:
        offset = self._offsets.get(path, 0)
        try:
            with path.open("rb") as log:
                if log.seek(0, 2) < offset:  # truncated or replaced: start over
                    offset = 0
                log.seek(offset)
                data = log.read()
        except FileNotFoundError:
            return b""
        complete = data[: data.rfind(b"\n") + 1]
        self._offsets[path] = offset + len(complete)
        return complete


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


@contextmanager
def followed_if(enabled: bool, paths: Sequence[Path], out: TextIO) -> Iterator[None]:
    """A :class:`LogFollower` of ``paths`` for the block when ``enabled``; nothing otherwise."""
    if not enabled:
        yield
        return
    with LogFollower(paths, out):
        yield
