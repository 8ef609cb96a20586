"""The bounds of one feed, and the memory model that keeps normalize under its cap.

Every feed is bounded before or while it is read, never after it has grown: its decoded size,
its rows, its columns, the size of a cell, of a JSONL line, the nesting of its JSON, and the
memory reading and cleaning it will take. A feed beyond a bound fails with a named finding
(:class:`FeedTooLarge`, turned into a feed failure by :func:`normalize_feed`), never with an
exception that would be retried.

The memory cap (``max_memory_bytes``) is an admission estimate, not a hard limit. The peak
memory of normalizing a table of ``rows`` × ``columns`` cells holding ``decoded`` bytes of text
is modelled as ``fixed + rows × (per_row + columns × per_cell) + decoded × per_byte``
(:func:`table_memory`, with the measured costs of :class:`MemoryModel`), and every stage is
checked against the cap before it spends the memory:

- a CSV read by polars: before polars parses it, from its decoded size, its line count (an
  upper bound on its rows, counted while it is hashed) and its header's width;
- the streaming readers (JSONL, XLSX, the tolerant CSV reader): at every row, from the rows,
  the widest row and the text read so far (:class:`TableGuard`), stopping at the first row
  beyond the cap;
- a JSON array, parsed whole into Python objects: before parsing, ``per_json_char`` per
  character; its rows are then bounded as JSONL's (the document's objects are released as the
  rows are built, so the two are not added);
- a workbook: before openpyxl opens it, its zip directory and the parts it parses whole;
- then, while cleaning (:class:`MemoryBudget`): the rows outside the fast shapes
  (``per_dirty_row``) before the per-cell rules run, and the findings (``per_finding``, with
  the report the service builds from them) before they are built.

What it guarantees: a feed admitted takes, on every shape measured (clean and dirty rows,
3 findings a row, 1,000 empty columns, 2 KiB and 60 KB cells, tiny JSONL rows, nested empty
JSON objects), less peak RSS above the process's resting size than its estimate, with a
margin of 1.25-3x (``tests/engine/test_feed_limits_memory.py`` measures it; the security suite
measures the service itself). Normalize handles one feed at a time, so its process needs its
resting size (about 0.15-0.2 GB) plus the cap. What it does not guarantee: nothing is
enforced by the operating system, so a shape the model underrates could exceed it; other
versions of polars or CPython, or many more cores (polars' per-thread buffers), may cost more
than measured; the SKU map is bounded apart (``max_sku_map_bytes``, parsed whole); memory the
allocator keeps after a feed stays in the process's RSS; and ``relay local-run`` normalizes
two feeds at a time, so it may take twice the cap.
"""

from __future__ import annotations

from dataclasses import dataclass

KIB = 1 << 10
MIB = 1 << 20
GIB = 1 << 30


@dataclass(frozen=True, slots=True)
class FeedLimits:
    """The bounds of one vendor feed (normalize's ``APP_NORMALIZE_MAX_*`` settings;
    ``relay local-run`` uses these defaults).

    The defaults are sized for real feeds with room to spare: a large vendor feed is about
    a million rows of 10-40 columns and 50-500 MB; cells are SKUs, numbers and titles (a long
    description is a few KiB; Excel itself stops at 32,767 characters).

    - ``max_decoded_bytes`` (1 GiB): the feed's text after decoding (a transcoded CSV, JSON and
      JSONL characters read, an XLSX's parts unpacked as declared in its zip directory).
    - ``max_rows`` (20,000,000) data records, blank ones included.
    - ``max_columns`` (1,000) in any record or the header (the widest real feeds have a few
      hundred).
    - ``max_cell_bytes`` (64 KiB) of UTF-8 in one cell or header.
    - ``max_line_bytes`` (1 MiB): one JSONL line, in characters (enough for ``max_columns``
      ordinary cells; it bounds what one ``json.loads`` call builds).
    - ``max_json_depth`` (64) levels of arrays and objects in a JSON document or JSONL line
      (a feed needs 2 or 3).
    - ``max_memory_bytes`` (2 GiB): the estimated peak memory of normalizing the feed
      (module docstring). 2 GiB admits about 1.7 million rows of a clean 11-column feed
      (whose real peak is then about 1.3 GB) and JSON arrays up to about 52 MB (JSONL has no
      such limit); the process needs its resting size (about 0.2 GB) on top.
    - ``max_sku_map_bytes`` (64 MiB): the SKU map file (parsed whole; the gateway accepts
      16 MiB).
    """

    max_decoded_bytes: int = 1 * GIB
    max_rows: int = 20_000_000
    max_columns: int = 1_000
    max_cell_bytes: int = 64 * KIB
    max_line_bytes: int = 1 * MIB
    max_json_depth: int = 64
    max_memory_bytes: int = 2 * GIB
    max_sku_map_bytes: int = 64 * MIB

    def __post_init__(self) -> None:
        for name in self.__slots__:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")


