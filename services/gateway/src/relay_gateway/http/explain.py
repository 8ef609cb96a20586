"""``GET /v1/runs/{run_id}/skus/{sku}/explain``: why one SKU has its price in a run.

The gateway cannot import pricing or normalize: it reads the explain index pricing wrote next
to the run's reports and the indexes normalize wrote of each feed's rows as read
(:mod:`relay_shared.explain.reader`: manifests, cached, then a few ranged GETs). Each offer
comes with its row as read (``as_read``: row number and raw cells by header); a SKU without
offers is a 404 that says whether normalize rejected it (with the findings of its rows, on
whatever column) or it was never present. A viewer of the run's tenant may ask; another
tenant's run is a 404 like an unknown one.
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from aiohttp import web

from relay_gateway.domain.roles import Role
from relay_gateway.http.access import Call
from relay_gateway.http.errors import UnknownResourceError
from relay_gateway.http.responses import respond
from relay_gateway.http.routing import Route
from relay_shared.explain.answer import ExplainOut
from relay_shared.explain.reader import ExplainIndexMissing, ExplainReader, SkuNotInRun
from relay_shared.storage import ObjectStore

PATH = "/v1/runs/{run_id}/skus/{sku}/explain"
# one reader per object store: it keeps the manifests of the runs last asked about (a run's
# index never changes once written), so a lookup is then one ranged GET
_READERS: WeakKeyDictionary[ObjectStore, ExplainReader] = WeakKeyDictionary()


def _reader(store: ObjectStore) -> ExplainReader:
    reader = _READERS.get(store)
    if reader is None:
        reader = _READERS[store] = ExplainReader(store)
    return reader


async def explain_sku(call: Call) -> web.Response:
    run = await call.context.runs.get(call.request.match_info["run_id"])
    if run is None:
        raise UnknownResourceError("no such run")
    call.check_tenant(run.tenant_id, what="run")
    sku = call.request.match_info["sku"]
    reader = _reader(call.context.store)
    try:
        answer = await reader.explain(run.tenant_id, run.run_id, sku)
    except ExplainIndexMissing as exc:
        raise UnknownResourceError(
            "the run has no explain index: it has not succeeded, or no vendor's feed was usable",
            code="no_explain_index",
        ) from exc
    except SkuNotInRun as missing:
        raise UnknownResourceError(
            missing.answer.message,
            code=f"sku_{missing.answer.status}",
            details=missing.answer.model_dump(mode="json"),
        ) from missing
    return respond(answer)


ROUTES = [
    Route(
        method="GET",
        path=PATH,
        handler=explain_sku,
        summary="Why a SKU has its price in a run: offers, merge decision, pricing steps",
        role=Role.VIEWER,
        ok=200,
        returns=ExplainOut,
        errors=(404,),
    ),
]
