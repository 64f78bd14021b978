"""Truth events say what each SDK step collected or sent, about whom: every item names its field, its
value and the population id of its subject ("?" for a subject the population does not hold)."""

from __future__ import annotations

import pytest

from testbed.population import build_population
from testbed.steps import (
    Clock,
    Host,
    Leak,
    Probe,
    ProbedHost,
    SeenNetwork,
    Sweep,
    Upload,
    UploadResult,
    WifiScan,
)
from testbed.truth import TruthRecorder
from tests.helpers import small

T0 = 1_619_107_200_000_000  # epoch microseconds


@pytest.fixture(scope="module")
def household():
    return build_population(small(**{"households.count": 1})).households[0]


def _event(household, step, result, flow_ids=(), frames=0) -> dict:
    tv = household.tvs[0]
    return TruthRecorder(household).event(tv, 7, step, result, T0, T0 + 1_500_000, list(flow_ids), frames)


def test_a_sweep_names_each_host_by_its_population_id(household):
    phone, stranger = household.devices[0], Host("192.168.1.250", "02:00:00:00:00:99")
    event = _event(household, Sweep(household.subnet), [Host(phone.ip, phone.mac), stranger],
                   ["1:b", "", "1:a", "1:b"], 12)
    tv = household.tvs[0]
    assert event["id"] == f"{tv.id}-c0007-sweep" and event["kind"] == "sweep" and event["cycle"] == 7
    assert (event["household"], event["tv"], event["consent"]) == (household.id, tv.id, tv.consent)
    assert (event["start"], event["end"]) == (T0 / 1e6, T0 / 1e6 + 1.5)
    assert event["flows"] == ["1:a", "1:b"] and event["frames"] == 12  # sorted, once each, no empty id
    assert event["transport"] is event["encoding"] is event["dst"] is None and "status" not in event
    assert event["items"] == [
        {"field": "ip", "value": phone.ip, "subject": phone.id},
        {"field": "mac", "value": phone.mac, "subject": phone.id},
        {"field": "ip", "value": stranger.ip, "subject": "?"},
        {"field": "mac", "value": stranger.mac, "subject": "?"},
    ]


def test_a_probe_gives_rounded_latencies_and_the_names_it_learnt(household):
    a, b = household.devices[0], household.router
    result = [ProbedHost(a.ip, a.mac, 3.14159, "Johns-iPhone"), ProbedHost(b.ip, b.mac, None, None),
              ProbedHost(b.ip, b.mac, 1.0, "")]
    assert _event(household, Probe((Host(a.ip, a.mac),)), result)["items"] == [
        {"field": "rtt", "value": 3.14, "subject": a.id},
        {"field": "hostname", "value": "Johns-iPhone", "subject": a.id},
        {"field": "rtt", "value": 1.0, "subject": b.id},  # no name: no hostname item
    ]


def test_a_wifi_scan_names_each_network(household):
    net = household.wifi[0]
    result = [SeenNetwork(net.ssid, net.bssid, 6, -60), SeenNetwork("", "02:11:22:33:44:55", 1, -90)]
    assert _event(household, WifiScan(), result)["items"] == [
        {"field": "ssid", "value": net.ssid, "subject": net.id},
        {"field": "bssid", "value": net.bssid, "subject": net.id},
        {"field": "ssid", "value": "", "subject": "?"},
        {"field": "bssid", "value": "02:11:22:33:44:55", "subject": "?"},
    ]


def test_an_upload_lists_its_leaks_with_the_plain_value_behind_a_hash(household):
    phone = household.devices[0]
    leaks = (Leak("ip", phone.ip, phone.mac), Leak("mac", "ab" * 32, phone.mac, plain=phone.mac),
             Leak("rtt", 2.5, "02:00:00:00:00:99"))
    step = Upload("gz-data.com", 443, "/r", b"{}", transport="tls", attempt=2, encoding="gzip+aes", leaks=leaks)
    event = _event(household, step, UploadResult(200, "203.0.113.10", 900, 120), ["1:x"], 14)
    assert event["id"].endswith("-c0007-upload-r1") and event["kind"] == "upload"
    assert (event["transport"], event["encoding"], event["attempt"]) == ("tls", "gzip+aes", 2)
    assert event["dst"] == {"domain": "gz-data.com", "ip": "203.0.113.10", "port": 443}
    assert (event["status"], event["delivered"], event["request_bytes"]) == (200, True, 900)
    assert event["items"] == [
        {"field": "ip", "value": phone.ip, "subject": phone.id},
        {"field": "mac", "value": "ab" * 32, "subject": phone.id, "form": "sha256", "plain": phone.mac},
        {"field": "rtt", "value": 2.5, "subject": "?"},
    ]


def test_only_sdk_steps_are_events(household):
    recorder = TruthRecorder(household)
    assert recorder.label(household.tvs[0], 1, Clock()) is None
    assert recorder.label(household.tvs[0], 1, WifiScan()) == f"{household.tvs[0].id}-c0001-wifi_scan"
