"""Fixtures for the CLI/stack tests: one real embedded stack per session."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from relay_cli.stack import EmbeddedStack

HERE = Path(__file__).parent


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    """The real embedded NATS + Postgres + S3, always started here (``env={}``, whatever
    APP_* URLs the suite runs with): the restart tests need to control these servers."""
    with EmbeddedStack(tmp_path_factory.mktemp("relay-state"), env={}) as embedded:
        yield embedded


@pytest.fixture
def clean_env() -> dict[str, str]:
    """This process's environment without any APP_* (so no outside URL leaks in)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("APP_")}


@pytest.fixture
def fake_service_command() -> Callable[[str], list[str]]:
    """Runs tests/cli/cli_fake_service.py in place of ``relay serve <name>``."""
    script = str(HERE / "cli_fake_service.py")
    return lambda name: [sys.executable, script, name]


@pytest.fixture
def fake_app_dir() -> Path:
    """A directory holding ``cli_fake_app`` (for PYTHONPATH in ``relay serve`` tests)."""
    return HERE
