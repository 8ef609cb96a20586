"""The stand-in service of tests/cli/cli_fake_service.py, writing one JSON log line first
(``fake_service_up`` with its name and pid) the way a real service logs."""

from __future__ import annotations

import asyncio
import os
import sys

import structlog
from cli_fake_service import run  # the same folder: this file is run as a script

from relay_shared.telemetry import configure_telemetry

if __name__ == "__main__":
    name = sys.argv[1]
    configure_telemetry(name)
    structlog.get_logger().info("fake_service_up", pid=os.getpid())
    asyncio.run(run(name))
