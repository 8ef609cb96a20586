"""The reference for the catalogue-shaped feeds: a hand-written polars pipeline doing the same
work as the engine's core, maps included.

Per vendor: read (all text) → pick the nine mapped columns by the vendor's headers → trim the
vendor SKU and join the vendor's map (read with polars; unmapped or empty SKUs dropped) →
costs to cents (``$``, thousands separators, the vendor's decimal comma) → quantities, lead
times and conditions checked (bad rows dropped) → text trimmed → first row per SKU → the
normalized CSV. Then merge (in stock, lowest landed cost) → price (markup, MAP floor, min
price, .99 rounding) → merged CSV. Not the engine's rules (no findings, no per-cell
diagnostics): the floor of what the work costs.

    python bench_reference_real.py FOLDER OUT
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_real_data import FIELDS, VENDORS, VendorShape  # type: ignore[import-not-found]

CONDITIONS = {"new": "new", "used": "used", "refurb": "refurb"}


def _cents(column: str, shape: VendorShape) -> pl.Expr:
    text = pl.col(column).str.strip_chars().str.strip_prefix("$")
    if shape.decimal_comma:
        text = text.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True)
    else:
        text = text.str.replace_all(",", "", literal=True)
    valid = text.str.contains(r"^[0-9]+(\.[0-9]{1,2})?$")
    parts = text.str.split_exact(".", 1)
    whole = parts.struct.field("field_0").cast(pl.Int64, strict=False)
    fraction = parts.struct.field("field_1").fill_null("0").str.pad_end(2, "0")
    cents = whole * 100 + fraction.cast(pl.Int64, strict=False)
    return pl.when(valid).then(cents)


def _vendor(folder: Path, shape: VendorShape, out: Path) -> pl.DataFrame:
    by_field = dict(zip(FIELDS, shape.headers, strict=True))
    frame = pl.scan_csv(folder / f"{shape.vendor_id}.csv", infer_schema=False).select(
        [pl.col(header).alias(name) for name, header in by_field.items()]
    )
    sku_map = pl.scan_csv(folder / "maps" / f"{shape.vendor_id}.csv", infer_schema=False)
    sku_map = sku_map.select(
        pl.col("vendor_sku").str.strip_chars(), pl.col("sku").str.strip_chars()
    ).unique("vendor_sku", keep="first")
    quantity = pl.col("quantity_available").str.strip_chars().cast(pl.Int64, strict=False)
    lead = pl.col("lead_time_days").str.strip_chars().cast(pl.Int64, strict=False)
    condition = pl.col("condition").str.strip_chars().str.to_lowercase()
    clean = (
        frame.with_columns(pl.col("vendor_sku").str.strip_chars())
        .join(sku_map, on="vendor_sku", how="inner", maintain_order="left")
        .select(
            pl.col("sku").str.to_uppercase(),
            quantity.alias("qty"),
            _cents("cost", shape).alias("cost"),
            _cents("map_price", shape).alias("map"),
            _cents("msrp", shape).alias("msrp"),
            lead.alias("lead"),
            condition.replace_strict(CONDITIONS, default=None).alias("condition"),
            pl.col("title").str.strip_chars().str.replace_all(r"\s+", " "),
            pl.col("brand").str.strip_chars(),
            pl.lit(shape.vendor_id).alias("vendor_id"),
        )
        .filter(
            (pl.col("qty") >= 0)
            & pl.col("cost").is_not_null()
            & (pl.col("lead") >= 0)
            & pl.col("condition").is_not_null()
        )
        .unique(subset="sku", keep="first", maintain_order=True)
        .collect()
    )
    clean.write_csv(out / f"{shape.vendor_id}.csv")
    return clean


def main(folder: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    frames = [_vendor(folder, shape, out) for shape in VENDORS]
    offers = pl.concat(frames).with_columns((pl.col("cost") + 999).alias("landed"))
    chosen = offers.sort(["sku", pl.col("qty") <= 0, "landed", "vendor_id"]).unique(
        subset="sku", keep="first", maintain_order=True
    )
    raw = (2 * pl.col("landed") * 6 + 5) // 10
    floor = pl.max_horizontal(pl.lit(2500), pl.col("map").fill_null(0))
    price = pl.max_horizontal(raw, floor)
    down = (price - 99) // 100 * 100 + 99
    up = pl.when(down == price).then(down).otherwise(down + 100)
    rounded = pl.when(price - down < up - price).then(down).otherwise(up)
    final = pl.when(rounded < floor).then((floor - 99) // 100 * 100 + 199).otherwise(rounded)
    merged = chosen.select("sku", "qty", final.alias("price"), "vendor_id", "lead")
    merged.write_csv(out / "merged.csv")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
