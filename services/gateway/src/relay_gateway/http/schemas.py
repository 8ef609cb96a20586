"""``GET /v1/schemas/{subject}``: the JSON Schema of a subject's payload, for systems that
publish to (or read from) the bus. The same schema as ``shared/schemas/<subject>.json``, both
generated from :mod:`relay_shared.events` (:mod:`relay_shared.event_schemas`).

Public, like the OpenAPI document: the contract holds no tenant's data, and a publisher needs
NATS and S3 credentials, not necessarily a gateway key. A subject of the wrong shape is a 404
at the edge (``PATH_SHAPES``), like an unknown one here.
"""

from __future__ import annotations

from aiohttp import web

from relay_gateway.http.access import Call
from relay_gateway.http.errors import UnknownResourceError
from relay_gateway.http.routing import Auth, Route
from relay_shared.event_schemas import published_schema

SCHEMA_MEDIA_TYPE = "application/schema+json"


async def event_schema(call: Call) -> web.Response:
    schema = published_schema(call.request.match_info["subject"])
    if schema is None:
        raise UnknownResourceError("no such subject")
    return web.json_response(schema, content_type=SCHEMA_MEDIA_TYPE)


ROUTES = [
    Route(
        method="GET",
        path="/v1/schemas/{subject}",
        handler=event_schema,
        summary="The JSON Schema of an event subject's payload",
        role=Auth.ANYONE,
        ok=200,
        errors=(404,),
    ),
]
