"""The reference: a minimal hand-written polars pipeline doing the core transform.

parse → clean (casts, drop bad rows) → map (upper-case) → merge (in stock, lowest landed
cost) → price (markup, MAP floor, min price, .99 rounding) → write. Not the engine's rules:
only the floor of what the work costs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl


def _vendor(path: Path, vendor_id: str, out: Path) -> pl.DataFrame:
    frame = pl.read_csv(path, infer_schema=False)
    cents = (
        pl.col("COST")
        .str.strip_chars()
        .str.replace(".", "", literal=True)
        .cast(pl.Int64, strict=False)
    )
    map_cents = (
        pl.col("MAP")
        .str.strip_chars()
        .str.replace(".", "", literal=True)
        .cast(pl.Int64, strict=False)
    )
    clean = frame.select(
        pl.col("SKU").str.strip_chars().str.to_uppercase().alias("sku"),
        pl.col("QTY").str.strip_chars().cast(pl.Int64, strict=False).alias("qty"),
        cents.alias("cost"),
        map_cents.alias("map"),
        pl.col("LEAD").cast(pl.Int64, strict=False).alias("lead"),
        pl.col("TITLE").str.strip_chars().alias("title"),
        pl.lit(vendor_id).alias("vendor_id"),
    ).filter(pl.col("qty").is_not_null() & pl.col("cost").is_not_null())
    clean = clean.unique(subset="sku", keep="first", maintain_order=True)
    clean.write_csv(out / f"{vendor_id}.csv")
    return clean


def main(folder: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    frames = [_vendor(path, path.stem, out) for path in sorted(folder.glob("vendor_*.csv"))]
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
    chosen.select("sku", "qty", final.alias("price"), "vendor_id").write_csv(out / "merged.csv")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
