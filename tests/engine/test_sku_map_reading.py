"""Property: the column-wise SKU map reading equals the record-by-record ``csv`` reading
(``sku_map_oracle``): the same map in the same order, or the same first problem."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from relay_gateway.domain.sku_maps import SkuMapInvalidError, validate_sku_map
from relay_normalize.domain.clean.sku_map import SkuMap, SkuMapError, parse_sku_map

from .sku_map_oracle import Problem, read_sku_map

CELL = st.sampled_from(
    ["", "", "a1", "a1", "A1", "b2", " a1 ", "\u00a0b2", "X", "x", " ", "\t", "c-3", "\u2003"]
)
BREAK = st.sampled_from(["\n", "\n", "\n", "\r\n", "\r"])
HEADERS = st.sampled_from(
    ["vendor_sku,sku", " Vendor_SKU , SKU ", "sku,vendor_sku", "vendor_sku,title,sku", "sku", ""]
)


def _read(raw: bytes) -> dict[str, str] | Problem:
    try:
        sku_map: SkuMap = parse_sku_map(raw)
    except SkuMapError as problem:
        return (problem.code, problem.detail, problem.value)
    assert sku_map.sha256 is not None
    return sku_map.as_dict()


@st.composite
def maps(draw: st.DrawFn, quoted: bool) -> bytes:
    header = draw(HEADERS)
    records = draw(st.lists(st.lists(CELL, min_size=0, max_size=4), max_size=12))
    lines = [header] + [",".join(cells) for cells in records]
    if quoted and lines:
        at = draw(st.integers(0, len(lines) - 1))
        lines[at] += ',"q,1"'
    breaks = [draw(BREAK) for _ in lines]
    text = "".join(line + brk for line, brk in zip(lines, breaks, strict=True))
    if draw(st.booleans()):
        text = text.rstrip("\r\n")
    prefix = "\ufeff" if draw(st.booleans()) else ""
    return (prefix + text).encode()


@settings(max_examples=400, deadline=None)
@given(maps(quoted=False))
def test_a_plain_map_reads_as_the_csv_reader_reads_it(raw: bytes) -> None:
    assert _read(raw) == read_sku_map(raw)


@settings(max_examples=100, deadline=None)
@given(maps(quoted=True))
def test_a_quoted_map_reads_as_the_csv_reader_reads_it(raw: bytes) -> None:
    assert _read(raw) == read_sku_map(raw)


def test_the_edges_read_alike() -> None:
    for raw in [
        b"",
        b"\n",
        b"\r\n\r\n",
        b"\xff\xfe",
        b"vendor_sku,sku",
        b"vendor_sku,sku\n" + b"a," + b"x" * 131_073 + b"\n",
        b"vendor_sku,sku\na,1\na,1\nb,1\n,\n a ,1\n",
        b"vendor_sku,sku\na,1\nb,\na,2\n",
        b"vendor_sku,sku\na,1\nb,2\na,3\nc,\n",
        b'vendor_sku,sku\n"a\nb",1\n',
    ]:
        assert _read(raw) == read_sku_map(raw), raw[:40]


def test_a_map_of_220k_rows_agrees_with_the_reference() -> None:
    lines = ["vendor_sku,sku"] + [f" v{i:07d} ,SKU-{i * 7919 % 10**8:08d}" for i in range(220_000)]
    raw = ("\n".join(lines) + "\n").encode()
    started = time.perf_counter()
    read = _read(raw)
    print(f"\n220,000-row map read column-wise in {time.perf_counter() - started:.3f} s")
    assert read == read_sku_map(raw)
    assert isinstance(read, dict)
    assert len(read) == 220_000


@settings(max_examples=300, deadline=None)
@given(maps(quoted=False) | maps(quoted=True))
def test_the_gateway_accepts_exactly_the_maps_normalize_can_apply(raw: bytes) -> None:
    """One rule: a map the gateway's upload check accepts is one normalize applies, with the
    same number of mappings; a map it refuses fails normalize's reading, and the gateway's
    first problem is at normalize's first problem (``rows[i]`` is line ``i + 2``)."""
    read = _read(raw)
    try:
        accepted: int | SkuMapInvalidError = validate_sku_map(raw)
    except SkuMapInvalidError as refused:
        accepted = refused
    if isinstance(read, dict):
        assert accepted == len(read)
        return
    assert isinstance(accepted, SkuMapInvalidError)
    first = accepted.problems[0]
    code, detail, value = read
    if not first.path.startswith("rows["):
        assert code == "sku_map_unavailable"
        return
    line = int(first.path[len("rows[") : -1]) + 2
    if value is None:
        assert (code, detail) == ("sku_map_unavailable", f"line {line} has an empty cell")
        assert first.message == "vendor_sku and sku must not be empty"
    else:
        assert code == "sku_map_conflict"
        key, rest = detail.split(" maps to ", 1)
        assert first.message == f"vendor_sku {key} is mapped to both {rest}"
