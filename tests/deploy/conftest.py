"""Each overlay rendered once per session (offline: no cluster, no Docker)."""

from __future__ import annotations

import pytest

from tests.deploy.manifests import DEPLOY, OVERLAYS, Rendered, render


@pytest.fixture(scope="session", params=OVERLAYS)
def rendered(request: pytest.FixtureRequest) -> Rendered:
    overlay: str = request.param
    return Rendered(overlay, render(DEPLOY / "overlays" / overlay))
