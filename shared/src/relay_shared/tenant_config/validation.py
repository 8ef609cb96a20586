"""Parsing a tenant config into :class:`TenantConfig`, listing every problem by path.

Paths are 0-based and dotted: ``vendors[1].parser.delimiter``. A pydantic failure lists all
field problems at once; the cross-field checks below run only on a config whose fields are
valid (they need the typed values).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from relay_shared.keys import is_tenant_key, tenant_prefix
from relay_shared.tenant_config.inbound import inbound_problems
from relay_shared.tenant_config.models import TenantConfig

_PREFIXES = ("Value error, ", "Assertion failed, ")


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One problem of a config: where (``vendors[0].parser``) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ConfigError(ValueError):
    """An invalid tenant config (code ``invalid_config``); ``problems`` lists every problem."""

    code = "invalid_config"

    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        self.problems: list[ConfigProblem] = list(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))


def format_path(loc: Sequence[int | str]) -> str:
    """``("vendors", 1, "parser")`` → ``vendors[1].parser``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


_UNION_MEMBERS = {"str": "text", "int": "a whole number"}
_MEMBER_ERRORS = {"string_type", "int_type", "int_parsing", "int_from_float"}


def _problem(error: ErrorDetails) -> ConfigProblem:
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    elif error["type"] == "missing":
        message = "is required"
    for prefix in _PREFIXES:
        message = message.removeprefix(prefix)
    return ConfigProblem(format_path(error["loc"]), message)


def validation_problems(errors: list[ErrorDetails]) -> list[ConfigProblem]:
    """One problem per error; a value that fits no member of a ``str | int`` union is one
    problem (pydantic reports each member, with the member's name added to the path)."""
    problems: list[ConfigProblem] = []
    unions: dict[str, list[str]] = {}
    for error in errors:
        loc = error["loc"]
        member = loc[-1] if loc else None
        if member in _UNION_MEMBERS and error["type"] in _MEMBER_ERRORS:
            path = format_path(loc[:-1])
            if path not in unions:
                unions[path] = []
                problems.append(ConfigProblem(path, ""))
            unions[path].append(_UNION_MEMBERS[member])
        else:
            problems.append(_problem(error))
    return [
        ConfigProblem(p.path, "must be " + " or ".join(unions[p.path])) if not p.message else p
        for p in _dedupe(problems)
    ]


def parse_tenant_config(data: Mapping[str, Any], *, tenant_id: str | None = None) -> TenantConfig:
    """Validate ``data`` (YAML/JSON already loaded) into a :class:`TenantConfig`.

    With ``tenant_id`` given, the config's ``tenant_id`` must equal it. Raises
    :class:`ConfigError` listing every problem found.
    """
    if not isinstance(data, Mapping):
        raise ConfigError([ConfigProblem("", "a tenant config must be a mapping")])
    try:
        config = TenantConfig.model_validate(dict(data))
    except ValidationError as exc:
        problems = validation_problems(exc.errors())
        raise ConfigError(problems) from exc
    problems = cross_field_problems(config)
    if tenant_id is not None and config.tenant_id != tenant_id:
        problems.insert(0, ConfigProblem("tenant_id", f"must be {tenant_id!r}"))
    if problems:
        raise ConfigError(problems)
    return config


def _dedupe(problems: list[ConfigProblem]) -> list[ConfigProblem]:
    seen: set[ConfigProblem] = set()
    unique = []
    for problem in problems:
        if problem not in seen:
            seen.add(problem)
            unique.append(problem)
    return unique


def cross_field_problems(config: TenantConfig) -> list[ConfigProblem]:
    """Rules that span fields: unique vendors, known priority ids, margin, price bounds."""
    problems: list[ConfigProblem] = []
    seen: set[str] = set()
    for index, vendor in enumerate(config.vendors):
        if vendor.vendor_id in seen:
            problems.append(ConfigProblem(f"vendors[{index}].vendor_id", "must be unique"))
        seen.add(vendor.vendor_id)
        problems.extend(_sku_map_problems(index, vendor.sku_map))
        problems.extend(_foreign_key_problems(config.tenant_id, index, vendor))
        if vendor.inbound is not None:
            found = inbound_problems(f"vendors[{index}].inbound", vendor.inbound)
            problems.extend(ConfigProblem(path, message) for path, message in found)
    for index, vendor_id in enumerate(config.merge.priority):
        if vendor_id not in seen:
            problems.append(
                ConfigProblem(f"merge.priority[{index}]", f"unknown vendor {vendor_id!r}")
            )
    if config.schedule is not None:
        for index, vendor_id in enumerate(config.schedule.wait_for_vendors):
            if vendor_id not in seen:
                path = f"schedule.wait_for_vendors[{index}]"
                problems.append(ConfigProblem(path, f"unknown vendor {vendor_id[:64]!r}"))
    if len(set(config.merge.priority)) != len(config.merge.priority):
        problems.append(ConfigProblem("merge.priority", "a vendor must not be listed twice"))
    pricing = config.pricing
    if pricing.margin_basis == "gross_margin" and pricing.base_margin_pct >= 1:
        problems.append(
            ConfigProblem("pricing.base_margin_pct", "must be below 1 for gross_margin")
        )
    if pricing.max_price is not None and pricing.max_price < pricing.min_price:
        problems.append(ConfigProblem("pricing.max_price", "must not be below min_price"))
    return problems


def _sku_map_problems(index: int, sku_map: Any) -> list[ConfigProblem]:
    if sku_map is None:
        return []
    path = f"vendors[{index}].sku_map"
    if sku_map.type == "file" and not (sku_map.path or sku_map.s3_key):
        return [ConfigProblem(path, "a file map needs path or s3_key")]
    if sku_map.type == "inline" and sku_map.entries is None:
        return [ConfigProblem(f"{path}.entries", "an inline map needs entries")]
    return []


def _foreign_key_problems(tenant_id: str, index: int, vendor: Any) -> list[ConfigProblem]:
    """Every S3 key or prefix a vendor names lies under ``tenants/{tenant_id}/`` (one tenant's
    config must never read another's objects). The message never says whether a key
    exists."""
    named = {
        f"vendors[{index}].sku_map.s3_key": vendor.sku_map and vendor.sku_map.s3_key,
        f"vendors[{index}].inbound.s3_prefix": vendor.inbound and vendor.inbound.s3_prefix,
    }
    return [
        ConfigProblem(path, f"must lie under {tenant_prefix(tenant_id)} (no '..' or '.' parts)")
        for path, key in named.items()
        if key is not None and not is_tenant_key(tenant_id, key)
    ]
