"""Seeded feeds shaped like distributor catalogues, for the benchmark's hard case.

Per vendor: ``rows`` rows under the vendor's own headers (nine mapped columns: vendor SKU,
title, brand, cost, MAP, MSRP, quantity, lead time, condition) among eight unmapped ones (UPC,
dimensions, category, warehouse, notes), a ``vendor_sku → sku`` map of about 1.1 × ``rows``
entries referenced from the tenant config, and about 2 % dirty rows spread over cost formats
(``$1,234.50``; decimal commas for the vendor that writes ``12,50``), padded or mixed-case
text and SKUs, unmapped and empty SKUs, ``N/A`` and non-numeric quantities, bad lead times
and invalid costs, plus 200 duplicate rows. One vendor writes decimal commas throughout.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path

DUPLICATES = 200
EXTRA = ("UPC", "Weight (lb)", "Length", "Width", "Height", "Category", "Warehouse", "Notes")
FIELDS = (
    "vendor_sku",
    "title",
    "brand",
    "cost",
    "map_price",
    "msrp",
    "quantity_available",
    "lead_time_days",
    "condition",
)
_BRANDS = ("Acme", "Bolt & Nut", "Zenith", "Orbital", "Kappa", "Stanhope", "Rivet Co")
_CATEGORIES = ("Fasteners", "Hand Tools", "Electrical", "Plumbing", "Safety", "Adhesives")
_CONDITIONS = ("new", "new", "new", "new", "New", "NEW", "refurb", "used")


@dataclass(frozen=True)
class VendorShape:
    vendor_id: str
    prefix: str
    headers: tuple[str, ...]  # in FIELDS order
    decimal_comma: bool = False


VENDORS = (
    VendorShape(
        "vendor_1",
        "AC-",
        ("Item Number", "Description", "Brand Name", "Unit Cost", "MAP", "MSRP", "Qty On Hand",
         "Lead Days", "Condition"),
    ),
    VendorShape(
        "vendor_2",
        "bn",
        ("PartNo", "Product Title", "Mfr", "Dealer Price", "Min Adv Price", "List Price",
         "Available", "Ship Days", "Cond"),
    ),
    VendorShape(
        "vendor_3",
        "ZN.",
        ("SUPPLIER SKU", "TITLE", "BRAND", "COST EUR", "MAP EUR", "RRP", "STOCK", "LEAD TIME",
         "CONDITION"),
        decimal_comma=True,
    ),
    VendorShape(
        "vendor_4",
        "or_",
        ("sku_vendor", "name", "manufacturer", "net_cost", "map", "msrp", "qty", "lead", "state"),
    ),
    VendorShape(
        "vendor_5",
        "K",
        ("Vendor Item #", "Item Name", "Make", "Cost", "Minimum Price", "Retail", "On Hand",
         "Days To Ship", "Item Condition"),
    ),
)  # fmt: skip


def config_text(maps: dict[str, str]) -> str:
    vendors = "".join(_vendor_config(shape, maps[shape.vendor_id]) for shape in VENDORS)
    return f"""\
tenant_id: bench
timezone: UTC
vendors:
{vendors}pricing:
  base_margin_pct: 0.20
  min_price: 25.00
  shipping_handling_flat: 9.99
  rounding: {{mode: nearest, increment: 0.99}}
merge:
  strategy: best_offer
  best_offer:
    sort_by: [in_stock_desc, lowest_landed_cost]
    fallback_lead_time_days: 7
output:
  format: csv
  columns: [sku, quantity_available, price, vendor_id, lead_time_days, updated_at]
"""


def _vendor_config(shape: VendorShape, map_path: str) -> str:
    columns = ", ".join(
        f"{name}: {_yaml_text(header)}" for name, header in zip(FIELDS, shape.headers, strict=True)
    )
    decimal = "      decimal_separator: ','\n" if shape.decimal_comma else ""
    return f"""\
  - vendor_id: {shape.vendor_id}
    parser:
      format: csv
{decimal}      column_map: {{{columns}}}
    sku_map: {{type: file, path: {map_path}, on_missing: reject}}
