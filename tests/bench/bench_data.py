"""Seeded vendor feeds for the benchmark: overlapping SKUs, ~2 % dirty rows."""

from __future__ import annotations

import random
from pathlib import Path

VENDORS = ("vendor_1", "vendor_2", "vendor_3", "vendor_4", "vendor_5")
HEADER = "SKU,QTY,COST,MAP,LEAD,COND,BRAND,TITLE\n"
_DIRTY_QTY = ("N/A", "-", "ten", "12.5", "")
_BRANDS = ("Acme", "Bolt & Nut", "Zenith", "Orbital", "Kappa")

CONFIG = """\
tenant_id: bench
timezone: UTC
vendors:
{vendors}
pricing:
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
VENDOR = """\
  - vendor_id: {vendor_id}
    parser:
      format: csv
      column_map: {{sku: SKU, quantity_available: QTY, cost: COST, map_price: MAP,
                   lead_time_days: LEAD, condition: COND, brand: BRAND, title: TITLE}}
"""


def _row(rng: random.Random, number: int) -> str:
    sku = f"SKU-{number:07d}"
    qty = str(rng.randrange(0, 500)) if rng.random() > 0.1 else "0"
    cost = f"{rng.randrange(100, 50000) / 100:.2f}"
    map_price = f"{rng.randrange(2000, 90000) / 100:.2f}" if rng.random() < 0.3 else ""
    lead = str(rng.randrange(1, 30))
    condition = "new" if rng.random() < 0.9 else "refurb"
    brand = _BRANDS[number % len(_BRANDS)]
    title = f"Part {number} for model {rng.randrange(1000)}"
    dirty = rng.random()
    if dirty < 0.012:
        qty = rng.choice(_DIRTY_QTY)
    elif dirty < 0.018:
        cost = rng.choice(("abc", "-3.00", "€12.00"))
    elif dirty < 0.02:
        cost = f"${cost}"
    return f'{sku},{qty},{cost},{map_price},{lead},{condition},{brand},"{title}"\n'


def write_feeds(folder: Path, rows: int, seed: int = 20260101) -> dict[str, Path]:
    """Writes (once) the five feeds and the config; returns vendor → feed path."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {vendor_id: folder / f"{vendor_id}.csv" for vendor_id in VENDORS}
    config = folder / "tenant.yaml"
    vendors = "".join(VENDOR.format(vendor_id=vendor_id) for vendor_id in VENDORS)
    config.write_text(CONFIG.format(vendors=vendors), encoding="utf-8")
    for index, (_vendor_id, path) in enumerate(paths.items()):
        if path.exists():
            continue
        rng = random.Random(seed + index)
        universe = int(rows * 1.6)
        numbers = rng.sample(range(universe), rows)
        with path.open("w", encoding="utf-8", newline="") as handle:
            handle.write(HEADER)
            handle.writelines(_row(rng, number) for number in numbers)
    return paths
