"""``relay serve``'s event loop: uvloop's when installed (``APP_EVENT_LOOP=auto``, the
default), asyncio's on request; an unknown choice is a settings error naming the variable."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import types

import pytest

from relay_cli.serve import EVENT_LOOP_ENV, event_loop_factory, run_service
from relay_shared.settings import SettingsSourceError

HAS_UVLOOP = importlib.util.find_spec("uvloop") is not None


def test_asyncio_is_asked_for_by_name() -> None:
    assert event_loop_factory("asyncio") is None


@pytest.mark.parametrize("choice", ["auto", "uvloop"])
def test_uvloop_is_used_when_installed(choice: str) -> None:
    assert HAS_UVLOOP, "uvloop is a dependency of relay-cli"
    factory = event_loop_factory(choice)

    assert factory is not None
    loop = factory()
    try:
        assert type(loop).__module__.startswith("uvloop")
    finally:
        loop.close()


def test_without_uvloop_auto_is_asyncio_and_uvloop_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # what an install without it imports
    assert event_loop_factory("auto") is None
    with pytest.raises(SettingsSourceError, match="uvloop is not installed"):
        event_loop_factory("uvloop")


def test_an_unknown_choice_names_the_variable() -> None:
    with pytest.raises(SettingsSourceError) as caught:
        event_loop_factory("trio")

    assert caught.value.variable == EVENT_LOOP_ENV
    assert str(caught.value) == "APP_EVENT_LOOP must be one of auto, uvloop, asyncio, not 'trio'"


def test_the_service_runs_on_the_chosen_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    loops: list[str] = []

    async def main() -> None:
        loops.append(type(asyncio.get_running_loop()).__module__)

    module = types.ModuleType("relay_fake_loop_app")
    module.main = main  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setenv(EVENT_LOOP_ENV, "asyncio")
    assert run_service("ingest", modules={"ingest": module.__name__}) == 0
    monkeypatch.setenv(EVENT_LOOP_ENV, "auto")
    assert run_service("ingest", modules={"ingest": module.__name__}) == 0
    monkeypatch.setenv(EVENT_LOOP_ENV, "trio")
    assert run_service("ingest", modules={"ingest": module.__name__}) == 1

    assert loops == ["asyncio.unix_events", "uvloop" if HAS_UVLOOP else "asyncio.unix_events"]
