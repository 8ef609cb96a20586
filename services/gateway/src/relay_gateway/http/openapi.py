"""The OpenAPI 3.1 document, generated from the route declarations and the API models: the
same declarations whose access rule :mod:`relay_gateway.http.access` enforces."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from relay_gateway.domain.parameters import PATH_SHAPES, QUERY_SHAPES, Shape
from relay_gateway.http.api_models import ErrorBody
from relay_gateway.http.routing import Body, Route

REF = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"{(\w+)}")
_STATUS_TEXT = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    400: "Malformed request",
    401: "No or bad credentials",
    403: "Not allowed",
    404: "Unknown (or another tenant's)",
    408: "The body was not sent in time",
    409: "Conflict",
    413: "Too large",
    415: "Wrong content type",
    422: "Invalid content",
    429: "Rate limited",
    503: "A dependency is down",
}
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "rk_ API key or user JWT"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
}


class _Schemas:
    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def ref(self, model: type[BaseModel]) -> dict[str, str]:
        schema = model.model_json_schema(ref_template=REF, mode="serialization")
        for name, definition in schema.pop("$defs", {}).items():
            self.components[name] = definition
        self.components[model.__name__] = schema
        return {"$ref": REF.format(model=model.__name__)}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _responses(route: Route, schemas: _Schemas) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    ok = {route.ok: route.returns, **route.also_ok}
    for status, model in sorted(ok.items()):
        answer: dict[str, Any] = {"description": _STATUS_TEXT.get(status, "OK")}
        if model is not None:
            answer["content"] = _json(schemas.ref(model))
        answers[str(status)] = answer
    error = schemas.ref(ErrorBody)
    for status in sorted({*route.errors, *_access_errors(route), *_edge_errors(route), 503}):
        answers[str(status)] = {"description": _STATUS_TEXT[status], "content": _json(error)}
    return answers


def _access_errors(route: Route) -> set[int]:
    """What the access rule may answer: no or bad credentials, a missing role, and the
    path's tenant unknown (or another's)."""
    errors = {401, 403} if route.needs_credentials else set()
    if route.tenant_in_path:
        errors.add(404)
    return errors


def _edge_errors(route: Route) -> set[int]:
    """What the input guard and the body reader may answer before the handler runs."""
    errors: set[int] = set()
    if _PATH_PARAM.search(route.path) or route.query:
        errors.add(400)
    if any(name in PATH_SHAPES for name in _PATH_PARAM.findall(route.path)):
        errors.add(404)
    if any(name in QUERY_SHAPES for name, _ in route.query):
        errors.add(422)
    if route.body is not None:
        errors.add(408)
    return errors


def _request_body(body: Body, schemas: _Schemas) -> dict[str, Any]:
    content: dict[str, Any] = {}
    for media_type in body.media_types:
        if body.model is not None and media_type == "application/json":
            content[media_type] = {"schema": schemas.ref(body.model)}
        else:
            content[media_type] = {"schema": {"type": "string", "format": "binary"}}
    return {"required": True, "description": body.description, "content": content}


def _parameters(route: Route) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": _schema("string", name, PATH_SHAPES),
        }
        for name in _PATH_PARAM.findall(route.path)
    ]
    for name, kind in route.query:
        parameters.append(
            {
                "name": name,
                "in": "query",
                "required": False,
                "schema": _schema(kind, name, QUERY_SHAPES),
            }
        )
    for name, kind in route.headers:
        parameters.append(
            {"name": name, "in": "header", "required": False, "schema": {"type": kind}}
        )
    return parameters


def _schema(kind: str, name: str, shapes: Mapping[str, Shape]) -> dict[str, Any]:
    shape = shapes.get(name)
    return {"type": kind} if shape is None else {"type": kind, "pattern": shape.pattern}


def _operation(route: Route, schemas: _Schemas) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": route.handler.__name__,
        "summary": route.summary,
        "description": f"Who: {route.role.value}.",
        "parameters": _parameters(route),
        "responses": _responses(route, schemas),
    }
    if not route.needs_credentials:
        operation["security"] = []
    if route.body is not None:
        operation["requestBody"] = _request_body(route.body, schemas)
    return operation


def openapi_document(routes: list[Route], version: str = "1.0.0") -> dict[str, Any]:
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Relay gateway", "version": version},
        "paths": paths,
        "components": {"schemas": schemas.components, "securitySchemes": SECURITY_SCHEMES},
        "security": [{"bearer": []}, {"apiKey": []}],
    }
