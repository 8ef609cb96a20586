"""Workers scale on JetStream consumer lag (KEDA), one trigger per durable consumer the code
registers; the gateway scales on CPU (HPA)."""

from __future__ import annotations

from urllib.parse import urlsplit

from relay_cli.services import HTTP_SERVICE
from tests.deploy.code_facts import WORKERS, durables
from tests.deploy.manifests import Rendered

#: A NATS server without accounts puts every client in the global account.
GLOBAL_ACCOUNT = "$G"
NATS_MONITORING_PORT = 8222


def test_each_worker_scales_on_the_lag_of_its_real_durables(rendered: Rendered) -> None:
    for worker in WORKERS:
        scaled = rendered.named("ScaledObject", f"relay-{worker}")
        assert scaled["apiVersion"] == "keda.sh/v1alpha1"
        assert scaled["spec"]["scaleTargetRef"] == {"name": f"relay-{worker}"}
        triggers = scaled["spec"]["triggers"]
        assert {t["type"] for t in triggers} == {"nats-jetstream"}, worker
        consumers = [t["metadata"]["consumer"] for t in triggers]
        assert sorted(consumers) == sorted(durables(worker)), worker


def test_triggers_read_the_stream_and_the_server_the_services_use(rendered: Rendered) -> None:
    for worker in WORKERS:
        scaled = rendered.named("ScaledObject", f"relay-{worker}")
        environment = rendered.environment(worker)
        nats_host = urlsplit(environment["APP_NATS_URL"]).hostname
        namespace = scaled["metadata"]["namespace"]
        for trigger in scaled["spec"]["triggers"]:
            metadata = trigger["metadata"]
            assert metadata["stream"] == environment["APP_NATS_STREAM"], worker
            assert metadata["account"] == GLOBAL_ACCOUNT, worker
            # KEDA's operator runs in its own namespace: the Service name must be qualified
            assert metadata["natsServerMonitoringEndpoint"] == (
                f"{nats_host}.{namespace}.svc.cluster.local:{NATS_MONITORING_PORT}"
            ), worker
            assert int(metadata["lagThreshold"]) >= 1, worker


def test_autoscaled_deployments_leave_the_replica_count_to_the_autoscaler(
    rendered: Rendered,
) -> None:
    for service in (HTTP_SERVICE, *WORKERS):
        spec = rendered.deployment(service)["spec"]
        if service == "sheets":  # one writer: pinned to 1 (test_pod_security)
            continue
        assert "replicas" not in spec, service


def test_the_gateway_scales_on_cpu(rendered: Rendered) -> None:
    hpa = rendered.named("HorizontalPodAutoscaler", "relay-gateway")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "relay-gateway",
    }
    (metric,) = hpa["spec"]["metrics"]
    assert metric["type"] == "Resource"
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"]["type"] == "Utilization"
    assert "cpu" in rendered.container(HTTP_SERVICE)["resources"]["requests"]
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    assert [s["metadata"]["name"] for s in rendered.of_kind("ScaledObject")].count(
        "relay-gateway"
    ) == 0
    assert len(rendered.of_kind("HorizontalPodAutoscaler")) == 1