"""


def _yaml_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def write_real_feeds(folder: Path, rows: int, seed: int = 20261205) -> dict[str, Path]:
    """Writes (once) the feeds, maps and config; returns vendor → feed path."""
    folder.mkdir(parents=True, exist_ok=True)
    maps = {shape.vendor_id: f"maps/{shape.vendor_id}.csv" for shape in VENDORS}
    (folder / "maps").mkdir(exist_ok=True)
    (folder / "tenant.yaml").write_text(config_text(maps), encoding="utf-8")
    paths = {shape.vendor_id: folder / f"{shape.vendor_id}.csv" for shape in VENDORS}
    for index, shape in enumerate(VENDORS):
        if paths[shape.vendor_id].exists():
            continue
        rng = random.Random(seed + index)
        numbers = rng.sample(range(int(rows * 1.6)), rows)
        _write_map(folder / maps[shape.vendor_id], shape, numbers, rows, rng)
        _write_feed(paths[shape.vendor_id], shape, numbers, rng)
    return paths


def _write_map(
    path: Path, shape: VendorShape, numbers: list[int], rows: int, rng: random.Random
) -> None:
    """Every listed number but the unmapped ones, plus about 10 % the feed does not list."""
    listed = set(numbers)
    extra = [n for n in rng.sample(range(int(rows * 1.6)), rows // 5) if n not in listed]
    entries = [n for n in numbers if n % 250 != 7] + extra[: rows // 10]
    rng.shuffle(entries)
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("vendor_sku,sku\n")
        handle.writelines(f"{shape.prefix}{n:07d},SKU-{n:07d}\n" for n in entries)


def _write_feed(path: Path, shape: VendorShape, numbers: list[int], rng: random.Random) -> None:
    repeated = set(rng.sample(range(len(numbers)), DUPLICATES))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([*shape.headers, *EXTRA])
        for position, number in enumerate(numbers):
            row = _row(rng, shape, number)
            writer.writerow(row)
            if position in repeated:
                writer.writerow(row)


def _row(rng: random.Random, shape: VendorShape, number: int) -> list[str]:
    cost = rng.randrange(100, 250_000)
    cells = {
        "vendor_sku": f"{shape.prefix}{number:07d}",
        "title": f"{_CATEGORIES[number % 6][:-1]} part {number} for model {rng.randrange(1000)}",
        "brand": _BRANDS[number % len(_BRANDS)],
        "cost": _money(cost, shape),
        "map_price": _money(cost * 3 // 2, shape) if rng.random() < 0.3 else "",
        "msrp": _money(cost * 2, shape) if rng.random() < 0.6 else "",
        "quantity_available": str(rng.randrange(0, 500)) if rng.random() > 0.1 else "0",
        "lead_time_days": str(rng.randrange(1, 30)),
        "condition": rng.choice(_CONDITIONS),
    }
    _dirty(rng, cells, shape, cost)
    return [*(cells[name] for name in FIELDS), *_extra(rng, number)]


def _money(cents: int, shape: VendorShape) -> str:
    text = f"{cents // 100}.{cents % 100:02d}"
    return text.replace(".", ",") if shape.decimal_comma else text


def _dirty(rng: random.Random, cells: dict[str, str], shape: VendorShape, cost: int) -> None:
    """About 2 % of rows get one dirty cell (some still valid, most rejected)."""
    roll = rng.random()
    if roll >= 0.02:
        return
    kind = int(roll / 0.02 * 10)
    if kind == 0:
        cells["cost"] = _grouped(cost, shape)  # valid, in the slow shape
    elif kind == 1:
        cells["cost"] = rng.choice(("abc", "-3.00", "€12.00", "", "12.3.4"))
    elif kind == 2:
        cells["vendor_sku"] = f"  {cells['vendor_sku']} "  # padded: still maps
    elif kind == 3:
        cells["title"] = f"  {cells['title'].upper()}   "
        cells["brand"] = cells["brand"].lower()
    elif kind == 4:
        cells["vendor_sku"] = f"{shape.prefix}X{rng.randrange(10**6):06d}"  # unmapped
    elif kind == 5:
        cells["vendor_sku"] = ""
    elif kind in (6, 7):
        cells["quantity_available"] = rng.choice(("N/A", "-", "ten", "12.5", "", "n/a"))
    else:
        cells["lead_time_days"] = rng.choice(("2-3 weeks", "x", "-1", "TBD"))


def _grouped(cents: int, shape: VendorShape) -> str:
    whole = f"{cents // 100 + 1000:,}"
    if shape.decimal_comma:
        return f"{whole.replace(',', '.')},{cents % 100:02d}"
    return f"${whole}.{cents % 100:02d}"


def _extra(rng: random.Random, number: int) -> list[str]:
    notes = rng.choice(("", "", "", "Ships in original box", "Backorder, call for ETA"))
    return [
        f"{rng.randrange(10**11, 10**12)}",
        f"{rng.randrange(1, 5000) / 100:.2f}",
        str(rng.randrange(1, 60)),
        str(rng.randrange(1, 40)),
        str(rng.randrange(1, 30)),
        _CATEGORIES[number % 6],
        rng.choice(("RNO", "ATL", "DFW", "CMH")),
        notes,
    ]
