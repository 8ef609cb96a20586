"""Golden cases: each folder holds tenant.yaml, args.txt (the --feed/--sku-map arguments,
paths relative to the folder), inputs/ and expected/ (every output file, byte for byte; the
``timings_ms`` block of run_summary.json is stored empty)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from relay_cli.local_run import main

ROOT = Path(__file__).resolve().parent
CASES = sorted(path.name for path in ROOT.iterdir() if (path / "tenant.yaml").exists())
_TIMINGS = re.compile(rb'"timings_ms": \{[^}]*\}')


def run_case(name: str, out: Path) -> int:
    """Runs ``relay local-run`` on the case into ``out``; returns the exit code."""
    case = ROOT / name
    extra = []
    for token in shlex.split((case / "args.txt").read_text(encoding="utf-8")):
        vendor, sep, path = token.partition("=")
        extra.append(f"{vendor}={case / path}" if sep else token)
    argv = ["--config", str(case / "tenant.yaml"), "--out", str(out),
            "--as-of", "2026-01-01T00:00:00Z", "--run-id", f"golden-{name}", *extra]  # fmt: skip
    return main(argv)


def output_files(out: Path) -> dict[str, bytes]:
    """Relative path → bytes, with run_summary.json's timings emptied."""
    files = {}
    for path in sorted(out.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if path.name == "run_summary.json":
                data = _TIMINGS.sub(b'"timings_ms": {}', data)
            files[str(path.relative_to(out))] = data
    return files
