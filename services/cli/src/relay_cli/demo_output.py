"""What ``relay demo`` shows a person: run progress, the summary, the insight and the
channel workbook's rows (read back from the real .xlsx file)."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from relay_sheets.adapters.xlsx_backend import XlsxBackend
from relay_sheets.domain.layout import channel_spreadsheet

_STARTED = time.monotonic()


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def print_run(run: dict[str, Any]) -> None:
    say(f"  [{time.monotonic() - _STARTED:6.2f}s] run {run['status']:<9} stage {run['stage']}")


def print_summary(run: dict[str, Any]) -> None:
    say(f"run {run['run_id']}: {run['status']}")
    for vendor_id, counts in run["vendors"].items():
        say(
            f"  {vendor_id:<10} {counts['status']:<8} rows {counts['rows']:>3}  accepted "
            f"{counts['accepted']:>3}  rejected {counts['rejected']:>3}  "
            f"duplicates {counts['duplicates']:>3}"
        )
    say(
        f"  merged rows {run['counts']['merged_rows']}, "
        f"skus left out {run['counts']['skus_left_out']}"
    )
    if run.get("error"):
        error = run["error"]
        say(f"  error {error['code']}: {error['message']} (report {error['report_key']})")


def print_insight(event: dict[str, Any]) -> None:
    detail = ", ".join(f"{k}={v}" for k, v in sorted(event.get("detail", {}).items()))
    say(
        f"insight.generated: {event['kind']} {event['status']} for {event['sku']} on "
        f"{event['channel']} (since {event['since']}){'; ' + detail if detail else ''}"
    )


async def print_workbook_row(state_dir: Path, tenant_id: str, channel: str, sku: str) -> None:
    """Wait (with a deadline) until the channel workbook shows both the order and the
    insight (sheets applies them from two consumers), then print the sku's rows."""
    path = XlsxBackend(state_dir / "sheets").path_for(channel_spreadsheet(tenant_id, channel))
    deadline = time.monotonic() + 60.0
    while True:
        rows = _rows_for(path, sku)
        if rows.get("Insights") and rows.get("Orders"):
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} shows no insight for {sku} after 60s")
        await asyncio.sleep(0.2)
    say(f"workbook {path.name}:")
    for sheet, sheet_rows in rows.items():
        for header, values in sheet_rows:
            say(
                f"  {sheet}: " + ", ".join(f"{h}={v}" for h, v in zip(header, values, strict=False))
            )


def _rows_for(path: Path, sku: str) -> dict[str, list[tuple[list[Any], list[Any]]]]:
    if not path.exists():
        return {}
    try:
        workbook = load_workbook(path, read_only=True)
    except (InvalidFileException, OSError, KeyError):
        return {}
    found: dict[str, list[tuple[list[Any], list[Any]]]] = {}
    try:
        for sheet in ("Listings", "Orders", "Insights"):
            if sheet not in workbook.sheetnames:
                continue
            values = [list(row) for row in workbook[sheet].iter_rows(values_only=True)]
            if not values:
                continue
            header = values[0]
            sku_at = header.index("sku") if "sku" in header else None
            if sku_at is None:
                continue
            found[sheet] = [(header, row) for row in values[1:] if row[sku_at] == sku]
    finally:
        workbook.close()
    return found
