"""Every APP_* variable a service must have is set for it, in compose and in each overlay; none
is set that the service does not read; secrets come from the Secret / .env, never literals.

What a service reads is derived from its pydantic settings class (fields + ``APP_`` prefix);
what it must be given: its required fields (none today), where the bus, the database and the
bucket are, its state folder and metrics port, every secret field it declares, and for the
gateway its HTTP port and webhook secrets.
"""

from __future__ import annotations

import pydantic

from relay_cli.services import HTTP_SERVICE, SERVICES
from relay_shared.settings import CommonSettings
from tests.deploy.code_facts import settings_type, variable, variables_read
from tests.deploy.compose import REQUIRED_REFERENCE, load_compose, service_environment
from tests.deploy.manifests import Rendered

DEPLOYMENT_FIELDS = (
    "nats_url",
    "nats_stream",
    "database_url",
    "s3_endpoint_url",
    "s3_bucket",
    "s3_region",
    "s3_access_key_id",
    "s3_secret_access_key",
    "state_dir",
    "metrics_port",
)
SECRET_FIELDS = ("database_url", "s3_access_key_id", "s3_secret_access_key", "webhook_secrets")
GATEWAY_FIELDS = ("http_port", "webhook_secrets", "bootstrap_admin_key")


def _is_secret(field: pydantic.fields.FieldInfo) -> bool:
    return "SecretStr" in repr(field.annotation)


def required_variables(service: str) -> set[str]:
    fields = settings_type(service).model_fields
    names = {name for name, field in fields.items() if field.is_required() or _is_secret(field)}
    names.update(DEPLOYMENT_FIELDS)
    if service == HTTP_SERVICE:
        names.update(GATEWAY_FIELDS)
    unknown = names - set(fields)
    assert not unknown, f"{service} settings have no field {sorted(unknown)}"
    return {variable(name) for name in names}


def secret_variables(service: str) -> set[str]:
    fields = settings_type(service).model_fields
    names = {name for name, field in fields.items() if _is_secret(field)}
    names.update(name for name in SECRET_FIELDS if name in fields)
    return {variable(name) for name in names}


def test_the_contract_names_real_settings() -> None:
    common = CommonSettings.model_fields
    assert set(DEPLOYMENT_FIELDS) <= set(common)
    gateway = required_variables(HTTP_SERVICE)
    assert {"APP_WEBHOOK_SECRETS", "APP_BOOTSTRAP_ADMIN_KEY", "APP_METRICS_PORT"} <= gateway
    assert "APP_SECRET_KEY" in required_variables("ingest")
    assert "APP_SECRET_KEY" not in required_variables("pricing")


def test_deploy_sets_what_each_service_reads(rendered: Rendered) -> None:
    for service in SERVICES:
        environment = rendered.environment(service)
        given = {name for name in environment if name.startswith("APP_")}
        missing = required_variables(service) - given
        assert not missing, f"{rendered.overlay} {service}: {sorted(missing)} not set"
        stray = given - variables_read(service)
        assert not stray, f"{rendered.overlay} {service}: {sorted(stray)} not read by it"
        for name in secret_variables(service):
            assert environment[name] == f"secret:{name}", (rendered.overlay, service, name)


def test_compose_sets_what_each_service_reads() -> None:
    compose = load_compose()
    for service in SERVICES:
        environment = service_environment(compose, service)
        given = {name for name in environment if name.startswith("APP_")}
        missing = required_variables(service) - given
        assert not missing, f"compose {service}: {sorted(missing)} not set"
        stray = given - variables_read(service)
        assert not stray, f"compose {service}: {sorted(stray)} not read by it"
        for name in secret_variables(service):
            assert REQUIRED_REFERENCE.search(environment[name]), (service, name)
