"""``relay asyncapi [--check] [--out PATH] [--schemas DIR]``: write or check the committed
AsyncAPI document and the JSON Schema of each subject."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from relay_cli import asyncapi_doc


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "asyncapi", help="write (or --check) shared/asyncapi.json and shared/schemas/"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=asyncapi_doc.DEFAULT_PATH,
        help="where to write (or what to check); default %(default)s",
    )
    parser.add_argument(
        "--schemas",
        type=Path,
        default=asyncapi_doc.DEFAULT_SCHEMAS_DIR,
        help="the folder of the per-subject JSON Schemas; default %(default)s",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if a file is stale")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.check:
        found = asyncapi_doc.problems(args.out, args.schemas)
        for problem in found:
            sys.stderr.write(f"{problem}: run `relay asyncapi` and commit it\n")
        return 1 if found else 0
    for path in asyncapi_doc.write(args.out, args.schemas):
        sys.stdout.write(f"wrote {path}\n")
    return 0
