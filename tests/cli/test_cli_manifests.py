"""docker-compose.yml and deploy/ run every service as ``relay serve <name>`` with its APP_*."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from relay_cli.services import SERVICES

ROOT = Path(__file__).resolve().parents[2]
REQUIRED_ENV = {
    "APP_NATS_URL",
    "APP_DATABASE_URL",
    "APP_S3_ENDPOINT_URL",
    "APP_S3_BUCKET",
    "APP_S3_REGION",
    "APP_S3_ACCESS_KEY_ID",
    "APP_S3_SECRET_ACCESS_KEY",
    "APP_SECRET_KEY",
}


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def _k8s_documents() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted((ROOT / "deploy").glob("*.yaml")):
        docs.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    return docs


@pytest.mark.parametrize("name", SERVICES)
def test_compose_runs_each_service_with_its_env(name: str) -> None:
    service = _compose()["services"][name]
    assert service["command"] == ["relay", "serve", name]
    assert service["build"]["dockerfile"] == "Dockerfile"
    env = service["environment"]
    assert set(env) >= REQUIRED_ENV
    assert env["APP_NATS_URL"] == "nats://nats:4222"
    assert env["APP_S3_ENDPOINT_URL"] == "http://minio:9000"
    assert env["APP_DATABASE_URL"].endswith("@postgres:5432/relay")
    assert set(service["depends_on"]) == {"nats", "postgres", "minio-init"}


def test_compose_infrastructure() -> None:
    services = _compose()["services"]
    assert "-js" in services["nats"]["command"]
    assert any(v.endswith(":/data") for v in services["nats"]["volumes"])
    assert services["postgres"]["environment"]["POSTGRES_DB"] == "relay"
    assert "mc mb --ignore-existing relay/relay" in services["minio-init"]["command"][0]
    assert services["gateway"]["environment"]["APP_HTTP_PORT"] == "8080"
    assert set(services) == {*SERVICES, "nats", "postgres", "minio", "minio-init"}


def _deployments(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == "Deployment"]


def _env_from(container: dict[str, Any], docs: list[dict[str, Any]]) -> set[str]:
    names = {e["name"] for e in container.get("env", [])}
    by_name = {(d["kind"], d["metadata"]["name"]): d for d in docs if "metadata" in d}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            names |= set(by_name["ConfigMap", source["configMapRef"]["name"]]["data"])
        if "secretRef" in source:
            secret = by_name["Secret", source["secretRef"]["name"]]
            names |= set(secret.get("stringData", {})) | set(secret.get("data", {}))
    return names


@pytest.mark.parametrize("name", SERVICES)
def test_kubernetes_deployment_per_service(name: str) -> None:
    docs = _k8s_documents()
    deployments = [d for d in _deployments(docs) if d["metadata"]["name"] == f"relay-{name}"]
    assert len(deployments) == 1
    pod = deployments[0]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["command"] == ["relay", "serve", name]
    assert _env_from(container, docs) >= REQUIRED_ENV


def test_kubernetes_gateway_service_and_probe() -> None:
    docs = _k8s_documents()
    [service] = [d for d in docs if d["kind"] == "Service"]
    assert service["spec"]["selector"] == {"app.kubernetes.io/name": "relay-gateway"}
    [gateway] = [d for d in _deployments(docs) if d["metadata"]["name"] == "relay-gateway"]
    [container] = gateway["spec"]["template"]["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/v1/ready"
    assert {"name": "APP_HTTP_PORT", "value": "8080"} in container["env"]


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((ROOT / "deploy" / "kustomization.yaml").read_text())
    files = {p.name for p in (ROOT / "deploy").glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files
