"""Probes hit routes the services really serve, on the ports their settings bind."""

from __future__ import annotations

from relay_cli.services import HTTP_SERVICE
from tests.deploy.code_facts import WORKERS, gateway_routes, worker_routes
from tests.deploy.manifests import Document, Rendered


def _probe(container: Document, kind: str) -> tuple[str, int]:
    """The probe's path and the container port number it targets."""
    action = container[kind]["httpGet"]
    port = action["port"]
    if isinstance(port, str):
        (port,) = [p["containerPort"] for p in container["ports"] if p["name"] == port]
    return action["path"], port


def test_worker_probes_use_healthz_and_readyz_on_the_metrics_port(rendered: Rendered) -> None:
    served = worker_routes()
    assert {"/healthz", "/readyz", "/metrics"} <= served
    for worker in WORKERS:
        container = rendered.container(worker)
        port = int(rendered.environment(worker)["APP_METRICS_PORT"])
        assert _probe(container, "livenessProbe") == ("/healthz", port), worker
        assert _probe(container, "startupProbe") == ("/healthz", port), worker
        assert _probe(container, "readinessProbe") == ("/readyz", port), worker
        annotations = rendered.deployment(worker)["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/port"] == str(port), worker


def test_gateway_probes_use_v1_health_and_v1_ready_on_its_http_port(rendered: Rendered) -> None:
    served = gateway_routes()
    assert {"/v1/health", "/v1/ready", "/metrics"} <= served
    container = rendered.container(HTTP_SERVICE)
    port = int(rendered.environment(HTTP_SERVICE)["APP_HTTP_PORT"])
    assert _probe(container, "livenessProbe") == ("/v1/health", port)
    assert _probe(container, "startupProbe") == ("/v1/health", port)
    assert _probe(container, "readinessProbe") == ("/v1/ready", port)


def test_the_gateway_is_reachable_through_its_service_and_ingress(rendered: Rendered) -> None:
    deployment = rendered.deployment(HTTP_SERVICE)
    service = rendered.named("Service", "relay-gateway")
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    (service_port,) = service["spec"]["ports"]
    http = [p for p in rendered.container(HTTP_SERVICE)["ports"] if p["name"] == "http"]
    assert service_port["targetPort"] == "http"
    assert len(http) == 1
    (rule,) = rendered.named("Ingress", "relay-gateway")["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    assert path["backend"]["service"] == {"name": "relay-gateway", "port": {"name": "http"}}
    expected_host = {"dev": "relay.dev.example.com", "prod": "relay.example.com"}
    assert rule["host"] == expected_host[rendered.overlay]
