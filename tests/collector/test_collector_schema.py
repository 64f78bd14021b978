"""The report schema: what is accepted, and errors that name the field path."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from collector_mock.schema import CONSENT_STATES, error_paths, parse_report

MakeReport = Callable[..., dict[str, Any]]


def _paths(report: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as info:
        parse_report(json.dumps(report).encode())
    return [f"{e['loc']}: {e['msg']}" for e in error_paths(info.value)]


def test_sample_report_parses(make_report: MakeReport) -> None:
    report = parse_report(json.dumps(make_report()).encode())
    assert report.schema_ == "gozen/1"
    assert report.tv.home == "h0003"
    assert len(report.hosts) == 12 and len(report.wifi) == 10
    assert report.hosts[3].hostname is None and report.hosts[4].rtt_ms is None


def test_empty_lists_and_consent_states(make_report: MakeReport) -> None:
    for consent in CONSENT_STATES:
        report = parse_report(json.dumps(make_report(hosts=[], wifi=[], consent=consent)).encode())
        assert report.hosts == [] and report.wifi == []


def test_hashed_identifiers_are_accepted(make_report: MakeReport) -> None:
    digest = hashlib.sha256(b"3c:22:fb:11:22:33").hexdigest()
    report = make_report()
    report["hosts"][0]["mac"] = digest
    report["wifi"][0]["bssid"] = digest
    parsed = parse_report(json.dumps(report).encode())
    assert parsed.hosts[0].mac == digest and parsed.wifi[0].bssid == digest


def test_unknown_sdk_keys_are_tolerated(make_report: MakeReport) -> None:
    report = make_report(sdk={"name": "gozen", "version": "2.3.7", "build": 1234, "channel": "oem"})
    assert parse_report(json.dumps(report).encode()).sdk.name == "gozen"


def test_hostile_ssid_is_kept_verbatim(make_report: MakeReport) -> None:
    report = make_report()
    report["wifi"][0]["ssid"] = "<script>alert(1)</script>"
    report["wifi"][1]["ssid"] = "咖啡店 🍵"
    parsed = parse_report(json.dumps(report).encode())
    assert parsed.wifi[0].ssid == "<script>alert(1)</script>"
    assert parsed.wifi[1].ssid == "咖啡店 🍵"


def test_missing_field_names_its_path(make_report: MakeReport) -> None:
    report = make_report()
    del report["hosts"][3]["mac"]
    assert _paths(report) == ["hosts.3.mac: field required"]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda r: r.update(extra=1), "extra: extra inputs are not permitted"),
        (lambda r: r.update(schema="gozen/2"), "schema: input should be 'gozen/1'"),
        (lambda r: r.update(cycle="12"), "cycle: input should be a valid integer"),
        (lambda r: r.update(cycle=-1), "cycle: input should be greater than or equal to 0"),
        (lambda r: r.update(consent="maybe"), "consent: input should be"),
        (lambda r: r["tv"].pop("home"), "tv.home: field required"),
        (lambda r: r["tv"].update(ip="999.1.1.1"), "tv.ip: value error"),
        (lambda r: r["hosts"][0].update(mac="x" * 129), "hosts.0.mac: string should have at most 128"),
        (
            lambda r: r["hosts"][1].update(rtt_ms=-1),
            "hosts.1.rtt_ms: input should be greater than or equal to 0",
        ),
        (lambda r: r["hosts"][2].update(vendor="Apple"), "hosts.2.vendor: extra inputs are not permitted"),
        (lambda r: r["wifi"][5].update(ssid="s" * 65), "wifi.5.ssid: string should have at most 64"),
        (
            lambda r: r["wifi"][0].update(channel=0),
            "wifi.0.channel: input should be greater than or equal to 1",
        ),
        (lambda r: r["wifi"][0].update(rssi=-67.5), "wifi.0.rssi: input should be a valid integer"),
    ],
)
def test_violations_name_the_field(make_report: MakeReport, mutate: Callable, expected: str) -> None:
    report = make_report()
    mutate(report)
    paths = _paths(report)
    assert len(paths) == 1 and paths[0].startswith(expected), paths


def test_not_an_object() -> None:
    with pytest.raises(ValidationError) as info:
        parse_report(b"[1, 2]")
    assert error_paths(info.value)[0]["loc"] == "report"


@pytest.mark.parametrize(
    ("ip", "valid"),
    [
        ("192.168.1.23", True),
        ("0.0.0.0", True),
        ("255.255.255.255", True),
        ("fe80::1c2a:3bff:fe4d:5e6f", True),
        ("::1", True),
        ("256.1.1.1", False),
        ("01.2.3.4", False),  # ipaddress refuses leading zeros (octal ambiguity)
        ("1.2.3", False),
        ("1.2.3.4 ", False),
        ("١.2.3.4", False),  # Arabic-Indic digits are digits to Unicode, not to ipaddress
        ("", False),
    ],
)
def test_ip_validation_matches_ipaddress(make_report: MakeReport, ip: str, valid: bool) -> None:
    report = make_report()
    report["hosts"][0]["ip"] = ip
    if valid:
        assert parse_report(json.dumps(report).encode()).hosts[0].ip == ip
    else:
        assert _paths(report)[0].startswith("hosts.0.ip: value error")
