"""Arguments of ``relay local-run``: parsing and checking, before anything is written.

Every problem found is collected (exit 2 lists them all on stderr).
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from relay_shared.tenant_config import ConfigError, TenantConfig, parse_tenant_config


class LocalRunUsageError(ValueError):
    """Bad arguments or an invalid config (exit code 2); ``problems`` are printed."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class LocalRun:
    """A checked ``local-run`` invocation: the config and every input's bytes."""

    config: TenantConfig
    feeds: dict[str, Path]  # read one at a time, when normalized
    sku_maps: dict[str, bytes | None]
    out: Path
    as_of: datetime
    run_id: str
    explain: str | None = None  # --explain SKU
    #: --compare-to DIR: that folder's merged_inventory.csv, read before the run
    compare_to: bytes | None = None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="relay local-run", description="Run the feed engine on local files."
    )
    parser.add_argument("--config", required=True, type=Path, help="tenant config (YAML or JSON)")
    parser.add_argument("--feed", action="append", default=[], metavar="VENDOR=PATH")
    parser.add_argument("--sku-map", action="append", default=[], metavar="VENDOR=PATH")
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--as-of", help="ISO-8601 time (naive = UTC); default now")
    parser.add_argument("--run-id", help="default: local-<as-of>")
    parser.add_argument("--explain", metavar="SKU", help="print why SKU has its price (JSON)")
    parser.add_argument(
        "--compare-to",
        type=Path,
        metavar="DIR",
        help="print the diff against an earlier run's output folder (JSON); full diff: diff.csv",
    )
    return parser


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    """argparse's own errors exit via ``SystemExit(2)``; the caller turns that into a code."""
    return _parser().parse_args(argv)


def vendor_paths(
    values: list[str], flag: str, vendors: set[str], problems: list[str]
) -> dict[str, Path]:
    pairs: dict[str, Path] = {}
    for text in values:
        vendor_id, sep, path = text.partition("=")
        if not sep or not vendor_id or not path:
            problems.append(f"{flag} {text}: expected VENDOR=PATH")
        elif vendor_id not in vendors:
            problems.append(f"{flag} {text}: unknown vendor {vendor_id!r}")
        elif vendor_id in pairs:
            problems.append(f"{flag} {text}: vendor {vendor_id!r} given twice")
        else:
            pairs[vendor_id] = Path(path)
    return pairs


def check_readable(path: Path, what: str, problems: list[str]) -> None:
    """A feed must be a readable file; its bytes are read later, one feed at a time."""
    if not path.is_file() or not os.access(path, os.R_OK):
        problems.append(f"{what} {path}: cannot be read (no such readable file)")


def read_input(path: Path, what: str, problems: list[str]) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError as exc:
        problems.append(f"{what} {path}: cannot be read ({exc.strerror or exc})")
        return None


def load_config(path: Path) -> TenantConfig:
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LocalRunUsageError(
            [f"--config {path}: cannot be read ({exc.strerror or exc})"]
        ) from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise LocalRunUsageError([f"--config {path}: not valid YAML/JSON ({exc})"]) from exc
    try:
        return parse_tenant_config(data)
    except ConfigError as exc:
        raise LocalRunUsageError([f"config {path}: {problem}" for problem in exc.problems]) from exc


def parse_as_of(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC).replace(microsecond=0)
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
