"""The production image's size without a Docker engine (not a test): what the Dockerfile's
``uv sync --frozen --no-dev --all-packages --no-editable`` puts in ``/app/.venv``, measured.

    uv run python tests/bench/bench_image_size.py [--keep DIR]

The runtime set comes from ``uv export --frozen --no-dev --all-packages`` (the lock, as the
image resolves it); it is installed with bytecode compiled (``UV_COMPILE_BYTECODE=1``, as in
the image) into a fresh virtualenv of this interpreter, with the workspace members built
non-editable, and measured with ``du``. The base image (``python:3.11.10-slim-bookworm``) is
not pulled here: its size is not measured and is printed as such. Needs the network or uv's
cache for the wheels.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _uv() -> str:
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        sys.exit("no uv executable: run it with `uv run`")
    return uv


def _size_mb(path: Path) -> float:
    out = subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0]) / 1024


def measure(work: Path) -> dict[str, float]:
    uv = _uv()
    requirements = work / "runtime.txt"
    subprocess.run(
        [uv, "export", "--frozen", "--no-dev", "--all-packages", "--no-hashes",
         "--no-emit-workspace", "-o", str(requirements)],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    venv = work / "venv"
    subprocess.run([uv, "venv", "-q", "-p", sys.executable, str(venv)], check=True)
    members = [str(p.parent) for p in sorted(ROOT.glob("services/*/pyproject.toml"))]
    env = {**os.environ, "UV_COMPILE_BYTECODE": "1"}
    env.pop("VIRTUAL_ENV", None)
    install = [uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python")]
    subprocess.run([*install, "-r", str(requirements)], check=True, env=env)
    subprocess.run([*install, "--no-deps", str(ROOT / "shared"), *members], check=True, env=env)
    site = next((venv / "lib").glob("python3*/site-packages"))
    polars = sum(_size_mb(p) for p in site.glob("*polars*"))
    packages = len([line for line in requirements.read_text().splitlines() if "==" in line])
    return {
        "venv_mb": _size_mb(venv),
        "polars_mb": polars,
        "packages": float(packages),
        "members": float(len(members) + 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="install here and keep it")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="relay-image-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        figures = measure(work)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print(
        f"runtime packages (uv export --no-dev): {figures['packages']:.0f}"
        f" + {figures['members']:.0f} workspace members"
    )
    print(f"/app/.venv as the image installs it (measured): {figures['venv_mb']:.0f} MB")
    print(f"  of which polars: {figures['polars_mb']:.0f} MB")
    print("base python:3.11.10-slim-bookworm: not pulled here, not measured")


if __name__ == "__main__":
    main()
