"""The resource_url rule (pure): the host allow-list matches whole ASCII hosts with ASCII
digits only, the port is 443 or none, and nothing parsers disagree about gets through."""

from __future__ import annotations

import pytest

from relay_shared.shipstation_urls import (
    ResourceUrlRefusedError,
    check_resource_url,
    host_allowed,
    port_allowed,
)

DEFAULT_HOSTS = r"^ssapi\d*\.shipstation\.com$"


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("ssapi.shipstation.com", True),
        ("ssapi2.shipstation.com", True),
        ("ssapi123.shipstation.com", True),
        ("ssapi١٢٣.shipstation.com", False),  # Arabic-Indic digits
        ("ssapi۳.shipstation.com", False),  # Extended Arabic-Indic digit
        ("ssapi１.shipstation.com", False),  # fullwidth digit
        ("ssapi.shipstation.com\n", False),  # `$` alone would accept a trailing newline
        ("ssapi.shipstation.com.evil.example", False),
        ("evil.example", False),
        ("", False),
    ],
)
def test_the_host_allow_list_takes_ascii_digits_only(host: str, allowed: bool) -> None:
    assert host_allowed(host, DEFAULT_HOSTS) is allowed


def test_an_unanchored_pattern_still_matches_whole_hosts_only() -> None:
    assert host_allowed("ssapi.shipstation.com", r"ssapi\.shipstation\.com") is True
    assert host_allowed("ssapi.shipstation.com.evil.example", r"ssapi\.shipstation\.com") is False
    assert host_allowed("x.ssapi.shipstation.com", r"ssapi\.shipstation\.com") is False


def test_a_pattern_that_is_not_a_regex_allows_nothing() -> None:
    assert host_allowed("ssapi.shipstation.com", r"ssapi(") is False


@pytest.mark.parametrize(
    ("port", "allow_http", "allowed"),
    [
        (None, False, True),
        (443, False, True),
        (8443, False, False),
        (80, False, False),
        (0, False, False),
        (8443, True, True),  # a local fake (http allowed) listens on a free port
    ],
)
def test_the_port_is_443_or_none(port: int | None, allow_http: bool, allowed: bool) -> None:
    assert port_allowed(port, allow_http=allow_http) is allowed


@pytest.mark.parametrize(
    "url",
    [
        "https://ssapi.shipstation.com/shipments?batchId=1",
        "https://ssapi.shipstation.com:443/shipments?batchId=1",
        "https://ssapi12.shipstation.com/shipments",
        "https://SSAPI.ShipStation.com/shipments",
    ],
)
def test_shipstation_urls_are_taken(url: str) -> None:
    check_resource_url(url, DEFAULT_HOSTS, allow_http=False)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://ssapi١٢٣.shipstation.com/shipments", "ASCII"),
        ("https://ssapi%D9%A1.shipstation.com/shipments", "host"),
        ("https://ssapi.shipstation.com:8443/shipments", "port 8443"),
        ("https://ssapi.shipstation.com:80/shipments", "port 80"),
        ("https://ssapi.shipstation.com:0/shipments", "port 0"),
        ("https://ssapi.shipstation.com:99999/shipments", "invalid port"),
        ("https://ssapi.shipstation.com:abc/shipments", "invalid port"),
        ("http://ssapi.shipstation.com/shipments", "https"),
        ("https://user:pw@ssapi.shipstation.com/shipments", "credentials"),
        ("https://evil.example\\@ssapi.shipstation.com/", "ASCII"),
        ("https://ssapi.shipstation.com\\.evil.example/", "ASCII"),
        ("https://ssapi.shipstation.com\n.evil.example/", "ASCII"),
        ("https://ssapi.shipstation.com\t/x", "ASCII"),
        ("https://ssapi.shipstation.com /x", "ASCII"),
        ("https://ssapi.shipstation.com\x00/x", "ASCII"),
        ("https://ssapi.shipstation.com.evil.example/x", "host"),
    ],
)
def test_hostile_urls_are_refused(url: str, reason: str) -> None:
    with pytest.raises(ResourceUrlRefusedError, match=reason):
        check_resource_url(url, DEFAULT_HOSTS, allow_http=False)


def test_a_local_fake_may_use_http_on_any_port_only_when_allowed() -> None:
    url = "http://127.0.0.1:41234/shipments?batchId=1"
    check_resource_url(url, r"^127\.0\.0\.1$", allow_http=True)
    with pytest.raises(ResourceUrlRefusedError, match="https"):
        check_resource_url(url, r"^127\.0\.0\.1$", allow_http=False)