DEFAULT_LIMITS = FeedLimits()


@dataclass(frozen=True, slots=True)
class MemoryModel:
    """Peak memory (RSS above the resting process) of normalizing one feed, per unit.

    Measured on this engine (polars 1.x, CPython 3.11, 2 cores; peak RSS growth of a process
    normalizing one feed and building its report and normalized CSV as the service does) and
    rounded up. Measured against estimated: 1M clean rows of 11 columns 0.79 GB (1.25 GB);
    20k rows of 1,000 empty cells 0.42 GB (0.64 GB); 200k rows outside the fast shapes with
    3 findings each 0.54 GB (0.98 GB); 5,000 rows of 60 KB titles 0.99 GB (1.31 GB); 1M tiny
    JSONL rows 0.82 GB (1.83 GB).

    - ``per_row``: a data row's share of the cleaning frames and the typed output (500-700).
    - ``per_cell``: a raw cell (a 16-byte string view and its copies; about 20).
    - ``per_byte``: a decoded byte of cell text (the raw frame, the file's mapped pages,
      copies of mapped text columns; about 2 in unmapped columns, 3.2 in mapped titles).
      The streaming readers count characters, so text of mostly 3-byte characters is
      underrated there (up to 3 times in this term).
    - ``per_dirty_row``: a row cleaned by the per-cell rules (Python objects per distinct
      cell; about 1,100 with every field dirty and distinct).
    - ``per_finding``: a finding, its report item and JSON (about 450).
    - ``per_json_char``: a character of a JSON array parsed into Python objects (8-13 for
      feeds, 29 for rows of nested empty objects, the worst shape found).
    - ``per_xml_byte``: a byte of the workbook parts openpyxl parses whole (shared strings,
      styles, the workbook, relations).
    - ``per_zip_entry``: one entry of a zip directory, as Python reads it.
    - ``fixed``: polars' thread pool and buffers, the first time they are used.
    """

    fixed: int = 64 * MIB
    per_row: int = 600
    per_cell: int = 24
    per_byte: int = 4
    per_dirty_row: int = 1_500
    per_finding: int = 500
    per_json_char: int = 40
    per_xml_byte: int = 12
    per_zip_entry: int = 1_024


MEMORY = MemoryModel()


def table_memory(rows: int, columns: int, decoded_bytes: int) -> int:
    """The estimated peak memory of normalizing a table (module docstring)."""
    return (
        MEMORY.fixed
        + rows * (MEMORY.per_row + columns * MEMORY.per_cell)
        + decoded_bytes * MEMORY.per_byte
    )


def json_document_limit(limits: FeedLimits) -> int:
    """The most characters a JSON array may have: it is parsed whole, so it must fit the
    memory cap at :attr:`MemoryModel.per_json_char` each (and the decoded-size bound)."""
    affordable = (limits.max_memory_bytes - MEMORY.fixed) // MEMORY.per_json_char
    return max(0, min(limits.max_decoded_bytes, affordable))


class FeedRefused(Exception):
    """The feed is refused before (or while) it is read; ``code`` is the feed failure's code,
    ``detail`` says why and where. ``row`` is the record's number and ``header`` its
    column's header (or JSON key) when one record or column is at fault."""

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        row: int | None = None,
        header: str | None = None,
        value: str | None = None,
    ) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.row = row
        self.header = header
        self.value = value


class FeedTooLarge(FeedRefused):
    """The feed exceeds one of its bounds: ``feed_too_large``, ``too_many_rows``,
    ``too_many_columns``, ``cell_too_large``, ``line_too_long`` or ``nesting_too_deep``."""


