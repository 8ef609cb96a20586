"""Every pod meets the restricted Pod Security profile, writes only to its volumes, has
requests and limits (normalize and pricing sized for a feed), and a disruption budget."""

from __future__ import annotations

from relay_cli.services import SERVICES
from relay_normalize.settings import NormalizeSettings
from tests.deploy.manifests import Rendered
from tests.deploy.quantities import quantity

#: normalize's resting memory besides one feed's (relay_normalize.settings: "about 0.2 GB").
RESTING_BYTES = 0.2e9
#: The catalogue-shaped 5M-row bench (tests/bench/bench_engine.py --scale 5 --shape real) peaked
#: at 2.6 GB in one local-run process, normalize and pricing together (the easy shape: 1.9 GB).
BENCH_PEAK_BYTES = 2.6e9
#: The margin a limit keeps above that peak (deploy/README.md: about 1 GB).
BENCH_MARGIN = 1.3


def test_the_namespace_enforces_the_restricted_profile(rendered: Rendered) -> None:
    (namespace,) = rendered.of_kind("Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_every_pod_runs_restricted(rendered: Rendered) -> None:
    for service in SERVICES:
        pod = rendered.deployment(service)["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, service
        assert pod["securityContext"]["runAsUser"] != 0, service
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, service
        assert pod["automountServiceAccountToken"] is False, service
        assert not any("hostPath" in volume for volume in pod["volumes"]), service
        for key in ("hostNetwork", "hostPID", "hostIPC"):
            assert not pod.get(key), (service, key)
        container = rendered.container(service)
        context = container["securityContext"]
        assert context["runAsNonRoot"] is True, service
        assert context["allowPrivilegeEscalation"] is False, service
        assert context["readOnlyRootFilesystem"] is True, service
        assert context["capabilities"] == {"drop": ["ALL"]}, service
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}, service
        assert "privileged" not in context, service


def test_tmp_and_the_state_dir_are_the_only_writable_places(rendered: Rendered) -> None:
    for service in SERVICES:
        pod = rendered.deployment(service)["spec"]["template"]["spec"]
        volumes = {volume["name"]: volume for volume in pod["volumes"]}
        mounts = {m["mountPath"]: m["name"] for m in rendered.container(service)["volumeMounts"]}
        state_dir = rendered.environment(service)["APP_STATE_DIR"]
        assert set(mounts) == {"/tmp", state_dir}, service
        assert "emptyDir" in volumes[mounts["/tmp"]], service
        assert quantity(volumes[mounts["/tmp"]]["emptyDir"]["sizeLimit"]) >= 2**30, service
        state = volumes[mounts[state_dir]]
        if service == "sheets":
            assert state["persistentVolumeClaim"] == {"claimName": "relay-sheets-state"}
        else:
            assert state == {"name": mounts[state_dir], "emptyDir": {}}, service


def test_every_container_has_requests_and_a_memory_limit(rendered: Rendered) -> None:
    for service in SERVICES:
        resources = rendered.container(service)["resources"]
        assert quantity(resources["requests"]["cpu"]) > 0, service
        request = quantity(resources["requests"]["memory"])
        limit = quantity(resources["limits"]["memory"])
        assert 0 < request <= limit, service


def test_normalize_and_pricing_fit_the_benchmarked_feed(rendered: Rendered) -> None:
    settings = NormalizeSettings()
    one_feed = settings.normalize_max_feed_memory_bytes
    for service in ("normalize", "pricing"):
        limit = quantity(rendered.container(service)["resources"]["limits"]["memory"])
        assert limit >= BENCH_PEAK_BYTES * BENCH_MARGIN, service
        assert limit >= one_feed + RESTING_BYTES, service
    normalize = quantity(rendered.container("normalize")["resources"]["limits"]["memory"])
    assert normalize >= settings.normalize_workers * one_feed + RESTING_BYTES
    normalize_tmp = next(
        volume["emptyDir"]["sizeLimit"]
        for volume in rendered.deployment("normalize")["spec"]["template"]["spec"]["volumes"]
        if volume["name"] == "tmp"
    )
    staged = NormalizeSettings().normalize_max_decoded_bytes
    assert quantity(normalize_tmp) >= 2 * staged  # the feed and its decoded copy


def test_every_deployment_has_a_disruption_budget_selecting_its_pods(rendered: Rendered) -> None:
    for service in SERVICES:
        deployment = rendered.deployment(service)
        budget = rendered.named("PodDisruptionBudget", f"relay-{service}")
        assert budget["spec"]["selector"] == deployment["spec"]["selector"], service
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items(), service
        # never a budget that blocks every drain of a single replica
        assert budget["spec"].get("maxUnavailable") == 1 or (
            budget["spec"]["minAvailable"] < _least_replicas(rendered, service)
        ), service


def _least_replicas(rendered: Rendered, service: str) -> int:
    if service == "gateway":
        minimum: int = rendered.named("HorizontalPodAutoscaler", "relay-gateway")["spec"][
            "minReplicas"
        ]
        return minimum
    scaled: int = rendered.named("ScaledObject", f"relay-{service}")["spec"]["minReplicaCount"]
    return scaled


def test_sheets_has_one_writer_on_a_persistent_volume(rendered: Rendered) -> None:
    deployment = rendered.deployment("sheets")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    claim = rendered.named("PersistentVolumeClaim", "relay-sheets-state")
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    scaled = rendered.named("ScaledObject", "relay-sheets")["spec"]
    assert scaled["minReplicaCount"] == scaled["maxReplicaCount"] == 1
