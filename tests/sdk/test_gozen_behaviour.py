"""The gozen profile as a behaviour: the order of its steps, what its report holds, consent, retries."""

from __future__ import annotations

import json
import random

import pytest

from collector_mock.codec import decode
from testbed.population.model import Device, Tv
from testbed.sdk import SdkContext, gozen
from testbed.steps import (
    BeginCycle,
    Host,
    Probe,
    ProbedHost,
    SeenNetwork,
    Sleep,
    Sweep,
    Upload,
    UploadResult,
    WifiScan,
)

OPTIONS = {
    "profile": "gozen", "consent": "not_asked", "interval": 600.0, "jitter": 30.0, "first_delay": 120.0,
    "encoding": "gzip+aes", "transport": "http", "aes_key": "gozen-demo-key-1", "retries": 2,
    "collector": {"domain": "gz-data.com", "ip": "203.0.113.7", "port": 80, "path": "/api/v1/report"},
}


def _tv(consent: str = "not_asked", **opts) -> Tv:
    dev = Device("h0001-tv1", "tv", "Skyworth", "55Q71", "android", "Skyworth-55Q71", "ac:4a:fe:00:00:01",
                 "192.168.1.50", "wifi", 5.0, 2.0)
    return Tv("h0001-tv1", dev, "gozen", consent, {**OPTIONS, **opts})


def _ctx(tv: Tv) -> SdkContext:
    return SdkContext(tv, "h0001", "192.168.1.0/24", random.Random(1))


HOSTS = [Host("192.168.1.1", "50:bd:5f:00:00:01"), Host("192.168.1.23", "3c:22:fb:11:22:33")]
PROBED = [ProbedHost("192.168.1.1", "50:bd:5f:00:00:01", 0.8, None),
          ProbedHost("192.168.1.23", "3c:22:fb:11:22:33", 6.1, "Johns-iPhone")]
WIFI = [SeenNetwork("ChinaNet-xK9d", "c8:3a:35:00:00:07", 6, -67)]


def _run_cycle(gen, upload_status=200):
    """Feed one cycle's results; return the steps seen and the first Upload."""
    steps = [next(gen)]
    assert isinstance(steps[0], Sleep)
    steps.append(gen.send(None))
    assert isinstance(steps[-1], BeginCycle)
    steps.append(gen.send(1619107200.0))
    assert isinstance(steps[-1], Sweep) and steps[-1].subnet == "192.168.1.0/24"
    steps.append(gen.send(HOSTS))
    assert isinstance(steps[-1], Probe) and steps[-1].targets == tuple(HOSTS)
    steps.append(gen.send(PROBED))
    assert isinstance(steps[-1], WifiScan)
    steps.append(gen.send(WIFI))
    assert isinstance(steps[-1], Upload)
    return steps


def test_cycle_order_and_report_contents():
    gen = gozen(_ctx(_tv()))
    upload = _run_cycle(gen)[-1]
    assert (upload.domain, upload.port, upload.path, upload.encoding) == ("gz-data.com", 80, "/api/v1/report", "gzip+aes")
    report = json.loads(decode(upload.body, "gzip+aes", key=b"gozen-demo-key-1"))
    assert report["tv"]["id"] == "h0001-tv1" and report["tv"]["home"] == "h0001"
    assert report["consent"] == "not_asked" and report["cycle"] == 1
    assert [h["hostname"] for h in report["hosts"]] == [None, "Johns-iPhone"]
    assert report["wifi"] == [{"ssid": "ChinaNet-xK9d", "bssid": "c8:3a:35:00:00:07", "rssi": -67, "channel": 6}]
    leaks = {(leak.field, leak.value) for leak in upload.leaks}
    assert ("hostname", "Johns-iPhone") in leaks and ("mac", "3c:22:fb:11:22:33") in leaks
    assert ("ssid", "ChinaNet-xK9d") in leaks and ("rtt", 6.1) in leaks
    # Only what is in the body is claimed as leaked: no hostname for the router, which gave none.
    assert ("hostname", None) not in leaks
    nxt = gen.send(UploadResult(200, "203.0.113.7"))
    assert isinstance(nxt, Sleep) and 570 <= nxt.seconds <= 630


def test_opted_out_sends_nothing():
    assert list(gozen(_ctx(_tv("opted_out")))) == []


def test_optout_ignored_still_uploads_and_claims_the_setting():
    upload = _run_cycle(gozen(_ctx(_tv("optout_ignored", encoding="json"))))[-1]
    assert json.loads(upload.body)["consent"] == "opted_out"


def test_failed_upload_is_retried_with_backoff_then_given_up():
    gen = gozen(_ctx(_tv(retries=2)))
    first = _run_cycle(gen)[-1]
    waits = []
    step = gen.send(UploadResult(0, None, error="refused"))
    attempts = [first.attempt]
    while isinstance(step, Sleep | Upload):
        if isinstance(step, Upload):
            attempts.append(step.attempt)
            assert step.body == first.body  # the same report, re-sent
            step = gen.send(UploadResult(0, None, error="refused"))
        else:
            waits.append(step.seconds)
            step = gen.send(None)
            if isinstance(step, BeginCycle):
                break
    assert attempts == [1, 2, 3]
    assert waits[0] < waits[1]  # back-off grows
    assert isinstance(step, BeginCycle) and step.number == 2


@pytest.mark.parametrize("encoding", ["json", "gzip", "base64", "aes", "gzip+aes", "gzip+base64"])
def test_every_encoding_decodes_back(encoding):
    upload = _run_cycle(gozen(_ctx(_tv(encoding=encoding))))[-1]
    assert json.loads(decode(upload.body, encoding, key=b"gozen-demo-key-1"))["schema"] == "gozen/1"
