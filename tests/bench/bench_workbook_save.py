"""What saving a channel workbook again costs the sheets service (not a test).

    uv run python tests/bench/bench_workbook_save.py [--orders 3000] [--saves 100] [--repeat 3]

Builds a workbook shaped like a channel's (Listings of 500 skus, ``--orders`` Orders rows,
Insights, Summary; text, integers and decimals), then saves it ``--saves`` times with what an
order changes between two saves (one Orders row added, one Listings quantity set), to a file
in a temporary folder, two ways, alternating, ``--repeat`` rounds:

- ``relay``: :func:`relay_sheets.adapters.xlsx_writer.save_workbook`, as the service saves
  (rows unchanged since the last save written from their kept XML);
- ``openpyxl``: ``Workbook.save``, openpyxl's own.

Prints the CPU time (this process) per save, the file's size, and how many rows the relay
writer wrote and reused. Each way gets its own copy of the workbook and makes the same edits.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook

from relay_sheets.adapters.xlsx_writer import RowXml, save_workbook

LISTINGS = 500


def channel_workbook(orders: int) -> Workbook:
    workbook = Workbook()
    workbook.remove(workbook.active)
    listings = workbook.create_sheet("Listings")
    listings.append(["sku", "title", "quantity", "price", "status", "listed_date", "last_sold_at"])
    for n in range(LISTINGS):
        listings.append([f"SKU-{n:05d}", f"Oak side table {n}", n % 40, Decimal(f"{n}.99"),
                         "active", f"2026-{1 + n % 10:02d}-{1 + n % 28:02d}", ""])  # fmt: skip
    sheet = workbook.create_sheet("Orders")
    sheet.append(["order_id", "sku", "quantity", "shipped_at", "channel", "problem", "event"])
    for n in range(orders):
        sheet.append(order_row(n))
    insights = workbook.create_sheet("Insights")
    insights.append(["kind", "sku", "status", "opened_at", "detail"])
    for n in range(200):
        insights.append(["out_of_stock", f"SKU-{n:05d}", "open", "2026-11-02T09:30:00Z", "{}"])
    summary = workbook.create_sheet("Summary")
    for n in range(10):
        summary.append([f"line {n}", n, f"note {n}"])
    return workbook


def order_row(n: int) -> list[object]:
    return [f"O-{n:07d}", f"SKU-{n % LISTINGS:05d}", 1 + n % 2, "2026-11-02T09:30:00Z",
            "amazon", "", f"order.shipped:bench:{n}"]  # fmt: skip


def saves(save: Callable[[Workbook, Path], None], orders: int, count: int) -> float:
    """CPU seconds per save of ``count`` saves, an order's edits before each."""
    workbook = channel_workbook(orders)
    with tempfile.TemporaryDirectory(prefix="relay-bench-save-") as folder:
        path = Path(folder) / "amazon.xlsx"
        save(workbook, path)  # the first save writes every row
        started = time.process_time()
        for n in range(count):
            workbook["Orders"].append(order_row(orders + n))
            workbook["Listings"].cell(row=2 + n % LISTINGS, column=3, value=n % 7)
            save(workbook, path)
        spent = time.process_time() - started
        print(f"    file {path.stat().st_size / 1024:.0f} KiB", end="")
    return spent / count


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=3000)
    parser.add_argument("--saves", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    kept = RowXml()

    def relay(workbook: Workbook, path: Path) -> None:
        with path.open("wb") as stream:
            save_workbook(workbook, stream, kept)

    def openpyxl(workbook: Workbook, path: Path) -> None:
        workbook.save(path)

    spent: dict[str, list[float]] = {"relay": [], "openpyxl": []}
    for number in range(args.repeat):
        for name, save in (("relay", relay), ("openpyxl", openpyxl)):
            kept = RowXml()
            per_save = saves(save, args.orders, args.saves)
            spent[name].append(per_save)
            print(f"; round {number + 1} {name:8}: {per_save * 1000:.1f} ms of CPU a save")
            if name == "relay":
                print(f"    rows written {kept.written:,}, reused {kept.reused:,}")
    relay_ms = statistics.median(spent["relay"]) * 1000
    openpyxl_ms = statistics.median(spent["openpyxl"]) * 1000
    print(f"per save (median): relay {relay_ms:.1f} ms, openpyxl {openpyxl_ms:.1f} ms "
          f"({openpyxl_ms / relay_ms:.1f}×)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
