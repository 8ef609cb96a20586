"""Every document each overlay renders satisfies the Kubernetes (strict) or KEDA schema, and a
wrong field or type is caught: the validation is proved to bite."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from relay_cli.services import HTTP_SERVICE, SERVICES
from tests.deploy.code_facts import WORKERS
from tests.deploy.manifests import DEPLOY, Document, ManifestError, Rendered, render, validate


def test_every_rendered_document_matches_its_schema(rendered: Rendered) -> None:
    for doc in rendered.documents:
        validate(doc)
    assert {doc["kind"] for doc in rendered.documents} == {
        "Namespace",
        "ConfigMap",
        "Deployment",
        "Service",
        "Ingress",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "ScaledObject",
        "PersistentVolumeClaim",
    }


def test_every_service_has_its_objects(rendered: Rendered) -> None:
    for service in SERVICES:
        assert rendered.deployment(service)["spec"]["template"]["spec"]["containers"]
        rendered.named("PodDisruptionBudget", f"relay-{service}")
    for worker in WORKERS:
        rendered.named("ScaledObject", f"relay-{worker}")
    for kind in ("Service", "Ingress", "HorizontalPodAutoscaler"):
        rendered.named(kind, f"relay-{HTTP_SERVICE}")
    rendered.named("PersistentVolumeClaim", "relay-sheets-state")
    assert len(rendered.of_kind("Namespace")) == 1
    assert rendered.of_kind("Secret") == [], "the Secret's values are never shipped"


def test_everything_lives_in_the_namespace(rendered: Rendered) -> None:
    (namespace,) = rendered.of_kind("Namespace")
    for doc in rendered.documents:
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == namespace["metadata"]["name"], doc["kind"]


def _set(path: tuple[str | int, ...], value: object) -> Callable[[Document], None]:
    def mutate(doc: Document) -> None:
        target: Any = doc
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return mutate


_CONTAINER = ("spec", "template", "spec", "containers", 0)

MUTATIONS = [
    # (kind, name, mutation, what the error names)
    ("Deployment", "relay-pricing", _set((*_CONTAINER, "livenesProbe"), {}), "livenesProbe"),
    (
        "Deployment",
        "relay-normalize",
        _set((*_CONTAINER, "resources", "limits", "memory"), ["2Gi"]),
        "memory",
    ),
    ("Deployment", "relay-gateway", _set(("spec", "replicas"), "two"), "replicas"),
    (
        "Deployment",
        "relay-sheets",
        _set((*_CONTAINER, "securityContext", "readOnlyRootFs"), True),
        "readOnlyRootFs",
    ),
    ("HorizontalPodAutoscaler", "relay-gateway", _set(("spec", "minReplicas"), "3"), "minReplicas"),
    ("Ingress", "relay-gateway", _set(("spec", "rules", 0, "hostname"), "x"), "hostname"),
    ("ScaledObject", "relay-ingest", _set(("spec", "triggerz"), []), "triggerz"),
    ("ScaledObject", "relay-pricing", _set(("spec", "maxReplicaCount"), "many"), "maxReplicaCount"),
    (
        "ScaledObject",
        "relay-insights",
        _set(("spec", "triggers", 0, "metadata", "lagThreshold"), 50),
        "lagThreshold",
    ),
    ("ScaledObject", "relay-channels", _set(("spec", "scaleTargetRef", "nam"), "x"), "nam"),
]


@pytest.mark.parametrize(
    ("kind", "name", "mutate", "named"),
    MUTATIONS,
    ids=[f"{kind}-{named}" for kind, _, _, named in MUTATIONS],
)
def test_a_wrong_field_or_type_is_rejected(
    rendered: Rendered,
    kind: str,
    name: str,
    mutate: Callable[[Document], None],
    named: str,
) -> None:
    doc = copy.deepcopy(rendered.named(kind, name))
    validate(doc)  # valid as rendered
    mutate(doc)
    with pytest.raises(ManifestError, match=named):
        validate(doc)


def test_an_overlay_that_does_not_build_fails(tmp_path: Path) -> None:
    overlay = tmp_path / "broken"
    overlay.mkdir()
    base = os.path.relpath(DEPLOY / "base", overlay)
    (overlay / "kustomization.yaml").write_text(
        f"resources:\n  - {base}\n  - missing.yaml\n", encoding="utf-8"
    )
    with pytest.raises(ManifestError, match=r"missing\.yaml"):
        render(overlay)
