"""The gateway's reading of pricing's sku_history.csv (its SKU history read model) and the
API's shape of one entry: exact values, and files it refuses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from relay_gateway.adapters.sku_history import HistoryFileError, SkuChangeView, history_rows
from relay_gateway.http.errors import UnprocessableError
from relay_gateway.http.history import change_out, parse_since
from relay_shared import keys
from relay_shared.events import MergeChanges, OffersMerged
from relay_shared.storage import ObjectStore
from tests.gateway.harness import Gateway

HEADER = b"sku,change,price_old,price_new,quantity_old,quantity_new\n"
AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
RUN = "run-1"


def test_history_rows_are_read_with_prices_in_cents() -> None:
    data = HEADER + b'A-1,changed,10.00,13.20,,\n"B,2",removed,-0.01,,2,\nD-4,added,,1000.00,,0\n'
    assert list(history_rows(data)) == [
        ("A-1", "changed", 1000, 1320, None, None),
        ("B,2", "removed", -1, None, 2, None),
        ("D-4", "added", None, 100000, None, 0),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"sku,change\nA-1,added\n", "the history file's header is not " + HEADER.decode()[:-1]),
        (HEADER + b"A-1,moved,,,,\n", "row 2 is not a history row"),
        (HEADER + b"A-1,added,1.00\n", "row 2 is not a history row"),
        (HEADER + b"A-1,added,abc,,,\n", "row 2: a price or quantity is not a number"),
        (HEADER + b"A-1,added,,,,1.5\n", "row 2: a price or quantity is not a number"),
    ],
)
def test_a_file_that_is_not_a_history_file_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(HistoryFileError) as refused:
        list(history_rows(data))
    assert str(refused.value) == message


def _view(change: str, *values: int | None) -> SkuChangeView:
    return SkuChangeView(RUN, AT, change, *values)


def test_an_entry_gives_only_what_changed_and_both_sides_of_an_added_sku() -> None:
    quantity_only = change_out(_view("changed", None, None, 1, 4)).model_dump(mode="json")
    assert quantity_only == {
        "run_id": "run-1",
        "as_of": "2026-03-01T12:00:00Z",
        "change": "changed",
        "price": None,
        "quantity": {"old": 1, "new": 4},
    }
    added = change_out(_view("added", None, None, None, None)).model_dump(mode="json")
    assert (added["price"], added["quantity"]) == (
        {"old": None, "new": None},
        {"old": None, "new": None},
    )
    price = change_out(_view("changed", 1205, -1, None, None)).model_dump(mode="json")
    assert (price["price"], price["quantity"]) == ({"old": "12.05", "new": "-0.01"}, None)


def test_since_is_a_date_or_a_time_with_its_zone() -> None:
    assert parse_since(None) is None
    assert parse_since("2026-03-01") == datetime(2026, 3, 1, tzinfo=UTC)
    assert parse_since("2026-03-01T13:00:00+01:00") == AT
    for raw in ("2026-03-01T12:00:00", "yesterday", "2026-02-30"):
        with pytest.raises(UnprocessableError):
            parse_since(raw)


@pytest.mark.stack
async def test_the_read_model_copies_a_file_and_skips_a_bad_one_whole(
    gateway: Gateway, object_store: ObjectStore, unique_id: str
) -> None:
    tenant, run_id = f"t-{unique_id}", f"run-{unique_id}"
    as_of = datetime.now(UTC).replace(microsecond=0)  # within the 400 days kept
    key = keys.report_key(tenant, run_id, "sku_history.csv")
    repository = gateway.app.sku_history.repository

    def merged(history_key: str) -> OffersMerged:
        return OffersMerged(
            event_id=f"offers.merged:{run_id}",
            occurred_at=AT,
            tenant_id=tenant,
            correlation_id="c",
            run_id=run_id,
            config_version=1,
            merged_key="m",
            summary_key="s",
            errors_key="e",
            merged_rows=1,
            skus_left_out=0,
            vendors={},
            changes=MergeChanges(changes_key="c", history_key=history_key, as_of=as_of),
        )

    await object_store.put_bytes(key, HEADER + b"A-1,changed,1.00,2.00,,\n")
    await repository.record(merged(key))
    await repository.record(merged(key))  # a re-sent event: the same rows
    expected = [SkuChangeView(run_id, as_of, "changed", 100, 200, None, None)]
    assert await repository.of_sku(tenant, "A-1", None) == expected
    # a file whose third row is bad changes nothing, nor does another tenant's file
    await object_store.put_bytes(key, HEADER + b"A-1,changed,1.00,3.00,,\nB-2,added,x,,,\n")
    await repository.record(merged(key))
    await repository.record(merged(keys.report_key(f"u-{unique_id}", run_id, "h.csv")))
    assert await repository.of_sku(tenant, "A-1", None) == expected
    assert await repository.of_sku(tenant, "B-2", None) == []
