"""Per-SKU explain (issue 16 item 3): the index a run builds, its stored (chunked) form and
the answer, checked against the run's own merged file and the scalar price reference."""

from __future__ import annotations

import io
import random
from typing import Any

import polars as pl
import pytest
import yaml

from relay_cli.demo_explain import explain_lines
from relay_pricing.domain import build_run_outputs
from relay_pricing.domain.rounding import PriceRule, price_cents
from relay_shared.explain.answer import ExplainOut, NotInRunOut, explain, not_in_run
from relay_shared.explain.buckets import PartWriter, read_chunk
from relay_shared.explain.index_format import (
    ExplainIndex,
    ExplainManifest,
    as_dicts,
    decode_chunk,
    encode,
    rows_of,
)
from relay_shared.findings import Finding
from relay_shared.tenant_config import TenantConfig, parse_tenant_config
from tests.bench.bench_data import CONFIG, VENDOR, VENDORS, write_feeds

from .engine_support import (
    AS_OF,
    csv_feed,
    make_config,
    merged_lines,
    normalize,
    run,
    to_input,
    vendor,
)

SAMPLE = 1_000


def _config(**changes: Any) -> TenantConfig:
    vendors = "".join(VENDOR.format(vendor_id=vendor_id) for vendor_id in VENDORS)
    data = yaml.safe_load(CONFIG.format(vendors=vendors))
    for section, values in changes.items():
        data[section] = {**data[section], **values}
    return parse_tenant_config(data)


VARIANTS = {
    "best_offer": {},
    "priority_sum_in_stock_max_up": {
        "merge": {
            "strategy": "priority",
            "priority": ["vendor_3", "vendor_1"],
            "quantity_policy": "sum_in_stock",
        },
        "pricing": {
            "margin_basis": "gross_margin",
            "base_margin_pct": "0.35",
            "max_price": "400.00",
            "rounding": {"mode": "up", "increment": "0.49"},
        },
    },
}


class StoredIndex:
    """An index in its stored form: looked up as the gateway does (manifest, one chunk)."""

    def __init__(self, index: ExplainIndex) -> None:
        manifest, self.parts = encode(index, skus_per_bucket=64, part_bytes=20_000)
        self.manifest = ExplainManifest.model_validate_json(manifest)

    def answer(self, sku: str) -> ExplainOut | None:
        chunk = self.manifest.chunk_for(sku)
        if chunk is None:
            return None
        body = self.parts[chunk.part][chunk.offset : chunk.offset + chunk.length]
        rows = decode_chunk(body, sku)
        return explain(as_dicts(rows), self.manifest) if rows.height else None


