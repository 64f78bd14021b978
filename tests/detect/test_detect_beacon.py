"""beacon: periodic uploads, and the honest false positive of first-party telemetry."""

from __future__ import annotations

from collections import Counter

from testbed.detect import make_detector
from testbed.detect.beacon import robust_cv

from .conftest import capture, events, tv_ips


def test_robust_cv():
    assert robust_cv([600.0] * 5) == 0.0
    assert robust_cv([600, 610, 590, 605, 3000]) < 0.05  # one missed cycle barely moves it
    assert robust_cv([100, 900, 300, 2000, 50]) > 0.5


def test_fires_on_sdk_uploads(plain_run):
    alerts = make_detector("beacon").detect(capture(plain_run))
    gz = [a for a in alerts if a.dst.get("domain") == "gz-data.com"]
    assert {a.src_ip for a in gz} == tv_ips(plain_run)
    uploads = events(plain_run, "upload")
    flows = {f for e in uploads for f in e["flows"]}
    assert all(a.community_id in flows for a in gz)
    # from the 7th upload on (6 intervals needed), every upload of every TV
    per_tv = Counter(e["tv"] for e in uploads)
    assert len(gz) >= sum(n - 6 for n in per_tv.values()) - 1
    assert all(a.score > 0.9 for a in gz)
    # the only other regular destination is the TV maker's own telemetry (a known false positive)
    assert {a.dst.get("domain") for a in alerts} <= {"gz-data.com", "log.tv.skyworthdigital.com"}


def test_min_count_trades_delay_for_fewer_alerts(plain_run):
    cap = capture(plain_run)
    assert len(make_detector("beacon,min_count=4").detect(cap)) > len(make_detector("beacon").detect(cap))
