"""Which spreadsheets and worksheets exist, and their managed columns.

Per tenant: ``<tenant>/Merged feed`` (the latest merged inventory) and, per channel,
``<tenant>/<channel>/Inventory – <channel>`` with worksheets Listings, Orders and Insights.
The managed columns are the first columns of a worksheet, in this order; the merchant may add
columns to their right and rows below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MERGED_FEED = "Merged feed"


class UnsafeNameError(ValueError):
    """A tenant or channel name that cannot name a folder (``..``, ``/``, spaces...)."""


@dataclass(frozen=True)
class WorksheetLayout:
    title: str
    columns: tuple[str, ...]
    key_columns: tuple[str, ...]

    def __post_init__(self) -> None:
        missing = [c for c in self.key_columns if c not in self.columns]
        if missing or not self.key_columns:
            raise ValueError(f"{self.title}: key columns {missing} are not managed columns")


@dataclass(frozen=True)
class SpreadsheetRef:
    """One spreadsheet: the tenant's root one (``channel`` None) or a channel's."""

    tenant_id: str
    channel: str | None
    title: str

    @property
    def folder(self) -> tuple[str, ...]:
        if self.channel is None:
            return (self.tenant_id,)
        return (self.tenant_id, self.channel)


LISTINGS = WorksheetLayout(
    "Listings",
    ("sku", "title", "quantity", "price", "status", "listed_date", "last_sold_at"),
    ("sku",),
)
ORDERS = WorksheetLayout(
    "Orders", ("order_id", "sku", "quantity", "shipped_at"), ("order_id", "sku")
)
INSIGHTS = WorksheetLayout(
    "Insights", ("kind", "sku", "status", "since", "detail"), ("kind", "sku")
)
CHANNEL_WORKSHEETS = (LISTINGS, ORDERS, INSIGHTS)


def safe_name(name: str) -> str:
    if not _SAFE_NAME.match(name) or name in {".", ".."} or ".." in name:
        raise UnsafeNameError(f"{name!r} cannot name a sheets folder")
    return name


def channel_spreadsheet(tenant_id: str, channel: str) -> SpreadsheetRef:
    return SpreadsheetRef(safe_name(tenant_id), safe_name(channel), f"Inventory – {channel}")


def merged_feed_spreadsheet(tenant_id: str) -> SpreadsheetRef:
    return SpreadsheetRef(safe_name(tenant_id), None, MERGED_FEED)


def merged_feed_layout(columns: tuple[str, ...]) -> WorksheetLayout:
    return WorksheetLayout(MERGED_FEED, columns, ("sku",))
