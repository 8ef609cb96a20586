"""A fake service app module for ``relay serve`` tests: ``async def main() -> None``."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path


async def main() -> None:
    marker_dir = Path(os.environ["FAKE_MARKER_DIR"])
    (marker_dir / "started").touch()
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        (marker_dir / "cancelled").touch()
        raise
