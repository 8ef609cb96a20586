"""Prometheus counters of the Google client (served on the sheets service's ``/metrics``, in
its :class:`~relay_shared.metrics.ServiceMetrics` registry):

- ``relay_google_requests_total{api,outcome}``: every attempt of a Google call, ``api``
  ``sheets`` or ``drive``, ``outcome`` one of :data:`OUTCOMES` (a retried call counts once
  per attempt: what Google's quotas count);
- ``relay_google_rate_limited_total{api}``: the 429 answers received;
- ``relay_google_calls_given_up_total{api}``: calls still failing after every attempt
  (the message is nak'ed: transient).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

OK = "ok"
RATE_LIMITED = "rate_limited"  # 429, or a 403 whose reason is a rate limit
SERVER_ERROR = "server_error"  # 5xx
REFUSED = "refused"  # any other 4xx (not found, permission denied, bad request)
TIMEOUT = "timeout"
NETWORK_ERROR = "network_error"
AUTH_ERROR = "auth_error"  # the service account's token could not be had
OUTCOMES = (OK, RATE_LIMITED, SERVER_ERROR, REFUSED, TIMEOUT, NETWORK_ERROR, AUTH_ERROR)


def outcome_of(status: int, rate_limit_reason: bool = False) -> str:
    """The outcome of an answer with HTTP ``status``."""
    if status < 400:
        return OK
    if status == 429 or (status == 403 and rate_limit_reason):
        return RATE_LIMITED
    return SERVER_ERROR if status >= 500 else REFUSED


class GoogleMetrics:
    """The counters, in ``registry`` (a private one when the service serves no metrics)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        registry = registry if registry is not None else CollectorRegistry()
        self.requests = Counter(
            "relay_google_requests",
            "Google API requests (every attempt), by API (sheets, drive) and outcome",
            ["api", "outcome"],
            registry=registry,
        )
        self.rate_limited = Counter(
            "relay_google_rate_limited",
            "429 (quota exceeded) answers received from Google, by API",
            ["api"],
            registry=registry,
        )
        self.given_up = Counter(
            "relay_google_calls_given_up",
            "Google calls still failing after every attempt (nak'ed as transient), by API",
            ["api"],
            registry=registry,
        )

    def answered(self, api: str, status: int, rate_limit_reason: bool = False) -> None:
        self.requests.labels(api, outcome_of(status, rate_limit_reason)).inc()
        if status == 429:
            self.rate_limited.labels(api).inc()

    def failed(self, api: str, outcome: str) -> None:
        """An attempt that got no answer (``TIMEOUT``, ``NETWORK_ERROR``, ``AUTH_ERROR``)."""
        self.requests.labels(api, outcome).inc()

    def gave_up(self, api: str) -> None:
        self.given_up.labels(api).inc()
