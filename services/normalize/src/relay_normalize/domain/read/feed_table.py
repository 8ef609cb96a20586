"""A vendor's feed read into a :class:`RawTable` by its configured format.

Raises :class:`UnreadableFile` (``unparseable_file``) or :class:`FeedRefused` (an
encoding that is not a text codec, or a bound of :mod:`relay_normalize.domain.limits`).
"""

from __future__ import annotations

from relay_normalize.domain.limits import FeedLimits, FeedRefused
from relay_normalize.domain.read.csv_table import read_csv_table
from relay_normalize.domain.read.feed_source import FeedScan, FeedSource, is_text_codec
from relay_normalize.domain.read.json_table import read_json_table, read_jsonl_table
from relay_normalize.domain.read.raw_table import RawTable
from relay_normalize.domain.read.xlsx_table import read_xlsx_table
from relay_shared.tenant_config import VendorConfig


def read_feed_table(
    source: FeedSource, vendor: VendorConfig, limits: FeedLimits, scan: FeedScan
) -> RawTable:
    """The feed's records as text cells; ``scan`` is the feed's :func:`scan_feed`."""
    parser = vendor.parser
    if parser.format != "xlsx" and not is_text_codec(parser.encoding):
        raise FeedRefused("unsupported_encoding", repr(parser.encoding[:40]), value=parser.encoding)
    if parser.format == "csv":
        return read_csv_table(
            source,
            encoding=parser.encoding,
            delimiter=parser.delimiter,
            header_row=parser.header_row,
            limits=limits,
            scan=scan,
        )
    if parser.format == "xlsx":
        return read_xlsx_table(
            source, sheet=parser.sheet, header_row=parser.header_row, limits=limits
        )
    if parser.format == "json":
        return read_json_table(source, encoding=parser.encoding, limits=limits)
    return read_jsonl_table(source, encoding=parser.encoding, limits=limits)
