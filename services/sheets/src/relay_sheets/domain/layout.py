"""Which spreadsheets and worksheets exist, and their managed columns.

Per tenant: ``<tenant>/Merged feed`` (the latest merged inventory), ``<tenant>/Reallocation``
(the reallocation list) and, per channel,
``<tenant>/<channel>/Inventory – <channel>`` with worksheets Listings, Orders and Insights.
The managed columns are the first columns of a worksheet, in this order; the merchant may add
columns to their right and rows below.

A spreadsheet's folders and title become file names, so a :class:`SpreadsheetRef` is only made
of a tenant id and a channel of the shapes ``relay_shared.identifiers`` names (checked when it
is made): a value from an event that does not have that shape (``../x``, ``Amazon``, a space)
never names a folder or a file.
"""

from __future__ import annotations

from dataclasses import dataclass

from relay_shared.identifiers import CHANNEL_PATTERN, TENANT_ID_PATTERN, matches

MERGED_FEED = "Merged feed"
REALLOCATION_TITLE = "Reallocation"
ROOT_TITLES = (MERGED_FEED, REALLOCATION_TITLE)
CHANNEL_TITLE_PREFIX = "Inventory – "


class UnsafeNameError(ValueError):
    """A tenant id or channel that cannot name a folder (``..``, ``/``, spaces, upper case...):
    ``kind`` is ``tenant`` or ``channel`` (``spreadsheet`` for a path outside the workbooks
    root), ``name`` the value refused."""

    def __init__(self, kind: str, name: str, pattern: str) -> None:
        super().__init__(
            f"{kind} {name[:100]!r} is not a valid {kind} name (it must match {pattern}):"
            " no workbook is written for it"
        )
        self.kind = kind
        self.name = name


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

    def __post_init__(self) -> None:
        if not matches(TENANT_ID_PATTERN, self.tenant_id):
            raise UnsafeNameError("tenant", self.tenant_id, TENANT_ID_PATTERN)
        if self.channel is not None and not matches(CHANNEL_PATTERN, self.channel):
            raise UnsafeNameError("channel", self.channel, CHANNEL_PATTERN)
        expected = ROOT_TITLES if self.channel is None else (CHANNEL_TITLE_PREFIX + self.channel,)
        if self.title not in expected:
            raise ValueError(f"{self.title[:100]!r} is not the title of this spreadsheet")

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
REALLOCATION = WorksheetLayout(
    REALLOCATION_TITLE,
    (
        "entry_id",
        "origin",
        "target",
        "sku",
        "quantity",
        "reason",
        "state",
        "claimed_by",
        "updated_at",
    ),
    ("entry_id",),
)


def channel_spreadsheet(tenant_id: str, channel: str) -> SpreadsheetRef:
    """The channel's spreadsheet; :class:`UnsafeNameError` for an id of the wrong shape."""
    return SpreadsheetRef(tenant_id, channel, f"{CHANNEL_TITLE_PREFIX}{channel}")


def merged_feed_spreadsheet(tenant_id: str) -> SpreadsheetRef:
    return SpreadsheetRef(tenant_id, None, MERGED_FEED)


#: The root spreadsheet's note when a merged feed is too long for it (see ``records``).
FEED_SUMMARY = WorksheetLayout("Summary", ("field", "value"), ("field",))


def reallocation_spreadsheet(tenant_id: str) -> SpreadsheetRef:
    return SpreadsheetRef(tenant_id, None, REALLOCATION_TITLE)


def merged_feed_layout(columns: tuple[str, ...]) -> WorksheetLayout:
    return WorksheetLayout(MERGED_FEED, columns, ("sku",))