@pytest.fixture(scope="module")
def feeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("explain_feeds")
    return {vendor_id: path.read_bytes() for vendor_id, path in write_feeds(folder, 1500).items()}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_explain_gives_the_merged_file_for_1000_random_skus(
    feeds: dict[str, bytes], variant: str
) -> None:
    config = _config(**VARIANTS[variant])
    outputs = run(config, feeds)  # the services' hand-off: normalized CSV read back
    assert outputs.explain is not None
    merged = pl.read_csv(outputs.files["merged_inventory.csv"], infer_schema=False)
    stored = StoredIndex(outputs.explain)
    rule = PriceRule.from_config(config.pricing)
    sample = random.Random(16).sample(merged.to_dicts(), SAMPLE)

    for row in sample:
        answer = stored.answer(row["sku"])
        assert answer is not None, row["sku"]
        assert answer.price_cents is not None
        assert f"{answer.price_cents // 100}.{answer.price_cents % 100:02d}" == row["price"]
        assert answer.merge.winner == row["vendor_id"]
        assert str(answer.merge.quantity_available) == row["quantity_available"]
        assert str(answer.merge.lead_time_days) == row["lead_time_days"]
        steps = {step.step: step for step in answer.steps}
        assert [step.step for step in answer.steps] == [
            "shipping",
            "base_margin",
            "min_price",
            "rounding",
            "map_floor",
        ]
        # each step's input is the previous one's output, and the whole chain is the
        # scalar reference's price
        outputs_chain = [step.output_cents for step in answer.steps]
        assert [step.input_cents for step in answer.steps[1:]] == outputs_chain[:-1]
        winner = next(offer for offer in answer.offers if offer.winner)
        landed = steps["shipping"].output_cents
        assert landed is not None
        map_cents = winner.as_normalized["map_price"]
        assert map_cents is None or isinstance(map_cents, int)
        assert price_cents(landed, map_cents, rule) == answer.price_cents
    assert len(merged) > SAMPLE
    assert len(stored.parts) > 10  # looked up across many parts and buckets
    assert stored.manifest.buckets == -(-outputs.explain.skus // 64)


def test_every_sku_of_the_run_is_in_the_index_once_per_offer(feeds: dict[str, bytes]) -> None:
    outputs = run(_config(), feeds)
    assert outputs.explain is not None
    frame = outputs.explain.frame
    normalized_rows = sum(
        vendor.accepted - vendor.duplicates for vendor in outputs.summary.vendors.values()
    )
    merged = pl.read_csv(outputs.files["merged_inventory.csv"], infer_schema=False)
    assert frame.height == normalized_rows
    assert frame.filter(pl.col("winner")).height == merged.height
    assert outputs.explain.skus == merged.height + len(outputs.skus_left_out)


def _two_vendor_run() -> tuple[TenantConfig, Any]:
    config = make_config(
        [vendor("v1"), vendor("v2")],
        pricing={
            "base_margin_pct": "0.20",
            "min_price": "25.00",
            "shipping_handling_flat": "9.99",
            "rounding": {"mode": "nearest", "increment": "0.99"},
        },
    )
    v1 = csv_feed(
        "A,5,10.00,,,,,,,",
        "B,5,10.00,,,,,,,",
        "C,5,10.00,,,,,,,",
        "D,5,,,,,,,,",
        "E,5,50.00,80.00,,,,,,",
    )
    v2 = csv_feed("A,0,5.00,,,,,,,", "B,3,8.00,,,,,,,", "C,4,10.00,,,,,,,", "D,2,,,,,,,,")
    return config, run(config, {"v1": v1, "v2": v2})


def test_the_merge_decision_names_the_deciding_key() -> None:
    _, outputs = _two_vendor_run()
    assert outputs.explain is not None
    stored = StoredIndex(outputs.explain)

    decisions = {}
    for sku in "ABC":
        answer = stored.answer(sku)
        assert answer is not None
        decisions[sku] = (answer.merge.winner, answer.merge.decided_by, answer.merge.reason)

    assert decisions == {
        "A": ("v1", "in_stock_desc", "first on in_stock_desc: 0 against v2=1"),
        "B": ("v2", "lowest_landed_cost", "first on lowest_landed_cost: 1799 against v1=1999"),
        "C": ("v1", "vendor_id_order", "first on vendor_id_order: 0 against v2=1"),
    }


def test_the_answer_of_one_sku_step_by_step() -> None:
    _, outputs = _two_vendor_run()
    assert outputs.explain is not None
    answer = StoredIndex(outputs.explain).answer("E")
    assert answer is not None

    assert merged_lines(outputs)[4] == "E,5,80.99,v1,2026-01-01T00:00:00Z"
    assert answer.status == "merged"
    assert (answer.run_id, answer.tenant_id, answer.config_version) == ("r1", "t1", 7)
    assert [(o.vendor_id, o.eligible, o.landed_cents, o.keys, o.winner) for o in answer.offers] == [
        (
            "v1",
            True,
            5999,
            {"in_stock_desc": 0, "lowest_landed_cost": 5999, "vendor_id_order": 0},
            True,
        )
    ]
    assert answer.offers[0].as_normalized["cost"] == 5000
    assert answer.offers[0].as_read is None  # the services' path keeps no raw cells
    assert [(s.step, s.input_cents, s.output_cents) for s in answer.steps] == [
        ("shipping", 5000, 5999),
        ("base_margin", 5999, 7199),
        ("min_price", 7199, 8000),
        ("rounding", 8000, 7999),
        ("map_floor", 7999, 8099),
    ]
    assert answer.steps[2].detail == {
        "floor_cents": 8000,
        "min_price_cents": 2500,
        "map_price_cents": 8000,
        "enforce_map": True,
        "max_price_cents": None,
    }
    assert answer.steps[4].detail == {"floor_cents": 8000, "raised": True}
    assert answer.price_cents == 8099


def test_a_sku_without_cost_is_left_out_with_its_offers() -> None:
    _, outputs = _two_vendor_run()
    assert outputs.explain is not None
    answer = StoredIndex(outputs.explain).answer("D")
    assert answer is not None

    assert outputs.skus_left_out == ["D"]
    assert (answer.status, answer.merge.winner, answer.price_cents, answer.steps) == (
        "left_out",
        None,
        None,
        [],
    )
    assert answer.merge.reason == "no offer has a cost: the SKU is left out of the merged feed"
    assert [(o.vendor_id, o.eligible) for o in answer.offers] == [("v1", False), ("v2", False)]


def test_a_sku_not_in_the_run_says_rejected_or_never_present() -> None:
    _, outputs = _two_vendor_run()
    assert outputs.explain is not None
    stored = StoredIndex(outputs.explain)
    bad = Finding("v1", 4, "sku", "mangled_sku", "the SKU looks mangled", "Z?")
    other = Finding("v1", 5, "cost", "invalid_cost", "the cost is not a number", "Z")

    assert stored.answer("Z?") is None
    assert stored.answer("") is None
    assert not_in_run("Z?", [other, bad]) == NotInRunOut(
        sku="Z?",
        status="rejected",
        message="SKU Z? was rejected by normalize: mangled_sku",
        findings=[bad],
    )
    assert not_in_run("Z", [other, bad]).status == "never_present"


def test_a_run_asked_for_no_explain_builds_no_index() -> None:
    config = make_config()
    feed = to_input(normalize(csv_feed("A,1,10.00,,,,,,,"), config))
    plain = build_run_outputs(
        config,
        run_id="r1",
        as_of=AS_OF,
        config_version=1,
        feeds={"v1": feed},
        timings_ms={},
        explain=False,
    )
    explained = run(config, {"v1": csv_feed("A,1,10.00,,,,,,,")}).explain
    assert plain.explain is None
    assert explained is not None
    assert rows_of(explained, "A").height == 1
    assert plain.files == run(config, {"v1": csv_feed("A,1,10.00,,,,,,,")}).files | {
        "run_summary.json": plain.files["run_summary.json"]
    }


def test_a_reader_whose_hash_disagrees_finds_the_sku_in_every_bucket() -> None:
    _, outputs = _two_vendor_run()
    assert outputs.explain is not None
    stored = StoredIndex(outputs.explain)
    other = stored.manifest.model_copy(
        update={"probe_buckets": [b + 1 for b in stored.manifest.probe_buckets]}
    )
    chunks = other.every_chunk()
    found = [
        decode_chunk(stored.parts[c.part][c.offset : c.offset + c.length], "E") for c in chunks
    ]

    assert stored.manifest.hash_agrees()
    assert not other.hash_agrees()
    assert [rows.height for rows in found if rows.height] == [1]


def test_a_run_without_any_cost_explains_its_skus_as_left_out() -> None:
    config = make_config([vendor("v1")])
    outputs = run(config, {"v1": csv_feed("A,5,,,,,,,,", "B,1,,,,,,,,")})
    assert outputs.explain is not None
    stored = StoredIndex(outputs.explain)
    answer = stored.answer("B")

    assert merged_lines(outputs) == ["sku,quantity_available,price,vendor_id,updated_at"]
    assert answer is not None
    assert (answer.status, answer.merge.winner, answer.steps) == ("left_out", None, [])
    assert outputs.explain.skus == 2


def test_the_demo_shows_an_answer_in_short_lines() -> None:
    _, outputs = _two_vendor_run()
    assert outputs.explain is not None
    answer = StoredIndex(outputs.explain).answer("B")
    assert answer is not None

    assert explain_lines(answer.model_dump(mode="json")) == [
        "explain B (run r1): merged",
        "    v1: landed 1999 (in_stock_desc=0, lowest_landed_cost=1999, vendor_id_order=0)",
        "  * v2: landed 1799 (in_stock_desc=0, lowest_landed_cost=1799, vendor_id_order=1)",
        "  winner v2: first on lowest_landed_cost: 1799 against v1=1999",
        "  shipping     800 -> 1799",
        "  base_margin  1799 -> 2159",
        "  min_price    2159 -> 2500",
        "  rounding     2500 -> 2499",
        "  map_floor    2499 -> 2599",
        "  price 2599 cents",
    ]


def test_a_bucket_is_an_ipc_stream_and_an_older_index_s_ipc_file_still_reads() -> None:
    # a stream costs polars about half of a file to write (a file goes through its sink)
    frame = pl.DataFrame({"sku": ["A", "B", "C"], "cents": [100, None, 7]})
    parts: list[bytes] = []
    writer = PartWriter(parts.append, 1 << 20, "lz4")
    chunk = writer.add(frame)
    writer.close()
    body = parts[0][chunk.offset : chunk.offset + chunk.length]
    written_before = io.BytesIO()
    frame.write_ipc(written_before, compression="lz4")

    assert body[:4] == b"\xff\xff\xff\xff"  # an IPC stream's first message (no file magic)
    assert read_chunk(body).equals(frame)
    assert written_before.getvalue()[:6] == b"ARROW1"
    assert read_chunk(written_before.getvalue()).equals(frame)


@pytest.mark.parametrize("compression", ["lz4", "uncompressed"])
def test_frames_encoded_at_once_are_the_bytes_and_places_of_one_by_one(compression: Any) -> None:
    # add_all encodes on several threads; its parts must be add's, byte for byte, in order
    rng = random.Random(7)
    frames: list[pl.DataFrame | None] = [
        None
        if rng.random() < 0.1
        else pl.DataFrame(
            {
                "sku": [f"SKU-{rng.randrange(10_000):05d}" for _ in range(size)],
                "cents": [rng.choice([None, rng.randrange(10**6)]) for _ in range(size)],
            }
        )
        for size in (rng.randrange(1, 400) for _ in range(120))
    ]
    one_by_one: list[bytes] = []
    writer = PartWriter(one_by_one.append, 16 << 10, compression)
    placed = [writer.add(frame) for frame in frames]
    writer.close()
    at_once: list[bytes] = []
    writer = PartWriter(at_once.append, 16 << 10, compression)
    placed_at_once = writer.add_all(frames)
    writer.close()

    assert len(one_by_one) > 5  # several parts, each closed mid-sequence
    assert at_once == one_by_one
    assert placed_at_once == placed
    assert sum(chunk.length == 0 for chunk in placed) == sum(frame is None for frame in frames)
    for frame, chunk in zip(frames, placed, strict=True):
        if frame is not None:
            body = at_once[chunk.part][chunk.offset : chunk.offset + chunk.length]
            assert read_chunk(body).equals(frame)