def too_much_memory(estimate: int, limits: FeedLimits, what: str) -> FeedTooLarge:
    return FeedTooLarge(
        "feed_too_large",
        f"{what} needs about {estimate} bytes of memory, above the cap of"
        f" {limits.max_memory_bytes}",
    )


def check_decoded(size: int, limits: FeedLimits) -> None:
    if size > limits.max_decoded_bytes:
        raise FeedTooLarge(
            "feed_too_large",
            f"its decoded text exceeds the limit of {limits.max_decoded_bytes} bytes",
        )


def check_memory(estimate: int, limits: FeedLimits, what: str) -> None:
    if estimate > limits.max_memory_bytes:
        raise too_much_memory(estimate, limits, what)


def too_many_columns(width: int, limits: FeedLimits, row: int | None) -> FeedTooLarge:
    where = "the header" if row is None else f"row {row}"
    return FeedTooLarge(
        "too_many_columns",
        f"{where} has {width} columns, above the limit of {limits.max_columns}",
        row=row,
    )


def too_many_rows(limits: FeedLimits, row: int) -> FeedTooLarge:
    """``row``: the first row beyond the limit."""
    return FeedTooLarge("too_many_rows", f"more than the limit of {limits.max_rows} rows", row=row)


class TableGuard:
    """Bounds a table as a streaming reader builds it: rows, columns and the memory estimate
    (:func:`table_memory`), checked at every row in O(1). ``decoded`` is the cell text read so
    far (a reader that knows its total up front passes it at once; the streaming readers
    count characters). ``header_rows`` rows come first that are not data rows (they count for
    the memory, not for ``max_rows``)."""

    __slots__ = ("_budget", "_row_cost", "limits", "rows", "width")

    def __init__(
        self,
        limits: FeedLimits,
        decoded_bytes: int = 0,
        *,
        header_rows: int = 0,
    ) -> None:
        self.limits = limits
        self.rows = -header_rows
        self.width = 0
        self._row_cost = MEMORY.per_row
        self._budget = limits.max_memory_bytes - MEMORY.fixed
        self.add_decoded(decoded_bytes)

    def add_decoded(self, size: int) -> None:
        """``size`` more decoded bytes (or characters) of cell text read."""
        self._budget -= size * MEMORY.per_byte
        if self._budget < max(self.rows, 0) * self._row_cost:
            raise too_much_memory(self.estimate(), self.limits, "reading it")

    def reserve(self, size: int) -> None:
        """``size`` bytes held while the rows are read (a workbook's shared strings, a parsed
        JSON document)."""
        self._budget -= size
        if self._budget < max(self.rows, 0) * self._row_cost:
            raise too_much_memory(self.estimate(), self.limits, "reading it")

    def estimate(self) -> int:
        return self.limits.max_memory_bytes - self._budget + max(self.rows, 0) * self._row_cost

    def check_width(self, width: int, row: int | None) -> None:
        if width > self.width:
            if width > self.limits.max_columns:
                raise too_many_columns(width, self.limits, row)
            self.width = width
            self._row_cost = MEMORY.per_row + width * MEMORY.per_cell

    def row(self, number: int, width: int) -> None:
        """One more record, ``number`` in the file's numbering, ``width`` cells wide."""
        self.rows += 1
        if width > self.width:
            self.check_width(width, number)
        if self.rows > self.limits.max_rows:
            raise too_many_rows(self.limits, number)
        if self.rows * self._row_cost > self._budget:
            raise too_much_memory(self.estimate(), self.limits, f"reading it up to row {number}")


class MemoryBudget:
    """One feed's memory estimate as it is normalized: what reading it takes (the reader's
    estimate, :attr:`RawTable.memory`), then what cleaning it adds beyond clean rows (rows
    outside the fast shapes, findings), each charged before it is spent."""

    __slots__ = ("limits", "spent")

    def __init__(self, limits: FeedLimits, spent: int) -> None:
        self.limits = limits
        self.spent = spent

    def charge(self, count: int, unit: int, what: str) -> None:
        """``count`` × ``unit`` bytes more; ``feed_too_large`` when above the cap."""
        self.spent += count * unit
        if self.spent > self.limits.max_memory_bytes:
            raise too_much_memory(self.spent, self.limits, what)
