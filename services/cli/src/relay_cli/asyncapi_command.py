"""``relay asyncapi [--check] [--out PATH]``: write or check the committed AsyncAPI document."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from relay_cli import asyncapi_doc


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("asyncapi", help="write (or --check) shared/asyncapi.json")
    parser.add_argument(
        "--out",
        type=Path,
        default=asyncapi_doc.DEFAULT_PATH,
        help="where to write (or what to check); default %(default)s",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    path: Path = args.out
    if args.check:
        if asyncapi_doc.is_current(path):
            return 0
        sys.stderr.write(f"{path} is stale: run `relay asyncapi` and commit it\n")
        return 1
    asyncapi_doc.write(path)
    sys.stdout.write(f"wrote {path}\n")
    return 0
